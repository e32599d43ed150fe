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
