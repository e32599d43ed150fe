import { DomainError, assertNever } from '../shared/errors.ts';
import type { OweRefund, PaymentCommand, RecordGatewayNotification, RequestPayment } from './commands.ts';
import type { PaymentEvent } from './events.ts';
import type { PaymentState } from './state.ts';

export function decide(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'RequestPayment':
      return requestPayment(command, state);
    case 'RecordGatewayNotification':
      return recordNotification(command, state);
    case 'OweRefund':
      return oweRefund(command, state);
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
  if (state.status === 'succeeded' || state.status === 'refund_due') return []; // the gateway said it again
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
  if (state.status === 'refund_due') return [];
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
