import { DomainError, assertNever } from '../shared/errors.ts';
import type { OweRefund, PaymentCommand, RecordGatewayNotification, RecordRefund, RequestPayment, StartRefund } from './commands.ts';
import type { PaymentEvent } from './events.ts';
import { MONEY_TAKEN, type PaymentState } from './state.ts';

export function decide(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'RequestPayment':
      return requestPayment(command, state);
    case 'RecordGatewayNotification':
      return recordNotification(command, state);
    case 'OweRefund':
      return oweRefund(command, state);
    case 'StartRefund':
      return startRefund(command, state);
    case 'RecordRefund':
      return recordRefund(command, state);
    default:
      return assertNever(command);
  }
}

function requestPayment(command: RequestPayment, state: PaymentState): PaymentEvent[] {
  if (state.status !== 'none') {
    if (state.paymentId === command.payment_id) return [];
    throw new DomainError('PAYMENT_ALREADY_EXISTS', 'this gateway transaction belongs to another payment');
  }
  return [
    {
      type: 'PaymentRequested',
      data: {
        payment_id: command.payment_id,
        transaction_id: command.transaction_id,
        booking_id: command.booking_id,
        user_id: command.user_id,
        amount: command.amount,
        method: command.method,
        checkout_url: command.checkout_url,
        requested_at: command.now,
      },
    },
  ];
}

function recordNotification(command: RecordGatewayNotification, state: PaymentState): PaymentEvent[] {
  if (state.status === 'none') throw new DomainError('PAYMENT_NOT_FOUND', 'no payment with this transaction id');
  const ids = { payment_id: state.paymentId, transaction_id: state.transactionId, booking_id: state.bookingId };
  if (command.status === 'failed') {
    if (state.status === 'failed') return []; // the gateway said it again
    if (state.status !== 'pending') {
      throw new DomainError('PAYMENT_ALREADY_SETTLED', `the payment already ${state.status}`, { status: state.status });
    }
    return [{ type: 'PaymentFailed', data: { ...ids, reason: command.reason ?? 'declined', failed_at: command.now } }];
  }
  if (MONEY_TAKEN.has(state.status)) return []; // the gateway said it again
  if (command.amount !== state.amount) {
    throw new DomainError('AMOUNT_MISMATCH', 'the gateway reports a different amount than was requested', {
      expected: state.amount,
      reported: command.amount,
    });
  }
  // From pending, or after a failure: the gateway took the money after all. Money taken is
  // recorded, never refused; if it cannot buy the seats any more it is owed back.
  return [{ type: 'PaymentSucceeded', data: { ...ids, amount: command.amount, succeeded_at: command.now } }];
}

function oweRefund(command: OweRefund, state: PaymentState): PaymentEvent[] {
  if (state.status === 'none') throw new DomainError('PAYMENT_NOT_FOUND', 'no payment with this transaction id');
  if (state.status !== 'succeeded' && MONEY_TAKEN.has(state.status)) return []; // owed already (or paid back)
  if (state.status !== 'succeeded') {
    throw new DomainError('REFUND_NOT_APPLICABLE', `a ${state.status} payment took no money`, { status: state.status });
  }
  return [
    {
      type: 'PaymentRefundDue',
      data: {
        payment_id: state.paymentId,
        transaction_id: state.transactionId,
        booking_id: state.bookingId,
        amount: state.amount,
        reason: command.reason,
        decided_at: command.now,
      },
    },
  ];
}

/** The refund key of an attempt: the same attempt is the same refund at the gateway. */
export function refundKey(paymentId: string, attempt: number): string {
  return `refund-${paymentId}-${attempt}`;
}

/**
 * Pays the money owed back: what this payment took, never more, and once. A refund the gateway
 * refused may be tried again (a new attempt, a new key); one being paid is not started twice.
 */
function startRefund(command: StartRefund, state: PaymentState): PaymentEvent[] {
  if (state.status === 'none') throw new DomainError('PAYMENT_NOT_FOUND', 'no payment with this transaction id');
  if (state.status === 'refunding') return []; // being paid: the attempt under way goes on
  if (state.status === 'refunded') throw new DomainError('REFUND_ALREADY_PAID', 'the money of this payment was paid back already');
  if (state.status !== 'refund_due' && state.status !== 'refund_failed') {
    throw new DomainError('REFUND_NOT_DUE', `nothing is owed back for a ${state.status} payment`, { status: state.status });
  }
  const attempt = state.refundAttempts + 1;
  return [
    {
      type: 'RefundStarted',
      data: {
        payment_id: state.paymentId,
        transaction_id: state.transactionId,
        booking_id: state.bookingId,
        amount: state.amount,
        attempt,
        refund_key: refundKey(state.paymentId, attempt),
        started_at: command.now,
      },
    },
  ];
}

/** The gateway's answer to the attempt under way; a repeated answer decides nothing. */
function recordRefund(command: RecordRefund, state: PaymentState): PaymentEvent[] {
  if (state.status === 'none') throw new DomainError('PAYMENT_NOT_FOUND', 'no payment with this transaction id');
  const current = command.refund_key === state.refundKey;
  if (current && (state.status === 'refunded' || state.status === 'refund_failed')) return []; // said again
  if (!current || state.status !== 'refunding') {
    throw new DomainError('REFUND_NOT_IN_PROGRESS', 'no refund attempt with this key is under way', { status: state.status });
  }
  const ids = { payment_id: state.paymentId, transaction_id: state.transactionId, booking_id: state.bookingId, refund_key: command.refund_key };
  return command.outcome.status === 'refunded'
    ? [{ type: 'RefundPaid', data: { ...ids, amount: state.amount, paid_at: command.now } }]
    : [{ type: 'RefundFailed', data: { ...ids, reason: command.outcome.reason, failed_at: command.now } }];
}
