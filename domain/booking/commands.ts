import type { Sealed } from '../shared/personal-data.ts';
import type { HeldSeat } from '../concert/events.ts';
import type { PaymentMethod, RefundReason } from './events.ts';

interface Timed {
  readonly now: string;
}

export interface PlaceBooking extends Timed {
  readonly type: 'PlaceBooking';
  readonly booking_id: string;
  readonly user_id: string;
  readonly concert_id: string;
  /** The seats the concert inventory held for this booking (its SeatsHeld event). */
  readonly seats: readonly HeldSeat[];
  readonly total_price: number;
  readonly expires_at: string;
  readonly buyer: Sealed;
  readonly ticket_holders: readonly Sealed[];
  /** The keyed digest of the buyer's email, when the hold carries one. */
  readonly buyer_email_digest?: string | undefined;
}

/**
 * Opens the booking's one payment, before any gateway is asked: the booking's stream decides
 * that at most one payment is open, so concurrent requests cannot open two.
 */
export interface OpenPayment extends Timed {
  readonly type: 'OpenPayment';
  readonly payment_id: string;
  readonly method: PaymentMethod;
  readonly amount: number;
}

/** The gateway opened the payment the booking opened: its transaction id is now known. */
export interface StartPayment extends Timed {
  readonly type: 'StartPayment';
  readonly payment_id: string;
  readonly transaction_id: string;
}

/** The concert sold the held seats to this payment. */
export interface ConfirmBooking extends Timed {
  readonly type: 'ConfirmBooking';
  readonly transaction_id: string;
}

export interface RecordPaymentFailure extends Timed {
  readonly type: 'RecordPaymentFailure';
  readonly transaction_id: string;
  readonly reason: string;
}

export interface CancelBooking extends Timed {
  readonly type: 'CancelBooking';
  readonly cancelled_by: 'owner' | 'admin' | 'concert_cancelled';
}

export interface ExpireBooking extends Timed {
  readonly type: 'ExpireBooking';
}

/** Money arrived that cannot buy the seats (too late, or the concert is off): it is owed back. */
export interface MarkRefundDue extends Timed {
  readonly type: 'MarkRefundDue';
  readonly reason: RefundReason;
  readonly transaction_id: string;
  readonly amount: number;
}

export type BookingCommand =
  | PlaceBooking
  | OpenPayment
  | StartPayment
  | ConfirmBooking
  | RecordPaymentFailure
  | CancelBooking
  | ExpireBooking
  | MarkRefundDue;
