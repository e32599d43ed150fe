/**
 * Issue 17, findings 2 and 3, over HTTP (inject) on the MariaDB event store with the reactors
 * running: a booking has at most one open payment, whatever the requests' keys; money that
 * cannot buy the seats (a payment the booking does not know, a concert cancelled before the
 * money came) is owed back on its payment; and the payments reactor keeps moving past it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { bookingDecider } from '../../domain/booking/index.ts';
import { concertEvents } from '../../domain/concert/index.ts';
import { paymentDecider, paymentEvents, paymentStream } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, webhook } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { bearer } from '../../test/support/users.ts';
import { CommandHandler } from '../command-handler.ts';

async function app(t: Test): Promise<TestApp> {
  // Refunds owed stay owed here (the refunds reactor would pay them and append): these specs check what
  // is owed and that the payments reactor moves on; paying refunds is refunds.int.spec.ts's.
  return testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', EXPIRY_CHECK_INTERVAL_MS: '100', AUTO_REFUND: 'false' }, { reactors: true });
}

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

/** Every payment stream opened for the booking, by its PaymentRequested. */
async function paymentsOf(store: EventStore, bookingId: string): Promise<string[]> {
  const { events } = await store.readAll({ filter: { eventTypes: ['PaymentRequested'] }, maxCount: 100_000 });
  return events.map((recorded) => decode(recorded, paymentEvents)).flatMap((event) =>
    event.type === 'PaymentRequested' && event.data.booking_id === bookingId ? [event.data.transaction_id] : []);
}

/** The payments reactor has read everything written so far. */
async function reactorCaughtUp(made: TestApp): Promise<void> {
  const head = await made.services.shared.store.headPosition();
  await eventually(async () => (await made.services.command.reactors.checkpoint('payments')) >= head || undefined, `the payments reactor reaches ${head}`, 20_000);
}

interface Payment { id: string; booking_id: string; transaction_id: string; checkout_url: string; amount: number; position: number }

t.test('50 parallel payment requests for one booking, each with its own key: one payment, and every answer names it', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_500_000, total_seats_in_class: 10 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 2))).json<{ id: string }>();

  const answers = await Promise.all(Array.from({ length: 50 }, () => made.app.inject({
    method: 'POST', url: '/api/v1/payments',
    headers: { ...bearer(user.token), 'idempotency-key': randomUUID() },
    payload: { booking_id: booking.id, payment_method: 'virtual_account' },
  })));

  t.strictSame([...new Set(answers.map((answer) => answer.statusCode))].sort(), [200, 201], 'one 201, the others 200');
  t.equal(answers.filter((answer) => answer.statusCode === 201).length, 1, 'exactly one request opened the payment');
  const transactions = await paymentsOf(store, booking.id);
  t.equal(transactions.length, 1, 'exactly one payment stream exists for the booking');
  const bodies = answers.map((answer) => answer.json<Payment>());
  t.strictSame([...new Set(bodies.map((body) => body.transaction_id))], transactions, 'every answer names it');
  t.equal(new Set(answers.map((answer) => answer.body)).size, 1, 'every answer has the same body');
  const bookingEvents = await types(store, `booking-${booking.id}`);
  t.equal(bookingEvents.filter((type) => type === 'BookingPaymentOpened').length, 1, 'the booking opened one payment');
  t.equal(bookingEvents.filter((type) => type === 'BookingPaymentStarted').length, 1, 'and knows its transaction');

  const again = await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: { ...bearer(user.token), 'idempotency-key': randomUUID() },
    payload: { booking_id: booking.id, payment_method: 'e_wallet' },
  });
  t.equal(again.statusCode, 200, 'while it is pending, a later request answers it too');
  t.equal(again.body, answers[0]?.body);
});

t.test('a payment the booking does not know: paid, it is owed back; the booking\'s own payment still buys the seats; the reactor moves on', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const secret = made.services.command.api.webhookSecret;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 900_000, total_seats_in_class: 1 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 1))).json<{ id: string }>();
  const real = (await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' },
  })).json<Payment>();
  // A payment stream for the booking that the booking never opened: what the parallel requests of
  // finding 2 left behind (and what older versions may have left in a store).
  const orphan = `sbx_${randomBytes(16).toString('hex')}`;
  const now = new Date().toISOString();
  await new CommandHandler(store).execute(paymentStream(orphan), paymentDecider, {
    type: 'RequestPayment', payment_id: randomUUID(), transaction_id: orphan, booking_id: booking.id, user_id: user.id,
    amount: 900_000, method: 'e_wallet', checkout_url: `http://localhost/sandbox/checkout/${orphan}`, now,
  }, { correlationId: 'orphan', causationId: 'orphan', actorId: user.id, occurredAt: now });

  const paidOrphan = await webhook(made.app, secret, { transaction_id: orphan, status: 'succeeded', amount: 900_000 });
  t.equal(paidOrphan.statusCode, 200, 'the webhook accepts the money');
  t.strictSame(await types(store, paymentStream(orphan)), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue'], 'and owes it back');
  t.match((await store.readStream(paymentStream(orphan))).at(-1)?.data, { reason: 'duplicate_payment', amount: 900_000, booking_id: booking.id });
  const concertAfter = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents));
  t.notOk(concertAfter.some((e) => e.type === 'SeatsSold'), 'no seat was sold to the unknown payment');
  t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted', 'the booking is untouched, still paying');
  t.equal((await webhook(made.app, secret, { transaction_id: orphan, status: 'succeeded', amount: 900_000 })).statusCode, 200, 'a repeat is a no-op');

  const paidReal = await webhook(made.app, secret, { transaction_id: real.transaction_id, status: 'succeeded', amount: real.amount });
  t.equal(paidReal.statusCode, 200);
  t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed', 'the booking\'s own payment confirms it');
  const sold = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents)).filter((e) => e.type === 'SeatsSold');
  t.match(sold, [{ data: { booking_id: booking.id, transaction_id: real.transaction_id } }], 'the seat is sold once, to the booking\'s own payment');
  t.strictSame(await types(store, paymentStream(real.transaction_id)), ['PaymentRequested', 'PaymentSucceeded'], 'the real payment owes nothing');
  await reactorCaughtUp(made);
  t.pass('the payments reactor reached the head');
});

t.test('finding 3: paid after the concert was cancelled, the money is owed back; a repeat is a no-op; the reactor moves on', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const secret = made.services.command.api.webhookSecret;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'VIP', price: 700_000, total_seats_in_class: 5 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 1))).json<{ id: string }>();
  const payment = (await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' },
  })).json<Payment>();

  const cancelled = await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin), payload: { reason: 'artist ill' } });
  t.equal(cancelled.statusCode, 200);
  await eventually(async () => (await types(store, `booking-${booking.id}`)).includes('BookingCancelled') || undefined, 'the pending booking is cancelled');

  const body = { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount };
  const paid = await webhook(made.app, secret, body);
  t.equal(paid.statusCode, 200, `the webhook answers 200 (${paid.body})`);
  t.strictSame(await types(store, paymentStream(payment.transaction_id)), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue']);
  t.match((await store.readStream(paymentStream(payment.transaction_id))).at(-1)?.data, { reason: 'concert_cancelled', amount: 700_000 });
  const bookingEvents = await store.readStream(`booking-${booking.id}`);
  t.match(bookingEvents.at(-1), { type: 'BookingRefundDue', data: { reason: 'concert_cancelled', transaction_id: payment.transaction_id, amount: 700_000 } });
  t.notOk((await store.readStream(`concert-${concert.id}`)).some((e) => e.type === 'SeatsSold'), 'no seat was sold');

  const head = await store.headPosition();
  for (let i = 0; i < 3; i++) {
    const repeat = await webhook(made.app, secret, body);
    t.equal(repeat.statusCode, 200, 'a repeat answers 200');
    t.equal(repeat.json<{ status: string }>().status, 'duplicate');
  }
  t.equal(await store.headPosition(), head, 'and appends nothing');
  await reactorCaughtUp(made);
  t.equal(await store.headPosition(), head, 'the reactor had nothing left to do');
});

t.test('a paid booking of a cancelled concert: its payment is owed back too', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'VIP', price: 600_000, total_seats_in_class: 5 }]);
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 1))).json<{ id: string }>();
  const payment = (await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'card' },
  })).json<Payment>();
  t.equal((await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount })).statusCode, 200);
  t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed');

  t.equal((await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin), payload: { reason: 'storm' } })).statusCode, 200);
  await eventually(async () => (await types(store, paymentStream(payment.transaction_id))).includes('PaymentRefundDue') || undefined, 'the payment is owed back');
  t.match((await store.readStream(paymentStream(payment.transaction_id))).at(-1)?.data, { reason: 'concert_cancelled', amount: 600_000 });
  t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingRefundDue');
  await reactorCaughtUp(made);
});

t.test('a request that died after the booking opened its payment: the next request, or else the payments reactor, finishes it', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const commands = new CommandHandler(store);
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 400_000, total_seats_in_class: 5 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const halfOpen = async () => {
    const user = await customer(made.app);
    const booking = (await book(made.app, user.token, byClass(concert.id, classId, 1))).json<{ id: string }>();
    const now = new Date().toISOString();
    // What the request wrote before it died: the booking's decision, nothing at the gateway yet.
    await commands.execute(`booking-${booking.id}`, bookingDecider, { type: 'OpenPayment', payment_id: randomUUID(), method: 'e_wallet', amount: 400_000, now },
      { correlationId: 'died', causationId: 'died', actorId: user.id, occurredAt: now });
    return { user, booking };
  };

  const retried = await halfOpen();
  const again = await made.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: { ...bearer(retried.user.token), 'idempotency-key': randomUUID() },
    payload: { booking_id: retried.booking.id, payment_method: 'virtual_account' },
  });
  t.equal(again.statusCode, 200, 'the next request answers the payment the booking opened');
  t.strictSame(await paymentsOf(store, retried.booking.id), [again.json<Payment>().transaction_id], 'one payment, at the gateway and in the store');
  t.match(await types(store, `booking-${retried.booking.id}`), ['BookingPlaced', 'BookingPaymentOpened', 'BookingPaymentStarted']);

  const forgotten = await halfOpen();
  await eventually(async () => (await types(store, `booking-${forgotten.booking.id}`)).includes('BookingPaymentStarted') || undefined, 'the payments reactor finishes opening it');
  t.equal((await paymentsOf(store, forgotten.booking.id)).length, 1, 'one payment stream');
  await reactorCaughtUp(made);
});
