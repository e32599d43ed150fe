import type { PaymentMethod } from '../booking/events.ts';
import type { PaymentRefundReason } from './events.ts';

interface Timed {
  readonly now: string;
}

export interface RequestPayment extends Timed {
  readonly type: 'RequestPayment';
  readonly payment_id: string;
  readonly transaction_id: string;
  readonly booking_id: string;
  readonly user_id: string;
  readonly amount: number;
  readonly method: PaymentMethod;
  readonly checkout_url: string;
}

/** A verified notification from the gateway; gateways repeat them, so a repeat decides nothing. */
export interface RecordGatewayNotification extends Timed {
  readonly type: 'RecordGatewayNotification';
  readonly status: 'succeeded' | 'failed';
  readonly amount: number;
  readonly reason: string | null;
}

/** The money this payment took cannot buy the booking's seats (or the concert is off): it is owed back. */
export interface OweRefund extends Timed {
  readonly type: 'OweRefund';
  readonly reason: PaymentRefundReason;
}

/** Pay the money owed back now (owed, or refused by the gateway before): a new attempt at the gateway. */
export interface StartRefund extends Timed {
  readonly type: 'StartRefund';
}

/** What the gateway answered to the refund attempt `refund_key`. */
export interface RecordRefund extends Timed {
  readonly type: 'RecordRefund';
  readonly refund_key: string;
  readonly outcome: { readonly status: 'refunded' } | { readonly status: 'failed'; readonly reason: string };
}

export type PaymentCommand = RequestPayment | RecordGatewayNotification | OweRefund | StartRefund | RecordRefund;
