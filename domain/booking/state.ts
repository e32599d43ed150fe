import { assertNever } from '../shared/errors.ts';
import { instant } from '../shared/decider.ts';
import type { BookingEvent } from './events.ts';

export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired' | 'failed' | 'refund_due';

export interface BookingPayment {
  readonly paymentId: string;
  readonly transactionId: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
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
    case 'BookingPaymentStarted':
      return {
        ...state,
        payment: { paymentId: event.data.payment_id, transactionId: event.data.transaction_id, status: 'pending' },
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
