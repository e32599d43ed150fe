import { DomainError, assertNever } from '../shared/errors.ts';
import { instant } from '../shared/decider.ts';
import type {
  BookingCommand,
  CancelBooking,
  ConfirmBooking,
  ExpireBooking,
  MarkRefundDue,
  OpenPayment,
  PlaceBooking,
  RecordPaymentFailure,
  StartPayment,
} from './commands.ts';
import type { BookingEvent } from './events.ts';
import { isOpen, type BookingState } from './state.ts';

type PlacedBooking = Exclude<BookingState, { status: 'none' }>;

export function decide(command: BookingCommand, state: BookingState): BookingEvent[] {
  switch (command.type) {
    case 'PlaceBooking':
      return placeBooking(command, state);
    case 'OpenPayment':
      return openPayment(command, requirePlaced(state));
    case 'StartPayment':
      return startPayment(command, requirePlaced(state));
    case 'ConfirmBooking':
      return confirmBooking(command, requirePlaced(state));
    case 'RecordPaymentFailure':
      return recordPaymentFailure(command, requirePlaced(state));
    case 'CancelBooking':
      return cancelBooking(command, requirePlaced(state));
    case 'ExpireBooking':
      return expireBooking(command, requirePlaced(state));
    case 'MarkRefundDue':
      return markRefundDue(command, requirePlaced(state));
    default:
      return assertNever(command);
  }
}

function placeBooking(command: PlaceBooking, state: BookingState): BookingEvent[] {
  if (state.status !== 'none') throw new DomainError('BOOKING_ALREADY_EXISTS', 'this booking was already placed');
  if (command.ticket_holders.length !== command.seats.length) {
    throw new DomainError('HOLDER_COUNT_MISMATCH', `${command.seats.length} tickets need ${command.seats.length} ticket holders`);
  }
  const sum = command.seats.reduce((total, seat) => total + seat.price, 0);
  if (sum !== command.total_price) {
    throw new DomainError('TOTAL_PRICE_MISMATCH', 'the total price is not the sum of the seat prices', {
      total_price: command.total_price,
      sum,
    });
  }
  const bookingId = command.booking_id;
  return [
    {
      type: 'BookingPlaced',
      data: {
        booking_id: bookingId,
        user_id: command.user_id,
        concert_id: command.concert_id,
        seats: command.seats.map((seat) => ({ ...seat })),
        total_price: command.total_price,
        buyer: command.buyer,
        ticket_holders: [...command.ticket_holders],
        ...(command.buyer_email_digest === undefined ? {} : { buyer_email_digest: command.buyer_email_digest }),
        placed_at: command.now,
        expires_at: command.expires_at,
      },
    },
  ];
}

function openPayment(command: OpenPayment, state: PlacedBooking): BookingEvent[] {
  if (state.status !== 'pending') {
    throw new DomainError('BOOKING_NOT_PAYABLE', `a ${state.status} booking cannot be paid`, { status: state.status });
  }
  if (isOpen(state.payment)) {
    if (state.payment.paymentId === command.payment_id) return [];
    throw new DomainError('PAYMENT_IN_PROGRESS', 'a payment for this booking is already in progress', {
      payment_id: state.payment.paymentId,
    });
  }
  if (instant(command.now) >= state.expiresAtMs) {
    throw new DomainError('HOLD_EXPIRED', `the booking expired at ${state.expiresAt}`);
  }
  if (command.amount !== state.totalPrice) {
    throw new DomainError('AMOUNT_MISMATCH', 'the amount must be the booking total', { total_price: state.totalPrice });
  }
  return [
    {
      type: 'BookingPaymentOpened',
      data: {
        booking_id: state.bookingId,
        payment_id: command.payment_id,
        method: command.method,
        amount: command.amount,
        opened_at: command.now,
      },
    },
  ];
}

/**
 * Records the gateway's transaction for the payment the booking opened. Whatever became of the
 * booking since, the gateway has this transaction now: the booking must know it, so that money
 * paid into it is recognised (and owed back if it cannot buy the seats).
 */
function startPayment(command: StartPayment, state: PlacedBooking): BookingEvent[] {
  const payment = state.payment;
  if (payment?.paymentId !== command.payment_id) {
    throw new DomainError('PAYMENT_NOT_FOUND', 'this booking did not open that payment');
  }
  if (payment.transactionId !== null) {
    if (payment.transactionId === command.transaction_id) return [];
    throw new DomainError('PAYMENT_ALREADY_EXISTS', 'this payment already has another gateway transaction');
  }
  return [
    {
      type: 'BookingPaymentStarted',
      data: {
        booking_id: state.bookingId,
        payment_id: payment.paymentId,
        transaction_id: command.transaction_id,
        method: payment.method,
        amount: payment.amount,
        started_at: command.now,
      },
    },
  ];
}

function confirmBooking(command: ConfirmBooking, state: PlacedBooking): BookingEvent[] {
  requirePayment(state, command.transaction_id);
  if (state.status === 'confirmed') return [];
  if (state.status !== 'pending') {
    throw new DomainError('BOOKING_NOT_PAYABLE', `a ${state.status} booking cannot be confirmed`, { status: state.status });
  }
  return [
    {
      type: 'BookingConfirmed',
      data: { booking_id: state.bookingId, transaction_id: command.transaction_id, confirmed_at: command.now },
    },
  ];
}

function recordPaymentFailure(command: RecordPaymentFailure, state: PlacedBooking): BookingEvent[] {
  requirePayment(state, command.transaction_id);
  if (state.status === 'confirmed') {
    throw new DomainError('PAYMENT_ALREADY_SETTLED', 'the booking was already paid');
  }
  // Failed already, or given up before the gateway answered: nothing left to decide.
  if (state.status !== 'pending') return [];
  return [
    {
      type: 'BookingPaymentFailed',
      data: {
        booking_id: state.bookingId,
        transaction_id: command.transaction_id,
        reason: command.reason,
        failed_at: command.now,
      },
    },
  ];
}

function cancelBooking(command: CancelBooking, state: PlacedBooking): BookingEvent[] {
  if (state.status !== 'pending') {
    throw new DomainError('BOOKING_NOT_CANCELLABLE', `a ${state.status} booking cannot be cancelled`, {
      status: state.status,
    });
  }
  return [
    {
      type: 'BookingCancelled',
      data: { booking_id: state.bookingId, cancelled_by: command.cancelled_by, cancelled_at: command.now },
    },
  ];
}

function expireBooking(command: ExpireBooking, state: PlacedBooking): BookingEvent[] {
  if (state.status !== 'pending') return []; // paid, cancelled or already expired
  if (instant(command.now) < state.expiresAtMs) {
    throw new DomainError('HOLD_NOT_EXPIRED', `the booking expires at ${state.expiresAt}`);
  }
  return [{ type: 'BookingExpired', data: { booking_id: state.bookingId, expired_at: command.now } }];
}

function markRefundDue(command: MarkRefundDue, state: PlacedBooking): BookingEvent[] {
  requirePayment(state, command.transaction_id);
  if (state.status === 'refund_due') return [];
  // Money that arrived for a booking that cannot have its seats (pending too late, cancelled,
  // expired, failed) is owed back for any reason; a confirmed booking's only when the concert is off.
  if (state.status === 'confirmed' && command.reason !== 'concert_cancelled') {
    throw new DomainError('REFUND_NOT_APPLICABLE', `no ${command.reason} refund for a ${state.status} booking`, {
      status: state.status,
    });
  }
  return [
    {
      type: 'BookingRefundDue',
      data: {
        booking_id: state.bookingId,
        reason: command.reason,
        transaction_id: command.transaction_id,
        amount: command.amount,
        decided_at: command.now,
      },
    },
  ];
}

function requirePlaced(state: BookingState): PlacedBooking {
  if (state.status === 'none') throw new DomainError('BOOKING_NOT_FOUND', 'no such booking');
  return state;
}

function requirePayment(state: PlacedBooking, transactionId: string): void {
  if (state.payment?.transactionId !== transactionId) {
    throw new DomainError('PAYMENT_NOT_FOUND', 'this booking has no payment with that transaction id');
  }
}
