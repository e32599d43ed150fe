/**
 * Paying with Midtrans, end to end against the local Midtrans (test/harness/midtrans-server.ts):
 * the app listens on a port, the local Midtrans sends its signed notifications there, and the
 * webhook confirms each one by asking the gateway before anything is appended.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { concertEvents } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { freePort } from '../../test/harness/servers.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { localMidtrans, midtransEnv } from '../../test/support/midtrans.ts';
import { bearer } from '../../test/support/users.ts';

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

interface Payment { id: string; transaction_id: string; checkout_url: string; amount: number }

t.test('paying with Midtrans', async (t) => {
  const midtrans = await localMidtrans(t);
  const port = await freePort();
  const webhookUrl = `http://127.0.0.1:${port}/api/v1/payments/webhook/midtrans`;
  // Chosen by configuration, as a deployment chooses it; the local Midtrans stands in for the vendor's URLs.
  // No reactors or expirer: nothing but the requests of each test appends, so "nothing changed" is the head position.
  const made: TestApp = await testApp(t, {
    REQUIRE_EMAIL_VERIFICATION: 'false',
    ...midtransEnv(midtrans, port),
  });
  const { gateway } = made.services.command.api.gateway;
  t.equal(made.services.command.api.gateway.name, 'midtrans');
  t.equal((await made.app.inject({ method: 'POST', url: '/sandbox/checkout/bx-0/pay' })).statusCode, 404, 'the sandbox is not there');
  await made.app.listen({ port, host: '127.0.0.1' });
  const { store } = made.services.shared;
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'Festival', price: 850_000, total_seats_in_class: 20 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';

  const paying = async (method: 'virtual_account' | 'bank_transfer' | 'e_wallet' | 'card' = 'virtual_account') => {
    const user = await customer(made.app);
    const request = byClass(concert.id, classId, 2);
    const booking = (await book(made.app, user.token, request)).json<{ id: string }>();
    const started = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: method } });
    if (started.statusCode !== 201) throw new Error(`payment answered ${started.statusCode}: ${started.body}`);
    return { booking, buyer: request.buyer_info, payment: started.json<Payment>() };
  };

  t.test('book → checkout at Midtrans → the buyer pays → the signed notification confirms the booking', async (t) => {
    const { booking, buyer, payment } = await paying('e_wallet');
    t.equal(payment.amount, 1_700_000);
    t.match(payment.transaction_id, /^bx-[0-9a-f]{32}$/);
    t.ok(payment.checkout_url.startsWith(`${midtrans.url}/snap/v4/redirection/`), `checkout_url is the local Midtrans's: ${payment.checkout_url}`);
    const page = await fetch(payment.checkout_url, { signal: AbortSignal.timeout(5_000) });
    t.equal(page.status, 200);

    const sent = (await midtrans.requests()).filter((request) => JSON.stringify(request.body).includes(payment.transaction_id));
    t.strictSame(sent.map((request) => request.body), [{
      transaction_details: { order_id: payment.transaction_id, gross_amount: 1_700_000 },
      enabled_payments: ['gopay', 'shopeepay', 'other_qris'],
    }], 'Midtrans was sent the order, the amount and the channels');
    const everything = JSON.stringify(await midtrans.requests());
    for (const [field, value] of Object.entries(buyer)) t.notOk(everything.includes(value), `no buyer ${field} reached the gateway`);
    t.notOk(everything.includes(booking.id), 'not even the booking id');

    const paid = await midtrans.act(payment.transaction_id, 'pay', { payment_type: 'gopay' });
    t.equal(paid.delivery.status, 200, paid.delivery.body);
    t.match(JSON.parse(paid.delivery.body), { status: 'processed' });
    t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested', 'PaymentSucceeded']);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed');
    const sold = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents));
    t.ok(sold.some((e) => e.type === 'SeatsSold' && e.data.booking_id === booking.id), 'SeatsSold');

    const head = await store.headPosition();
    const again = await midtrans.act(payment.transaction_id, 'notify');
    t.equal(again.delivery.status, 200);
    t.match(JSON.parse(again.delivery.body), { status: 'duplicate' });
    t.equal(await store.headPosition(), head, 'a repeated notification appends nothing');
  });

  t.test('a declined payment releases the seats', async (t) => {
    const { booking, payment } = await paying('card');
    const declined = await midtrans.act(payment.transaction_id, 'decline', { payment_type: 'credit_card' });
    t.equal(declined.delivery.status, 200, declined.delivery.body);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentFailed');
    const events = (await store.readStream(`concert-${concert.id}`)).map((e) => decode(e, concertEvents));
    t.ok(events.some((e) => e.type === 'HoldReleased' && e.data.booking_id === booking.id && e.data.reason === 'payment_failed'));
  });

  t.test('a forged or missing signature: 401, nothing appended', async (t) => {
    const { booking, payment } = await paying();
    const head = await store.headPosition();
    const forged = await midtrans.notify({
      notification_url: webhookUrl, order_id: payment.transaction_id, status_code: '200', gross_amount: `${payment.amount}.00`,
      transaction_status: 'settlement', sign_with: 'SB-Mid-server-guessed-by-an-attacker',
    });
    t.equal(forged.delivery.status, 401);
    t.match(JSON.parse(forged.delivery.body), { code: 'INVALID_SIGNATURE' });
    const unsigned = await made.app.inject({
      method: 'POST', url: '/api/v1/payments/webhook/midtrans', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ order_id: payment.transaction_id, status_code: '200', gross_amount: `${payment.amount}.00`, transaction_status: 'settlement' }),
    });
    t.equal(unsigned.statusCode, 401);
    t.equal(unsigned.headers['content-type'], 'application/problem+json; charset=utf-8');
    const garbage = await made.app.inject({ method: 'POST', url: '/api/v1/payments/webhook/midtrans', headers: { 'content-type': 'application/json' }, payload: '[]' });
    t.equal(garbage.statusCode, 401);
    t.equal(await store.headPosition(), head, 'nothing appended');
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted');
  });

  t.test('a genuine notification is only a hint: while Midtrans says pending, nothing is decided', async (t) => {
    const { booking, payment } = await paying();
    const head = await store.headPosition();
    // Signed with the real key (a replayed or premature notification): the gateway's answer wins.
    const early = await midtrans.notify({
      notification_url: webhookUrl, order_id: payment.transaction_id, status_code: '200', gross_amount: `${payment.amount}.00`, transaction_status: 'settlement',
    });
    t.equal(early.delivery.status, 200, early.delivery.body);
    t.match(JSON.parse(early.delivery.body), { status: 'pending' });
    t.equal(await store.headPosition(), head, 'nothing appended');
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted');
  });

  t.test('paid with another amount than the booking\'s: 400 AMOUNT_MISMATCH, nothing appended', async (t) => {
    const { booking, payment } = await paying();
    const head = await store.headPosition();
    const short = await midtrans.act(payment.transaction_id, 'pay', { payment_type: 'bank_transfer', gross_amount: payment.amount - 1 });
    t.equal(short.delivery.status, 400, short.delivery.body);
    t.match(JSON.parse(short.delivery.body), { code: 'AMOUNT_MISMATCH' });
    t.equal(await store.headPosition(), head, 'nothing appended');
    t.strictSame(await types(store, `payment-${payment.transaction_id}`), ['PaymentRequested']);
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingPaymentStarted');
  });

  t.test('an order that is not ours, signed by Midtrans: 404 UNKNOWN_TRANSACTION, nothing appended', async (t) => {
    const head = await store.headPosition();
    const stranger = await midtrans.notify({
      notification_url: webhookUrl, order_id: `bx-${randomBytes(16).toString('hex')}`, status_code: '200', gross_amount: '1700000.00', transaction_status: 'settlement',
    });
    t.equal(stranger.delivery.status, 404, stranger.delivery.body);
    t.match(JSON.parse(stranger.delivery.body), { code: 'UNKNOWN_TRANSACTION' });
    t.equal(await store.headPosition(), head, 'nothing appended');
  });

  t.test('a refund through the refund API marks the order refunded at Midtrans', async (t) => {
    const { booking, payment } = await paying('e_wallet');
    await midtrans.act(payment.transaction_id, 'pay', { payment_type: 'shopeepay' });
    t.equal((await types(store, `booking-${booking.id}`)).at(-1), 'BookingConfirmed');
    const refundKey = `rf-${payment.id}`;
    t.strictSame(await gateway.refund({ transactionId: payment.transaction_id, amount: payment.amount, refundKey, reason: 'concert cancelled' }), { status: 'refunded' });
    const order = await midtrans.order(payment.transaction_id);
    t.equal(order?.transaction_status, 'refund');
    t.strictSame(order?.refunds.map((done) => ({ key: done.refund_key, amount: done.amount })), [{ key: refundKey, amount: payment.amount }]);
    // Midtrans notifies the refund too: it settles nothing again.
    const head = await store.headPosition();
    const delivered = await eventually(async () => {
      const deliveries = (await midtrans.order(payment.transaction_id))?.deliveries ?? [];
      return deliveries.length >= 2 ? deliveries.at(-1) : undefined;
    }, 'the refund notification delivered');
    t.equal(delivered.status, 200, delivered.body);
    t.match(JSON.parse(delivered.body), { status: 'duplicate' });
    t.equal(await store.headPosition(), head, 'the refund notification appends nothing');
  });
});
