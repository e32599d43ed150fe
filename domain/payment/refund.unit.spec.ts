import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0, minutesAfter } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { paymentDecider, type PaymentCommand, type PaymentEvent, type RecordRefund, type StartRefund } from './index.ts';

const payment = (history: PaymentEvent[]) => given(paymentDecider, history);
const after = (history: PaymentEvent[], command: PaymentCommand): PaymentEvent[] => [...history, ...paymentDecider.decide(command, fold(paymentDecider, history))];

const ids = { payment_id: 'p1', transaction_id: 'tx-1', booking_id: 'b1' };
const requested = after([], {
  type: 'RequestPayment', ...ids, user_id: 'u1', amount: 3_000_000, method: 'e_wallet', checkout_url: 'http://localhost/checkout/tx-1', now: T0,
});
const succeeded = after(requested, { type: 'RecordGatewayNotification', status: 'succeeded', amount: 3_000_000, reason: null, now: minutesAfter(T0, 1) });
const due = after(succeeded, { type: 'OweRefund', reason: 'concert_cancelled', now: minutesAfter(T0, 2) });

const start: StartRefund = { type: 'StartRefund', now: minutesAfter(T0, 3) };
const paid = (key: string): RecordRefund => ({ type: 'RecordRefund', refund_key: key, outcome: { status: 'refunded' }, now: minutesAfter(T0, 4) });
const refused = (key: string, reason = 'merchant balance too low'): RecordRefund => ({ type: 'RecordRefund', refund_key: key, outcome: { status: 'failed', reason }, now: minutesAfter(T0, 4) });

t.test('a refund owed is started for the money taken, under a key of the payment and the attempt', async (t) => {
  payment(due).when(start).then(t, [
    { type: 'RefundStarted', data: { ...ids, amount: 3_000_000, attempt: 1, refund_key: 'refund-p1-1', started_at: minutesAfter(T0, 3) } },
  ]);
  t.equal(fold(paymentDecider, after(due, start)).status, 'refunding');
});

t.test('nothing is refunded that was not owed: pending, failed, succeeded and unknown payments', async (t) => {
  payment(requested).when(start).thenThrows(t, 'REFUND_NOT_DUE');
  payment(succeeded).when(start).thenThrows(t, 'REFUND_NOT_DUE');
  const failed = after(requested, { type: 'RecordGatewayNotification', status: 'failed', amount: 3_000_000, reason: 'declined', now: minutesAfter(T0, 1) });
  payment(failed).when(start).thenThrows(t, 'REFUND_NOT_DUE');
  payment([]).when(start).thenThrows(t, 'PAYMENT_NOT_FOUND');
});

t.test('the gateway paid: the refund is paid, the amount taken and no more', async (t) => {
  const refunding = after(due, start);
  payment(refunding).when(paid('refund-p1-1')).then(t, [
    { type: 'RefundPaid', data: { ...ids, amount: 3_000_000, refund_key: 'refund-p1-1', paid_at: minutesAfter(T0, 4) } },
  ]);
  const refunded = after(refunding, paid('refund-p1-1'));
  t.equal(fold(paymentDecider, refunded).status, 'refunded');
  const total = refunded.flatMap((e) => (e.type === 'RefundPaid' ? [e.data.amount] : [])).reduce((a, b) => a + b, 0);
  t.equal(total, 3_000_000, 'paid back exactly what was taken');
});

t.test('never twice: a paid refund is not started again, and the answer repeated decides nothing', async (t) => {
  const refunded = after(after(due, start), paid('refund-p1-1'));
  payment(refunded).when(start).thenThrows(t, 'REFUND_ALREADY_PAID');
  payment(refunded).when(paid('refund-p1-1')).then(t, []);
  payment(refunded).when({ type: 'OweRefund', reason: 'late_payment', now: minutesAfter(T0, 9) }).then(t, []);
  payment(refunded).when({ type: 'RecordGatewayNotification', status: 'succeeded', amount: 3_000_000, reason: null, now: minutesAfter(T0, 9) }).then(t, []);
  // one being paid is not started a second time: the attempt under way goes on, with its key
  payment(after(due, start)).when(start).then(t, []);
});

t.test('the gateway refused: refund_failed with its reason, paid on a new attempt with a new key', async (t) => {
  const refunding = after(due, start);
  payment(refunding).when(refused('refund-p1-1')).then(t, [
    { type: 'RefundFailed', data: { ...ids, refund_key: 'refund-p1-1', reason: 'merchant balance too low', failed_at: minutesAfter(T0, 4) } },
  ]);
  const failed = after(refunding, refused('refund-p1-1'));
  t.equal(fold(paymentDecider, failed).status, 'refund_failed');
  payment(failed).when(refused('refund-p1-1')).then(t, []);
  const retried = payment(failed).when(start).events();
  t.match(retried, [{ type: 'RefundStarted', data: { attempt: 2, refund_key: 'refund-p1-2', amount: 3_000_000 } }]);
  const again = after(failed, start);
  payment(again).when(paid('refund-p1-1')).thenThrows(t, 'REFUND_NOT_IN_PROGRESS'); // the old attempt's answer is not this one's
  payment(again).when(paid('refund-p1-2')).events();
  t.equal(fold(paymentDecider, after(again, paid('refund-p1-2'))).status, 'refunded');
});

t.test('an answer with no attempt under way is refused', async (t) => {
  payment(due).when(paid('refund-p1-1')).thenThrows(t, 'REFUND_NOT_IN_PROGRESS');
  payment(succeeded).when(refused('refund-p1-1')).thenThrows(t, 'REFUND_NOT_IN_PROGRESS');
});
