import { assertNever } from '../shared/errors.ts';
import type { PaymentEvent } from './events.ts';

export type PaymentState =
  | { readonly status: 'none' }
  | {
      /** `refund_due`: it succeeded, and its money is owed back. */
      readonly status: 'pending' | 'succeeded' | 'failed' | 'refund_due';
      readonly paymentId: string;
      readonly transactionId: string;
      readonly bookingId: string;
      readonly amount: number;
    };

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
      };
    case 'PaymentSucceeded':
      return state.status === 'none' ? state : { ...state, status: 'succeeded' };
    case 'PaymentFailed':
      return state.status === 'none' ? state : { ...state, status: 'failed' };
    case 'PaymentRefundDue':
      return state.status === 'none' ? state : { ...state, status: 'refund_due' };
    default:
      return assertNever(event);
  }
}
