/**
 * Refunds paid through the gateway, against the local Midtrans: a paid booking of a cancelled
 * concert → refund_due → refunded through Midtrans's refund API (automatically, or when an admin
 * asks with AUTO_REFUND=false); a refusal → refund_failed with Midtrans's reason, paid on retry;
 * the admins' list follows; nobody else may list or pay refunds.
 */
import t, { type Test } from 'tap';
import type { EventStore } from '../../eventstore/port.ts';
import { freePort } from '../../test/harness/servers.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { localMidtrans, midtransEnv, type MidtransControl } from '../../test/support/midtrans.ts';
import { bearer } from '../../test/support/users.ts';

interface Payment { id: string; transaction_id: string; amount: number }
interface Refund { payment_id: string; booking_id: string; amount: number; reason: string | null; status: string; updated_at: string }
interface Page { items: Refund[]; next_cursor: string | null }

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

/** An app paying through the local Midtrans, listening (Midtrans notifies it), reactors and projections running. */
async function midtransApp(t: Test, midtrans: MidtransControl, env: Record<string, string> = {}): Promise<TestApp & { admin: string }> {
  const port = await freePort();
  const made = await testApp(t, {
    REQUIRE_EMAIL_VERIFICATION: 'false',
    ...midtransEnv(midtrans, port),
    ...env,
  });
  await made.app.listen({ port, host: '127.0.0.1' });
  made.services.command.start();
  made.services.projector.start();
  return { ...made, admin: await adminToken(made) };
}

/** A booking of `concertId`, paid at Midtrans by e-wallet (refundable there) and confirmed by its notification. */
async function paid(made: TestApp, midtrans: MidtransControl, concertId: string, classId: string): Promise<{ bookingId: string; payment: Payment }> {
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concertId, classId, 1))).json<{ id: string }>();
  const started = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'e_wallet' } });
  if (started.statusCode !== 201) throw new Error(`payment answered ${started.statusCode}: ${started.body}`);
  const payment = started.json<Payment>();
  const delivered = await midtrans.act(payment.transaction_id, 'pay', { payment_type: 'gopay' });
  if (delivered.delivery.status !== 200) throw new Error(`the notification answered ${delivered.delivery.status}: ${delivered.delivery.body}`);
  return { bookingId: booking.id, payment };
}

async function cancel(made: TestApp & { admin: string }, concertId: string): Promise<void> {
  const cancelled = await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concertId}/cancel`, headers: bearer(made.admin), payload: { reason: 'venue flooded' } });
  if (cancelled.statusCode !== 200) throw new Error(`cancel answered ${cancelled.statusCode}: ${cancelled.body}`);
}

async function listed(made: TestApp & { admin: string }, query: string): Promise<Page> {
  const response = await made.app.inject({ method: 'GET', url: `/api/v1/admin/refunds?${query}`, headers: bearer(made.admin) });
  if (response.statusCode !== 200) throw new Error(`the list answered ${response.statusCode}: ${response.body}`);
  return response.json<Page>();
}

/** Waits until the admins' list shows the payment with this status. */
const listedAs = (made: TestApp & { admin: string }, paymentId: string, status: string): Promise<Refund> =>
  eventually(async () => (await listed(made, `status=${status}&limit=100`)).items.find((item) => item.payment_id === paymentId), `${paymentId} listed as ${status}`, 20_000);

const paymentStatus = async (made: TestApp & { admin: string }, paymentId: string): Promise<string> =>
  (await made.app.inject({ method: 'GET', url: `/api/v1/payments/${paymentId}`, headers: bearer(made.admin) })).json<{ status: string }>().status;

t.test('refunds with AUTO_REFUND (the default): paid at once through Midtrans; a refusal is listed and paid on retry', async (t) => {
  const midtrans = await localMidtrans(t);
  const made = await midtransApp(t, midtrans);
  const { store } = made.services.shared;
  const concert = await createConcert(made.app, made.admin, [{ name: 'Festival', price: 850_000, total_seats_in_class: 10 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const first = await paid(made, midtrans, concert.id, classId);
  const refused = await paid(made, midtrans, concert.id, classId);
  await midtrans.refuseNextRefund(refused.payment.transaction_id, 'Merchant balance is not enough');

  await cancel(made, concert.id);

  // Paid back through Midtrans's refund API, the amount taken, under the key of the payment's first attempt.
  await eventually(async () => (await types(store, `payment-${first.payment.transaction_id}`)).includes('RefundPaid'), 'the refund is paid');
  t.strictSame(await types(store, `payment-${first.payment.transaction_id}`), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue', 'RefundStarted', 'RefundPaid']);
  const order = await midtrans.order(first.payment.transaction_id);
  t.match(order?.refunds, [{ refund_key: `refund-${first.payment.id}-1`, amount: 850_000 }], 'the local Midtrans recorded the refund');
  t.equal(order?.refunds.length, 1, 'once');
  t.equal(order?.transaction_status, 'refund');
  const refunded = await listedAs(made, first.payment.id, 'refunded');
  t.match(refunded, { booking_id: first.bookingId, amount: 850_000, reason: 'concert_cancelled', status: 'refunded' });
  t.equal(await paymentStatus(made, first.payment.id), 'refunded');

  // Refused: refund_failed with Midtrans's reason, listed; not tried again by itself.
  const failed = await listedAs(made, refused.payment.id, 'refund_failed');
  t.match(failed, { amount: 850_000, reason: 'Midtrans 412: Merchant balance is not enough', status: 'refund_failed' });
  t.equal(await paymentStatus(made, refused.payment.id), 'refund_failed');
  t.strictSame((await midtrans.order(refused.payment.transaction_id))?.refunds, [], 'nothing was paid back');

  // Everything listed, one page after another.
  const all = await listed(made, 'limit=1');
  t.equal(all.items.length, 1);
  t.type(all.next_cursor, 'string');
  const rest = await listed(made, `limit=1&cursor=${all.next_cursor ?? ''}`);
  t.strictSame(new Set([...all.items, ...rest.items].map((item) => item.payment_id)), new Set([first.payment.id, refused.payment.id]));
  t.equal(rest.next_cursor, null);
  t.equal((await made.app.inject({ method: 'GET', url: '/api/v1/admin/refunds?cursor=garbage', headers: bearer(made.admin) })).statusCode, 400);
  t.equal((await made.app.inject({ method: 'GET', url: '/api/v1/admin/refunds?status=owed', headers: bearer(made.admin) })).statusCode, 400);

  // An admin retries: a new attempt, a new key, paid.
  const retried = await made.app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${refused.payment.id}`, headers: bearer(made.admin) });
  t.equal(retried.statusCode, 202, retried.body);
  t.match(retried.json(), { payment_id: refused.payment.id, status: 'refunding', position: Number });
  await listedAs(made, refused.payment.id, 'refunded');
  t.match((await midtrans.order(refused.payment.transaction_id))?.refunds, [{ refund_key: `refund-${refused.payment.id}-2`, amount: 850_000 }]);
  const again = await made.app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${refused.payment.id}`, headers: bearer(made.admin) });
  t.equal(again.statusCode, 409);
  t.equal(again.json<{ code: string }>().code, 'REFUND_ALREADY_PAID', 'never twice');
  t.equal((await midtrans.order(refused.payment.transaction_id))?.refunds.length, 1);
});

t.test('refunds with AUTO_REFUND=false: owed until an admin pays them; only admins list or pay', async (t) => {
  const midtrans = await localMidtrans(t);
  const made = await midtransApp(t, midtrans, { AUTO_REFUND: 'false' });
  const { store } = made.services.shared;
  const concert = await createConcert(made.app, made.admin, [{ name: 'Festival', price: 600_000, total_seats_in_class: 10 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const { payment } = await paid(made, midtrans, concert.id, classId);
  await cancel(made, concert.id);

  const owed = await listedAs(made, payment.id, 'refund_due');
  t.match(owed, { amount: 600_000, reason: 'concert_cancelled', status: 'refund_due' });
  // The refunds reactor has read past the refund owed, and left it owed.
  const dueAt = (await store.readStream(`payment-${payment.transaction_id}`)).find((e) => e.type === 'PaymentRefundDue')?.position ?? Infinity;
  await eventually(async () => (await made.services.command.reactors.checkpoint('refunds')) >= dueAt, 'the refunds reactor read the refund owed');
  t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue']);
  t.strictSame((await midtrans.order(payment.transaction_id))?.refunds, [], 'nothing paid back yet');
  t.equal(await paymentStatus(made, payment.id), 'refund_due');

  // Only admins.
  const someone = await customer(made.app);
  t.equal((await made.app.inject({ method: 'GET', url: '/api/v1/admin/refunds', headers: bearer(someone.token) })).statusCode, 403);
  t.equal((await made.app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${payment.id}`, headers: bearer(someone.token) })).statusCode, 403);
  t.equal((await made.app.inject({ method: 'GET', url: '/api/v1/admin/refunds' })).statusCode, 401);
  t.equal((await made.app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${payment.id}` })).statusCode, 401);
  t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue'], 'nothing started');

  // Bad or unknown payment ids.
  t.equal((await made.app.inject({ method: 'POST', url: '/api/v1/admin/refunds/not-a-payment', headers: bearer(made.admin) })).statusCode, 400);
  const unknown = await made.app.inject({ method: 'POST', url: '/api/v1/admin/refunds/5a5a5a5a-0000-4000-8000-000000000000', headers: bearer(made.admin) });
  t.equal(unknown.statusCode, 404);

  // The admin pays it.
  const started = await made.app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${payment.id}`, headers: bearer(made.admin) });
  t.equal(started.statusCode, 202, started.body);
  await listedAs(made, payment.id, 'refunded');
  t.match((await midtrans.order(payment.transaction_id))?.refunds, [{ refund_key: `refund-${payment.id}-1`, amount: 600_000 }]);
  t.equal(await paymentStatus(made, payment.id), 'refunded');
});
