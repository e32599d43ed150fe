import { assertNever } from '../shared/errors.ts';
import { instant } from '../shared/decider.ts';
import type { BookingEvent, PaymentMethod } from './events.ts';

export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired' | 'failed' | 'refund_due';

/**
 * The booking's current payment. `opening`: the booking opened it, the gateway's transaction is
 * not recorded yet (a request or the payments reactor finishes it); `pending`: the buyer pays at
 * the gateway.
 */
export interface BookingPayment {
  readonly paymentId: string;
  readonly transactionId: string | null;
  readonly method: PaymentMethod;
  readonly amount: number;
  readonly status: 'opening' | 'pending' | 'succeeded' | 'failed';
}

/** Whether the booking has a payment that is neither paid nor failed: then it opens no other. */
export function isOpen(payment: BookingPayment | null): payment is BookingPayment {
  return payment?.status === 'opening' || payment?.status === 'pending';
}

export type BookingState =
  | { readonly status: 'none' }
  | {
      readonly status: BookingStatus;
      readonly bookingId: string;
      readonly userId: string;
      readonly concertId: string;
      readonly totalPrice: number;
      readonly expiresAt: string;
      readonly expiresAtMs: number;
      readonly payment: BookingPayment | null;
    };

export function initialState(): BookingState {
  return { status: 'none' };
}

export function evolve(state: BookingState, event: BookingEvent): BookingState {
  if (event.type === 'BookingPlaced') {
    const { data } = event;
    return {
      status: 'pending',
      bookingId: data.booking_id,
      userId: data.user_id,
      concertId: data.concert_id,
      totalPrice: data.total_price,
      expiresAt: data.expires_at,
      expiresAtMs: instant(data.expires_at),
      payment: null,
    };
  }
  if (state.status === 'none') return state; // nothing else can come before BookingPlaced
  switch (event.type) {
    case 'BookingPaymentOpened':
      return {
        ...state,
        payment: { paymentId: event.data.payment_id, transactionId: null, method: event.data.method, amount: event.data.amount, status: 'opening' },
      };
    case 'BookingPaymentStarted':
      // Streams written before BookingPaymentOpened existed start a payment without opening it.
      return {
        ...state,
        payment: { paymentId: event.data.payment_id, transactionId: event.data.transaction_id, method: event.data.method, amount: event.data.amount, status: 'pending' },
      };
    case 'BookingPaymentFailed':
      return { ...state, status: 'failed', payment: state.payment && { ...state.payment, status: 'failed' } };
    case 'BookingConfirmed':
      return { ...state, status: 'confirmed', payment: state.payment && { ...state.payment, status: 'succeeded' } };
    case 'BookingCancelled':
      return { ...state, status: 'cancelled' };
    case 'BookingExpired':
      return { ...state, status: 'expired' };
    case 'BookingRefundDue':
      return { ...state, status: 'refund_due' };
    default:
      return assertNever(event);
  }
}
