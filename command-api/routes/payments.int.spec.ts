/**
 * Payments, the signed webhook, hold expiry (also across a restart) and concert cancellation,
 * over HTTP (inject) on the MariaDB event store with the reactors running.
 */
import t, { type Test } from 'tap';
import { signWebhook } from '../payments/gateway.ts';
import { buildApp } from '../../app/app.ts';
import { loadConfig } from '../../lib/config.ts';
import { everyRole, wireProcess } from '../../app/wiring/process.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import { concertEvents } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, webhook } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { assertNoSecretsInLogs, bearer } from '../../test/support/users.ts';

const allLogs: string[] = [];
async function app(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', EXPIRY_CHECK_INTERVAL_MS: '100', ...env }, { reactors: true });
  t.teardown(() => void allLogs.push(...made.logs));
  return made;
}

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

interface Payment { id: string; transaction_id: string; checkout_url: string; amount: number; position: number }

async function bookedAndPaying(made: TestApp, classId: string, concertId: string, quantity = 1) {
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concertId, classId, quantity))).json<{ id: string; total_price: number; seats: { id: string }[] }>();
  const started = await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' },
  });
  return { user, booking, started, payment: started.json<Payment>() };
}

t.test('paying', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const secret = made.services.command.api.webhookSecret;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_500_000, total_seats_in_class: 10 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';

  t.test('a payment is opened for the booking amount, with a checkout page', async (t) => {
    const { booking, started, payment } = await bookedAndPaying(made, classId, concert.id, 2);
    t.equal(started.statusCode, 201);
    t.match(payment, { booking_id: booking.id, amount: 3_000_000, status: 'pending', transaction_id: /^sbx_/, checkout_url: /\/sandbox\/checkout\/sbx_/ });
    t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested']);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted');
    const page = await made.app.inject({ method: 'GET', url: new URL(payment.checkout_url).pathname });
    t.equal(page.statusCode, 200);
    t.match(page.body, /Pay<\/button>/);
    t.match(page.body, /Decline<\/button>/);
  });

  t.test('card data, someone else\'s booking, a paid booking: refused', async (t) => {
    const { user, booking } = await bookedAndPaying(made, classId, concert.id);
    const card = await made.app.inject({
      method: 'POST', url: '/api/v1/payments', headers: bearer(user.token),
      payload: { booking_id: booking.id, payment_method: 'card', card_number: '4111111111111111', cvv: '123' },
    });
    t.equal(card.statusCode, 400);
    t.equal(card.json<{ code: string }>().code, 'CARD_DATA_REFUSED');
    const stranger = await customer(made.app);
    const foreign = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(stranger.token), payload: { booking_id: booking.id, payment_method: 'e_wallet' } });
    t.equal(foreign.statusCode, 404);
    const again = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'e_wallet' } });
    t.equal(again.statusCode, 200, 'a second request gets the payment already open');
  });

  t.test('the webhook: a bad signature is 401 and changes nothing', async (t) => {
    const { booking, payment } = await bookedAndPaying(made, classId, concert.id);
    const before = await store.headPosition();
    const body = { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount };
    const forged = await webhook(made.app, 'not-the-secret-not-the-secret', body);
    t.equal(forged.statusCode, 401);
    t.equal(forged.json<{ code: string }>().code, 'INVALID_SIGNATURE');
    const missing = await made.app.inject({ method: 'POST', url: '/api/v1/payments/webhook', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    t.equal(missing.statusCode, 401);
    const tampered = await webhook(made.app, secret, { ...body, amount: 1 }, signWebhook(secret, JSON.stringify(body)));
    t.equal(tampered.statusCode, 401, 'a signature for another body');
    t.equal(await store.headPosition(), before);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted');
  });

  t.test('success sells the seats and confirms the booking; a replay is a no-op', async (t) => {
    const { booking, payment } = await bookedAndPaying(made, classId, concert.id);
    const body = { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount };
    const first = await webhook(made.app, secret, body);
    t.equal(first.statusCode, 200);
    t.equal(first.json<{ status: string }>().status, 'processed');
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed');
    const events = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents));
    t.ok(events.some((e) => e.type === 'SeatsSold' && e.data.booking_id === booking.id), 'SeatsSold');
    const head = await store.headPosition();
    const replay = await webhook(made.app, secret, body);
    t.equal(replay.statusCode, 200);
    t.equal(replay.json<{ status: string }>().status, 'duplicate');
    t.equal(await store.headPosition(), head, 'nothing appended by the replay');
  });

  t.test('failure releases the seats and fails the booking', async (t) => {
    const { booking, payment } = await bookedAndPaying(made, classId, concert.id);
    const failed = await webhook(made.app, secret, { transaction_id: payment.transaction_id, status: 'failed', amount: payment.amount });
    t.equal(failed.statusCode, 200);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentFailed');
    const events = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents));
    t.ok(events.some((e) => e.type === 'HoldReleased' && e.data.booking_id === booking.id && e.data.reason === 'payment_failed'));
  });

  t.test('the sandbox checkout page\'s Pay button sends the signed webhook', async (t) => {
    const { booking, payment } = await bookedAndPaying(made, classId, concert.id);
    const paid = await made.app.inject({ method: 'POST', url: `${new URL(payment.checkout_url).pathname}/pay`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    t.equal(paid.statusCode, 200);
    t.match(paid.body, /Payment sent/);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed');
  });
});

t.test('unpaid holds expire, and a late payment is refunded without the seats', async (t) => {
  const made = await app(t, { HOLD_TTL_SECONDS: '2' });
  const { store } = made.services.shared;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 1 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const { booking, payment } = await bookedAndPaying(made, classId, concert.id);
  const next = await customer(made.app);
  t.equal((await book(made.app, next.token, byClass(concert.id, classId, 1))).json<{ code: string }>().code, 'SOLD_OUT');

  await eventually(async () => (await types(store, `booking-${booking.id}`)).includes('BookingExpired'), 'the booking expires');
  const released = (await store.readStream(`concert-${concert.id}`)).find((e) => e.type === 'HoldReleased');
  t.match(released?.data, { booking_id: booking.id, reason: 'expired' });
  const rebooked = await book(made.app, next.token, byClass(concert.id, classId, 1));
  t.equal(rebooked.statusCode, 201, 'the seat is on sale again, and sold to the next buyer');

  const late = await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
  t.equal(late.statusCode, 200);
  const events = await store.readStream(`booking-${booking.id}`);
  t.equal(events.at(-1)?.type, 'BookingRefundDue');
  t.match(events.at(-1)?.data, { reason: 'late_payment', amount: payment.amount, transaction_id: payment.transaction_id });
  t.notOk((await store.readStream(`concert-${concert.id}`)).some((e) => e.type === 'SeatsSold'), 'no seat was sold to the late payer');
});

t.test('only the owner opens a payment: an admin gets 404 for a customer\'s booking, and nothing is appended', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 1))).json<{ id: string }>();
  const before = await store.headPosition();
  const opened = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(admin), payload: { booking_id: booking.id, payment_method: 'virtual_account' } });
  t.equal(opened.statusCode, 404);
  t.equal(opened.json<{ code: string }>().code, 'NOT_FOUND');
  t.equal(await store.headPosition(), before, 'nothing appended');
  t.notOk((await types(store, `booking-${booking.id}`)).includes('BookingPaymentStarted'), 'the booking has no payment');
  const own = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' } });
  t.equal(own.statusCode, 201, 'its owner opens one');
});

t.test('when the sandbox is not the gateway, its checkout pages and webhook do not exist: nobody pays for free', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { store, config } = made.services.shared;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }]);
  const { booking, payment } = await bookedAndPaying(made, concert.ticket_classes[0]?.id ?? '', concert.id);
  const secret = made.services.command.api.webhookSecret;
  const bookingBefore = await types(store, `booking-${booking.id}`);

  // The same stores, but Midtrans chosen as the gateway, as the wiring passes the choice (a process
  // with no gateway at all does not start: lib/config.unit.spec.ts). The Midtrans webhook spec
  // shows the same with the choice made by PAYMENT_GATEWAY itself.
  for (const paymentGateway of ['midtrans'] as const) {
    const services = made.services;
    const api = services.command.api;
    const wired = { ...services, command: { ...services.command, api: { ...api, gateway: { name: paymentGateway, gateway: api.gateway.gateway } } } };
    const logger = serverLogger({ ...config, logLevel: 'silent' });
    const other = await buildApp(wired, logger);
    t.teardown(() => other.close());
    const path = new URL(payment.checkout_url).pathname;
    const page = await other.inject({ method: 'GET', url: path });
    t.equal(page.statusCode, 404, `${paymentGateway}: no checkout page`);
    const pay = await other.inject({ method: 'POST', url: `${path}/pay`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    t.equal(pay.statusCode, 404, `${paymentGateway}: an anonymous "Pay" finds nothing`);
    const signed = await webhook(other, secret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
    t.equal(signed.statusCode, 404, `${paymentGateway}: no sandbox webhook, even signed`);
  }
  t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested'], 'the payment is still only requested');
  t.strictSame(await types(store, `booking-${booking.id}`), bookingBefore, 'the booking stays pending');
  t.notOk((await store.readStream(`concert-${concert.id}`)).some((e) => e.type === 'SeatsSold'), 'no seat was sold');
});

t.test('expiry survives a restart: the due-time index is durable', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', HOLD_TTL_SECONDS: '2', EXPIRY_CHECK_INTERVAL_MS: '100' }, { reactors: true });
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 2))).json<{ id: string }>();
  // Let the deadline reach the index, then stop everything before the hold is due.
  await eventually(async () => (await made.services.command.reactors.due(Date.now() + 60_000, 10)).some((d) => d.bookingId === booking.id), 'the deadline is indexed');
  await made.app.close();
  await made.services.close();
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'warn', BOXOFFICE_DATA_DIR: made.dataDir, MYSQL_URL: made.services.shared.config.mysqlUrl ?? '', PAYMENT_GATEWAY: 'sandbox',
    REQUIRE_EMAIL_VERIFICATION: 'false', HOLD_TTL_SECONDS: '2', EXPIRY_CHECK_INTERVAL_MS: '100', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1',
  });
  const logger = serverLogger(config);
  const services = everyRole(await wireProcess(config, logger.root));
  const restarted = await buildApp(services, logger);
  t.teardown(async () => {
    await restarted.close();
    await services.close();
  });
  services.command.start();
  await eventually(async () => (await types(services.shared.store, `booking-${booking.id}`)).includes('BookingExpired'), 'the restarted process expires the booking');
  t.pass('expired after the restart');
});

t.test('a cancelled concert cancels pending bookings and owes refunds for paid ones', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'VIP', price: 800_000, total_seats_in_class: 10 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const pending = await bookedAndPaying(made, classId, concert.id);
  const paid = await bookedAndPaying(made, classId, concert.id);
  await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: paid.payment.transaction_id, status: 'succeeded', amount: paid.payment.amount });

  const cancelled = await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin), payload: { reason: 'venue flooded' } });
  t.equal(cancelled.statusCode, 200);
  t.match(cancelled.json(), { id: concert.id, status: 'cancelled', position: Number });
  await eventually(async () => (await types(store, `booking-${pending.booking.id}`)).includes('BookingCancelled'), 'the pending booking is cancelled');
  await eventually(async () => (await types(store, `booking-${paid.booking.id}`)).includes('BookingRefundDue'), 'the paid booking is refund-due');
  const refund = (await store.readStream(`booking-${paid.booking.id}`)).at(-1);
  t.match(refund?.data, { reason: 'concert_cancelled', amount: 800_000 });
  const after = await book(made.app, (await customer(made.app)).token, byClass(concert.id, classId, 1));
  t.equal(after.json<{ code: string }>().code, 'CONCERT_CANCELLED');
  const customerToken = (await customer(made.app)).token;
  t.equal((await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(customerToken) })).statusCode, 403);
});

t.test('a booking stream lost to a crash is rebuilt from its hold', async (t) => {
  const made = await app(t);
  const { shared: { store }, command: { writer } } = made.services;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 800_000, total_seats_in_class: 10 }]);
  const user = await customer(made.app);
  const bookingId = '5a5a5a5a-0000-4000-8000-00000000c0de';
  const sealed = await made.services.command.personalData.seal(user.id, { full_name: 'Crash Test', ktp_number: '3201000000000001' });
  // The hold alone, as if the process died before writing the booking stream.
  await writer.submit(concert.id, {
    type: 'HoldSeats', booking_id: bookingId, user_id: user.id,
    selection: { by: 'class', tickets: [{ ticket_class_id: concert.ticket_classes[0]?.id ?? '', quantity: 1 }] },
    ktp_fingerprints: ['fp'], personal_data: { buyer: sealed, ticket_holders: [sealed] },
    expires_at: new Date(Date.now() + 600_000).toISOString(), now: new Date().toISOString(),
  }, { correlationId: 'crash', causationId: 'crash', actorId: user.id, occurredAt: new Date().toISOString() });
  await eventually(async () => (await types(store, `booking-${bookingId}`)).includes('BookingPlaced'), 'the repair reactor places the booking');
  t.strictSame(await types(store, `booking-${bookingId}`), ['BookingPlaced']);
});

t.test('no password, token or personal value reached the logs', async (t) => {
  assertNoSecretsInLogs(t, allLogs);
});
