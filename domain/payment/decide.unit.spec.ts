import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0, minutesAfter } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { paymentDecider, type PaymentEvent, type RecordGatewayNotification, type RequestPayment } from './index.ts';

const payment = (history: PaymentEvent[]) => given(paymentDecider, history);
const request: RequestPayment = {
  type: 'RequestPayment',
  payment_id: 'p1',
  transaction_id: 'tx-1',
  booking_id: 'b1',
  user_id: 'u1',
  amount: 3_000_000,
  method: 'e_wallet',
  checkout_url: 'http://localhost:3000/sandbox/checkout/tx-1',
  now: T0,
};
const notify = (status: 'succeeded' | 'failed', overrides: Partial<RecordGatewayNotification> = {}): RecordGatewayNotification => ({
  type: 'RecordGatewayNotification',
  status,
  amount: 3_000_000,
  reason: status === 'failed' ? 'insufficient funds' : null,
  now: minutesAfter(T0, 2),
  ...overrides,
});
const requested = paymentDecider.decide(request, paymentDecider.initialState());
const ids = { payment_id: 'p1', transaction_id: 'tx-1', booking_id: 'b1' };

t.test('a payment is requested once per gateway transaction', async (t) => {
  payment([]).when(request).then(t, [
    {
      type: 'PaymentRequested',
      data: { ...ids, user_id: 'u1', amount: 3_000_000, method: 'e_wallet', checkout_url: request.checkout_url, requested_at: T0 },
    },
  ]);
  payment(requested).when(request).then(t, []);
  payment(requested).when({ ...request, payment_id: 'p2' }).thenThrows(t, 'PAYMENT_ALREADY_EXISTS');
});

t.test('the gateway reports success', async (t) => {
  const events = payment(requested).when(notify('succeeded')).then(t, [
    { type: 'PaymentSucceeded', data: { ...ids, amount: 3_000_000, succeeded_at: minutesAfter(T0, 2) } },
  ]);
  t.equal(fold(paymentDecider, [...requested, ...events]).status, 'succeeded');
});

t.test('a repeated notification decides nothing', async (t) => {
  const succeeded = [...requested, ...paymentDecider.decide(notify('succeeded'), fold(paymentDecider, requested))];
  payment(succeeded).when(notify('succeeded', { now: minutesAfter(T0, 9) })).then(t, []);
  const failed = [...requested, ...paymentDecider.decide(notify('failed'), fold(paymentDecider, requested))];
  payment(failed).when(notify('failed')).then(t, []);
});

t.test('a succeeded payment does not become failed', async (t) => {
  const succeeded = [...requested, ...paymentDecider.decide(notify('succeeded'), fold(paymentDecider, requested))];
  payment(succeeded).when(notify('failed')).thenThrows(t, 'PAYMENT_ALREADY_SETTLED');
});

t.test('money taken after a failure is recorded, never refused: it is owed back later', async (t) => {
  const failed = [...requested, ...paymentDecider.decide(notify('failed'), fold(paymentDecider, requested))];
  payment(failed).when(notify('succeeded')).then(t, [
    { type: 'PaymentSucceeded', data: { ...ids, amount: 3_000_000, succeeded_at: minutesAfter(T0, 2) } },
  ]);
});

t.test('the money of a succeeded payment is owed back, once', async (t) => {
  const succeeded = [...requested, ...paymentDecider.decide(notify('succeeded'), fold(paymentDecider, requested))];
  const owe = { type: 'OweRefund', reason: 'duplicate_payment', now: minutesAfter(T0, 5) } as const;
  const owed = payment(succeeded).when(owe).then(t, [
    { type: 'PaymentRefundDue', data: { ...ids, amount: 3_000_000, reason: 'duplicate_payment', decided_at: minutesAfter(T0, 5) } },
  ]);
  const due = [...succeeded, ...owed];
  t.equal(fold(paymentDecider, due).status, 'refund_due');
  payment(due).when(owe).then(t, []);
  payment(due).when(notify('succeeded')).then(t, []); // the gateway repeating itself
  payment(due).when(notify('failed')).thenThrows(t, 'PAYMENT_ALREADY_SETTLED');
  payment(requested).when(owe).thenThrows(t, 'REFUND_NOT_APPLICABLE');
  const failed = [...requested, ...paymentDecider.decide(notify('failed'), fold(paymentDecider, requested))];
  payment(failed).when(owe).thenThrows(t, 'REFUND_NOT_APPLICABLE');
});

t.test('the gateway reports failure', async (t) => {
  payment(requested).when(notify('failed')).then(t, [
    { type: 'PaymentFailed', data: { ...ids, reason: 'insufficient funds', failed_at: minutesAfter(T0, 2) } },
  ]);
});

t.test('a success for another amount is refused; an unknown transaction is refused', async (t) => {
  payment(requested).when(notify('succeeded', { amount: 1 })).thenThrows(t, 'AMOUNT_MISMATCH');
  payment([]).when(notify('succeeded')).thenThrows(t, 'PAYMENT_NOT_FOUND');
});
