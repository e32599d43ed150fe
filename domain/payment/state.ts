import { assertNever } from '../shared/errors.ts';
import type { PaymentEvent } from './events.ts';

/** Where the money owed back stands: owed, being paid at the gateway, paid, or refused by it. */
export type RefundStatus = 'refund_due' | 'refunding' | 'refunded' | 'refund_failed';

export type PaymentState =
  | { readonly status: 'none' }
  | {
      /** `refund_due` and after: it succeeded, and its money is owed back (then paid back). */
      readonly status: 'pending' | 'succeeded' | 'failed' | RefundStatus;
      readonly paymentId: string;
      readonly transactionId: string;
      readonly bookingId: string;
      readonly amount: number;
      /** Attempts at paying the refund so far; the last one's key at the gateway (null before the first). */
      readonly refundAttempts: number;
      readonly refundKey: string | null;
    };

/** The money of a payment in any of these states was taken (and may be owed or paid back). */
export const MONEY_TAKEN: ReadonlySet<string> = new Set(['succeeded', 'refund_due', 'refunding', 'refunded', 'refund_failed']);

export function initialState(): PaymentState {
  return { status: 'none' };
}

export function evolve(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentRequested':
      return {
        status: 'pending',
        paymentId: event.data.payment_id,
        transactionId: event.data.transaction_id,
        bookingId: event.data.booking_id,
        amount: event.data.amount,
        refundAttempts: 0,
        refundKey: null,
      };
    case 'PaymentSucceeded':
      return state.status === 'none' ? state : { ...state, status: 'succeeded' };
    case 'PaymentFailed':
      return state.status === 'none' ? state : { ...state, status: 'failed' };
    case 'PaymentRefundDue':
      return state.status === 'none' ? state : { ...state, status: 'refund_due' };
    case 'RefundStarted':
      return state.status === 'none' ? state : { ...state, status: 'refunding', refundAttempts: event.data.attempt, refundKey: event.data.refund_key };
    case 'RefundPaid':
      return state.status === 'none' ? state : { ...state, status: 'refunded' };
    case 'RefundFailed':
      return state.status === 'none' ? state : { ...state, status: 'refund_failed' };
    default:
      return assertNever(event);
  }
}
