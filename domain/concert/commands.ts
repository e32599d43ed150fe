import type { Sealed } from '../shared/personal-data.ts';
import type { BookingPersonalData, ReleaseReason } from './events.ts';

/** Every command carries the instant it was received: the domain never reads a clock. */
interface Timed {
  readonly now: string;
}

export interface TicketClassSpec {
  readonly ticket_class_id: string;
  readonly name: string;
  readonly price: number;
  readonly seat_count: number;
}

export interface ScheduleConcert extends Timed {
  readonly type: 'ScheduleConcert';
  readonly concert_id: string;
  readonly name: string;
  readonly artist: string;
  readonly date: string;
  readonly venue: string;
  readonly description: string | null;
  readonly image_url: string | null;
  readonly max_tickets_per_ktp: number | null;
  readonly sales_open_at: string | null;
  readonly sales_close_at: string | null;
  /** Bookings need a pass from the concert's waiting room (domain/queue). */
  readonly waiting_room?: boolean;
  readonly ticket_classes: readonly TicketClassSpec[];
  /** Put the concert on sale in the same decision (the admin API does). */
  readonly publish: boolean;
}

export interface PublishConcert extends Timed {
  readonly type: 'PublishConcert';
}

export type SeatSelection =
  | { readonly by: 'class'; readonly tickets: readonly { readonly ticket_class_id: string; readonly quantity: number }[] }
  | { readonly by: 'seat'; readonly seat_ids: readonly string[] };

export interface HoldSeats extends Timed {
  readonly type: 'HoldSeats';
  readonly booking_id: string;
  readonly user_id: string;
  readonly selection: SeatSelection;
  /** One per ticket, in the order the seats are chosen (a holder's, or the buyer's). */
  readonly ktp_fingerprints: readonly string[];
  /**
   * Sealed buyer and holders (one per ticket), or null when there are none to keep. A hold is
   * decided with its buyer: only its stored form may leave it out (storedWithItsBooking).
   */
  readonly personal_data: (BookingPersonalData & { readonly buyer: Sealed }) | null;
  readonly expires_at: string;
  /**
   * The caller knows this booking id never held seats here: a fresh random id, or one whose
   * booking stream it found missing. Needed once the concert has forgotten released holds
   * (HOLD_FORGOTTEN), for an id could be one of them.
   */
  readonly never_held?: boolean;
  /**
   * The booking pass (domain/queue) this hold is bought with, checked against the queue by the
   * caller; absent or null: none. A concert whose waiting room is on refuses a hold without one.
   */
  readonly pass_id?: string | null;
}

export interface ReleaseHold extends Timed {
  readonly type: 'ReleaseHold';
  readonly booking_id: string;
  readonly reason: Exclude<ReleaseReason, 'concert_cancelled'>;
}

export interface SellSeats extends Timed {
  readonly type: 'SellSeats';
  readonly booking_id: string;
  readonly transaction_id: string;
}

export interface CancelConcert extends Timed {
  readonly type: 'CancelConcert';
  readonly reason: string;
}

/** The buyer hands one ticket of a sold booking to someone else, before the concert starts. */
export interface TransferTicket extends Timed {
  readonly type: 'TransferTicket';
  readonly ticket_id: string;
  /** Who asks: only the buyer may transfer. */
  readonly user_id: string;
  readonly holder: Sealed;
  readonly ktp_fingerprint: string;
}

/** A scan at the door of a ticket at the revision its QR code was signed for. */
export interface AdmitTicket extends Timed {
  readonly type: 'AdmitTicket';
  readonly ticket_id: string;
  readonly revision: number;
  readonly gate: string;
  readonly scanned_at: string;
}

/**
 * The older system's sale of a held booking, taken over by `import:legacy`: the payment it
 * confirmed may have come after the hold's time, which the older system allowed. Still only the
 * booking's own held seats, once, and not on a cancelled concert.
 */
export interface ImportSale extends Timed {
  readonly type: 'ImportSale';
  readonly booking_id: string;
  readonly transaction_id: string;
}

/** The concert's editable details; null clears an optional one. */
export interface ConcertDetailChanges {
  readonly name?: string;
  readonly artist?: string;
  readonly date?: string;
  readonly venue?: string;
  readonly description?: string | null;
  readonly image_url?: string | null;
  readonly max_tickets_per_ktp?: number | null;
  readonly sales_open_at?: string | null;
  readonly sales_close_at?: string | null;
  readonly waiting_room?: boolean;
}

/** An admin's edit: only the given fields change; a field given with its current value changes nothing. */
export interface ChangeConcert extends Timed {
  readonly type: 'ChangeConcert';
  readonly changes: ConcertDetailChanges;
  /** New prices, for bookings made from now on. */
  readonly prices: readonly { readonly ticket_class_id: string; readonly price: number }[];
}

/**
 * A class by name: a new name adds a class (with `ticket_class_id`), an existing one grows to
 * `seat_count` seats in all (never fewer than it has; the same count changes nothing, so a
 * retried request is harmless) at its current price.
 */
export interface AddTicketClass extends Timed {
  readonly type: 'AddTicketClass';
  readonly ticket_class_id: string;
  readonly name: string;
  readonly price: number;
  readonly seat_count: number;
}

export type ConcertCommand =
  | ScheduleConcert
  | PublishConcert
  | HoldSeats
  | ReleaseHold
  | SellSeats
  | CancelConcert
  | TransferTicket
  | AdmitTicket
  | ChangeConcert
  | AddTicketClass
  | ImportSale;
