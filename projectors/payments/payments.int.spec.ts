import t from 'tap';
import type { PaymentEvent } from '../../domain/payment/index.ts';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { paymentsProjection } from './payments.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T10:04:00.000Z';

function requested(n: number): PaymentEvent {
  return {
    type: 'PaymentRequested',
    data: {
      payment_id: `p-${n}`, transaction_id: `tx-${n}`, booking_id: `b-${n}`, user_id: 'u-1', amount: 500_000 * n,
      method: 'virtual_account', checkout_url: `http://localhost:3000/checkout/tx-${n}`, requested_at: T0,
    },
  };
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`payments follow requests, gateway results and refunds (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, paymentsProjection(), kind);
    t.equal(await given([requested(1), requested(2), requested(3)]), 'applied');
    const row = await db('payments').where({ id: 'p-1' }).first<Row>();
    t.match(row, { booking_id: 'b-1', transaction_id: 'tx-1', payment_method: 'virtual_account', status: 'pending', checkout_url: 'http://localhost:3000/checkout/tx-1', created_at: T0 });
    t.equal(Number(row.amount), 500_000);

    t.equal(await given([
      { event: { type: 'PaymentSucceeded', data: { payment_id: 'p-1', transaction_id: 'tx-1', booking_id: 'b-1', amount: 500_000, succeeded_at: LATER } }, at: LATER },
      { event: { type: 'PaymentFailed', data: { payment_id: 'p-2', transaction_id: 'tx-2', booking_id: 'b-2', reason: 'declined', failed_at: LATER } }, at: LATER },
      { event: { type: 'PaymentSucceeded', data: { payment_id: 'p-3', transaction_id: 'tx-3', booking_id: 'b-3', amount: 1_500_000, succeeded_at: LATER } }, at: LATER },
      { event: { type: 'BookingRefundDue', data: { booking_id: 'b-3', reason: 'late_payment', transaction_id: 'tx-3', amount: 1_500_000, decided_at: LATER } }, at: LATER },
    ]), 'applied');
    t.same(Object.fromEntries((await db('payments').select<Row[]>('id', 'status')).map((r) => [r.id, r.status])), { 'p-1': 'succeeded', 'p-2': 'failed', 'p-3': 'refund_due' });
    t.equal((await db('payments').where({ id: 'p-1' }).first<Row>()).updated_at, LATER);

    const before = await tableChecksums(db, ['payments']);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, ['payments']), before, 'a re-delivered page changes nothing');
  });
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a refund owed is listed, paid or refused with the gateway's reason (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, paymentsProjection(), kind);
    const ids = (n: number) => ({ payment_id: `p-${n}`, transaction_id: `tx-${n}`, booking_id: `b-${n}` });
    const succeeded = (n: number): PaymentEvent => ({ type: 'PaymentSucceeded', data: { ...ids(n), amount: 500_000 * n, succeeded_at: LATER } });
    const owed = (n: number): PaymentEvent => ({ type: 'PaymentRefundDue', data: { ...ids(n), amount: 500_000 * n, reason: 'concert_cancelled', decided_at: LATER } });
    const started = (n: number, attempt = 1): PaymentEvent => ({
      type: 'RefundStarted', data: { ...ids(n), amount: 500_000 * n, attempt, refund_key: `refund-p-${n}-${attempt}`, started_at: LATER },
    });
    t.equal(await given([requested(1), requested(2), requested(3), requested(4), succeeded(1), succeeded(2), succeeded(3), succeeded(4)]), 'applied');
    t.equal(await given([
      { event: owed(1), at: LATER },
      { event: owed(2), at: LATER },
      // the booking's record of the same refund, after the payment's, changes nothing
      { event: { type: 'BookingRefundDue', data: { booking_id: 'b-2', reason: 'concert_cancelled', transaction_id: 'tx-2', amount: 1_000_000, decided_at: LATER } }, at: LATER },
      { event: owed(3), at: LATER },
      // an older store: only the booking's record
      { event: { type: 'BookingRefundDue', data: { booking_id: 'b-4', reason: 'late_payment', transaction_id: 'tx-4', amount: 2_000_000, decided_at: LATER } }, at: LATER },
      { event: started(2), at: LATER },
      { event: started(3), at: LATER },
    ]), 'applied');
    const PAID_AT = '2026-12-01T10:05:00.000Z';
    t.equal(await given([
      { event: { type: 'RefundPaid', data: { ...ids(2), amount: 1_000_000, refund_key: 'refund-p-2-1', paid_at: PAID_AT } }, at: PAID_AT },
      { event: { type: 'RefundFailed', data: { ...ids(3), refund_key: 'refund-p-3-1', reason: 'merchant balance too low', failed_at: PAID_AT } }, at: PAID_AT },
      // a repeated success does not hide the refund
      { event: succeeded(2), at: PAID_AT },
    ]), 'applied');
    const rows = await db('payments').orderBy('id').select<Row[]>('id', 'status', 'refund_status', 'refund_reason', 'refund_failure', 'refund_updated_at', 'refunded_at');
    t.match(rows, [
      { id: 'p-1', status: 'refund_due', refund_status: 'refund_due', refund_reason: 'concert_cancelled', refund_failure: null, refund_updated_at: LATER, refunded_at: null },
      { id: 'p-2', status: 'refunded', refund_status: 'refunded', refund_reason: 'concert_cancelled', refund_failure: null, refund_updated_at: PAID_AT, refunded_at: PAID_AT },
      { id: 'p-3', status: 'refund_failed', refund_status: 'refund_failed', refund_failure: 'merchant balance too low', refunded_at: null },
      { id: 'p-4', status: 'refund_due', refund_status: 'refund_due', refund_reason: 'late_payment' },
    ]);
    t.equal(await given([{ event: started(3, 2), at: PAID_AT }]), 'applied');
    t.match(await db('payments').where({ id: 'p-3' }).first<Row>(), { status: 'refunding', refund_status: 'refunding', refund_failure: null });

    const before = await tableChecksums(db, ['payments']);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, ['payments']), before, 'a re-delivered page changes nothing');
  });
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a payment id requested again on another transaction merges into its row, in one batch or later (${kind})`, async (t) => {
    const { db, given } = await projectionFixture(t, paymentsProjection(), kind);
    // A payment's stream is its transaction's, so nothing refuses the same payment id on a second
    // transaction (the gateway changed between a crash and the retry): the projection must go on.
    const again = (n: number, transaction: string): PaymentEvent => {
      const event = requested(n);
      return event.type === 'PaymentRequested' ? { ...event, data: { ...event.data, transaction_id: transaction } } : event;
    };
    t.equal(await given([requested(1), again(1, 'tx-1b'), requested(2)]), 'applied', 'twice in one batch');
    t.equal(await given([again(2, 'tx-2b'), requested(3)]), 'applied', 'again in a later batch');
    const rows = await db('payments').orderBy('id').select<Row[]>('id', 'transaction_id', 'status');
    t.same(rows.map((row) => [row.id, row.transaction_id, row.status]), [['p-1', 'tx-1', 'pending'], ['p-2', 'tx-2', 'pending'], ['p-3', 'tx-3', 'pending']],
      'one row per payment id, the first transaction kept');
  });
}
