/**
 * Rows of every read-model table, one type each: the projectors write them, the query API reads
 * them. (migrations/001_read_models.ts holds the schema; these are its TypeScript shapes, column
 * for column.) Each type says what a row holds as the projectors write it: counts, money and
 * positions as numbers, flags as booleans. What the drivers hand back is `AsRead<Row>`.
 */

export type ConcertStatus = 'scheduled' | 'active' | 'cancelled';
export type SeatStatus = 'available' | 'reserved' | 'booked';
export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired' | 'failed' | 'refund_due';
export type RefundStatus = 'refund_due' | 'refunding' | 'refunded' | 'refund_failed';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | RefundStatus;
export type ProjectionStatus = 'live' | 'rebuilding' | 'swapping' | 'failed';

type ReadValue<T> = T extends number ? number | string : T extends boolean ? boolean | number : T;

/**
 * A row as knex returns it: MySQL may return BIGINT (and INT through some paths) as a string,
 * SQLite returns numbers, and both return BOOLEAN as 0/1. Readers convert with Number()/Boolean().
 */
export type AsRead<Row> = { [Column in keyof Row]: ReadValue<Row[Column]> };

/** A row of `projection_checkpoints` (read and written by read-models/checkpoints.ts alone). */
export interface ProjectionCheckpointRow {
  name: string;
  /** The last $all position applied (also of events the projection ignores). */
  position: number;
  status: ProjectionStatus;
  /** Increases at each swap: names the Redis key set of the tables in use. */
  generation: number;
  rebuilt_at: string | null;
  /** While a rebuild swaps: the position its shadow tables had reached. */
  swap_position: number | null;
  /** While rebuilding: when the rebuilder last showed it is alive (epoch ms). */
  heartbeat_at: number | null;
  last_error: string | null;
  /** When a rebuild was asked for and not yet taken by a projector (ISO instant), or null. */
  rebuild_requested_at: string | null;
}

/** A row of `users`. */
export interface UserRow {
  id: string;
  username: string;
  /** sha256 of the normalized address; null once forgotten. */
  email_hash: string | null;
  /** The sealed address (ciphertext); null once forgotten. */
  email: string | null;
  role: string;
  email_verified: boolean;
  created_at: string;
  last_login: string | null;
  position: number;
}

/** A row of `concerts`. */
export interface ConcertRow {
  id: string;
  name: string;
  artist: string;
  date: string;
  venue: string;
  description: string | null;
  image_url: string | null;
  status: ConcertStatus;
  max_tickets_per_ktp: number | null;
  total_seats: number;
  available_seats: number;
  created_at: string;
  /** When sales open (null: at once) and close (null: at the concert's date); migrations/005. */
  sales_open_at: string | null;
  sales_close_at: string | null;
  /** Bookings need a pass from the concert's waiting room; migrations/009. */
  waiting_room: boolean;
  /** Position of the last event that changed the concert or its seats (ETag, cache guard). */
  position: number;
}

/** A row of `ticket_classes`. */
export interface TicketClassRow {
  id: string;
  concert_id: string;
  name: string;
  price: number;
  total_seats_in_class: number;
  available_seats_in_class: number;
  sort_order: number;
}

/** A row of `seats`. */
export interface SeatRow {
  id: string;
  concert_id: string;
  ticket_class_id: string;
  seat_number: number;
  status: SeatStatus;
  booking_id: string | null;
}

/** A row of `bookings`. */
export interface BookingRow {
  id: string;
  user_id: string;
  concert_id: string;
  status: BookingStatus;
  total_price: number;
  expires_at: string;
  created_at: string;
  updated_at: string;
  payment_id: string | null;
  transaction_id: string | null;
  /** The keyed digest of the buyer's email (the back office's search); null once forgotten, or when the booking's events carry none. */
  buyer_email_digest: string | null;
  position: number;
}

/** A row of `booking_seats`. */
export interface BookingSeatRow {
  booking_id: string;
  seat_id: string;
  ticket_class_id: string;
  seat_number: number;
  price: number;
  seq: number;
}

/** A row of `buyers`. */
export interface BuyerRow {
  booking_id: string;
  user_id: string;
  /** Name, phone, email and KTP sealed with the buyer's key; null once forgotten. */
  personal_data: string | null;
}

/** A row of `ticket_holders`. */
export interface TicketHolderRow {
  booking_id: string;
  seq: number;
  seat_id: string;
  /** Name and KTP sealed with the buyer's key; null once forgotten. */
  personal_data: string | null;
}

/** A row of `payments`. */
export interface PaymentRow {
  id: string;
  booking_id: string;
  user_id: string;
  transaction_id: string;
  amount: number;
  payment_method: string;
  status: PaymentStatus;
  checkout_url: string;
  created_at: string;
  updated_at: string;
  position: number;
  /** Null while nothing is owed back. */
  refund_status: RefundStatus | null;
  /** Why the money is owed back. */
  refund_reason: string | null;
  /** The gateway's reason when it refused the last attempt. */
  refund_failure: string | null;
  refund_updated_at: string | null;
  refunded_at: string | null;
}

export type TicketStatus = 'valid' | 'admitted' | 'void';

/** A row of `tickets`: one per sold seat (its id is the seat's). */
export interface TicketRow {
  id: string;
  booking_id: string;
  concert_id: string;
  /** The buyer. */
  user_id: string;
  ticket_class_id: string;
  seat_number: number;
  /** The seat's place in its booking. */
  seq: number;
  /** 1 at the sale, one more per transfer. */
  revision: number;
  /** The current holder's name and KTP sealed with the buyer's key; null once forgotten (or never given). */
  holder: string | null;
  status: TicketStatus;
  admitted_at: string | null;
  gate: string | null;
  position: number;
}

/** A row of `ticket_holds`: a hold not yet sold, what its sale makes tickets of. */
export interface TicketHoldRow {
  booking_id: string;
  concert_id: string;
  user_id: string;
  /** JSON: the held seats in seat order, each with seat_id, ticket_class_id and seat_number. */
  seats: string;
  /** JSON of the sealed holders (sealed text), in seat order; null when none were given, or once forgotten. */
  holders: string | null;
}

/** A row of `ticket_admissions`: tickets admitted at one gate for one class. */
export interface TicketAdmissionRow {
  concert_id: string;
  ticket_class_id: string;
  gate: string;
  admitted: number;
}

export type LegacyIdKind = 'user' | 'concert' | 'ticket_class' | 'seat' | 'payment';

/** A row of `legacy_ids`: the older system's integer for one object (seats: only those numbered one by one). */
export interface LegacyIdRow {
  kind: LegacyIdKind;
  id: string;
  legacy_id: number;
  origin: 'native' | 'imported';
  /** An imported seat's old label ("VIP-12"), shown as its `seat_number` on the legacy surface; null otherwise. */
  label: string | null;
}

/** A row of `legacy_seat_ranges`: seat n of the class is number base + n - 1 (unless it has a row of its own). */
export interface LegacySeatRangeRow {
  ticket_class_id: string;
  concert_id: string;
  base: number;
  seat_count: number;
}

/** A row of `legacy_id_high`: the highest number given to a kind so far. */
export interface LegacyIdHighRow {
  kind: LegacyIdKind;
  high: number;
}

/** A row of `legacy_id_refusals`: an imported number not taken, and why. */
export interface LegacyIdRefusalRow {
  position: number;
  kind: LegacyIdKind;
  legacy_id: number;
  id: string;
  reason: 'number_taken' | 'already_numbered';
  holder: string | null;
  refused_at: string;
}
