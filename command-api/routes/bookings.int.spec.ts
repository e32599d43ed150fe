/**
 * Concerts, bookings and cancellations over HTTP (inject), on the MariaDB event store, with the
 * reactors running.
 */
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { concertDecider, concertEvents as concertEventSet, seatId, toSnapshot } from '../../domain/concert/index.ts';
import { bookingEvents } from '../../domain/booking/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { adminToken, book, buyer, byClass, bySeat, createConcert, customer, ktp, webhook } from '../../test/support/booking.ts';
import { assertNoSecretsInLogs, bearer, register, login } from '../../test/support/users.ts';

const allLogs: string[] = [];
async function app(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', ...env }, { reactors: true });
  t.teardown(() => void allLogs.push(...made.logs));
  return made;
}

const concertEvents = (store: EventStore, concertId: string): Promise<RecordedEvent[]> => store.readStream(`concert-${concertId}`);

t.test('scheduling concerts', async (t) => {
  const made = await app(t);
  const admin = await adminToken(made);

  t.test('an admin schedules a concert; it is on sale at once, seats numbered per class', async (t) => {
    const concert = await createConcert(made.app, admin, [
      { name: 'VIP', price: 2_500_000, total_seats_in_class: 50 },
      { name: 'Festival', price: 900_000, total_seats_in_class: 500 },
    ], { max_tickets_per_ktp: 4, description: 'Tur album', image_url: 'https://img.example.test/poster.jpg' });
    t.match(concert, { id: /^[0-9a-f-]{36}$/, status: 'active', ticket_classes: [{ name: 'VIP', price: 2_500_000, total_seats_in_class: 50 }, { name: 'Festival' }] });
    const events = await concertEvents(made.services.shared.store, concert.id);
    t.strictSame(events.map((e) => e.type), ['ConcertScheduled', 'ConcertPublished']);
    t.equal(concert.position, events[1]?.position);
  });

  t.test('a 50,000-seat concert is one request and one small event', async (t) => {
    const concert = await createConcert(made.app, admin, [
      { name: 'Tribune', price: 1_200_000, total_seats_in_class: 20_000 },
      { name: 'Festival', price: 800_000, total_seats_in_class: 30_000 },
    ]);
    const [scheduled] = await concertEvents(made.services.shared.store, concert.id);
    t.ok(JSON.stringify(scheduled?.data).length < 2_000, 'the seats are not listed one by one');
    const customerToken = (await customer(made.app)).token;
    const last = seatId(concert.ticket_classes[1]?.id ?? '', 30_000);
    const booked = await book(made.app, customerToken, bySeat(concert.id, [last]));
    t.equal(booked.statusCode, 201, 'the 50,000th seat exists and can be booked');
  });

  t.test('only admins schedule; bad concerts are 400s', async (t) => {
    const { token } = await customer(made.app);
    const denied = await made.app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(token), payload: {} });
    t.equal(denied.statusCode, 403);
    const noClasses = await made.app.inject({
      method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin),
      payload: { name: 'x', artist: 'y', date: '2027-01-01T00:00:00Z', venue: 'z', ticket_classes: [] },
    });
    t.equal(noClasses.statusCode, 400);
    const duplicate = await made.app.inject({
      method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin),
      payload: { name: 'x', artist: 'y', date: '2027-01-01T00:00:00Z', venue: 'z', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }, { name: 'a', price: 1, total_seats_in_class: 1 }] },
    });
    t.equal(duplicate.json<{ code: string }>().code, 'DUPLICATE_TICKET_CLASS');
    const float = await made.app.inject({
      method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin),
      payload: { name: 'x', artist: 'y', date: '2027-01-01T00:00:00Z', venue: 'z', ticket_classes: [{ name: 'A', price: 1.5, total_seats_in_class: 1 }] },
    });
    t.equal(float.statusCode, 400, 'money is an integer');
  });

  t.test('the same Idempotency-Key schedules one concert', async (t) => {
    const headers = { ...bearer(admin), 'idempotency-key': 'concert-2027-tour' };
    const payload = { name: 'Tour', artist: 'A', date: '2099-03-01T12:00:00Z', venue: 'GBK', ticket_classes: [{ name: 'Cat 1', price: 500_000, total_seats_in_class: 10 }] };
    const answers = await Promise.all(Array.from({ length: 3 }, () => made.app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers, payload })));
    t.strictSame(answers.map((a) => a.statusCode), [201, 201, 201]);
    t.equal(new Set(answers.map((a) => a.body)).size, 1, 'identical answers');
  });
});

t.test('booking', async (t) => {
  const made = await app(t);
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [
    { name: 'VIP', price: 2_000_000, total_seats_in_class: 3 },
    { name: 'Festival', price: 500_000, total_seats_in_class: 20 },
  ], { max_tickets_per_ktp: 3 });
  const [vip, festival] = concert.ticket_classes as [Concert['ticket_classes'][0], Concert['ticket_classes'][0]];

  t.test('by quantity: the lowest seats, held until expires_at, and a booking stream', async (t) => {
    const { id: userId, token } = await customer(made.app);
    const response = await book(made.app, token, byClass(concert.id, festival.id, 2));
    t.equal(response.statusCode, 201);
    const body = response.json<{ id: string; seats: { id: string; seat_number: number }[]; total_price: number; expires_at: string; position: number }>();
    t.match(body, { status: 'pending', concert_id: concert.id, total_price: 1_000_000 });
    t.strictSame(body.seats.map((s) => s.seat_number), [1, 2]);
    t.ok(Date.parse(body.expires_at) > Date.now() + 14 * 60_000, 'held for 15 minutes');
    const booking = await store.readStream(`booking-${body.id}`);
    t.strictSame(booking.map((e) => e.type), ['BookingPlaced']);
    t.equal(body.position, booking[0]?.position, 'the position covers the booking stream');
    t.match(booking[0]?.metadata, { actor_id: userId });
    const hold = (await concertEvents(store, concert.id)).map((e) => decode(e, concertEventSet)).find((e) => e.type === 'SeatsHeld' && e.data.booking_id === body.id);
    // The booking stream is committed in the hold's transaction: the buyer is stored there only, the holders in both.
    const placed = booking[0] && decode(booking[0], bookingEvents);
    t.ok(placed?.type === 'BookingPlaced' && placed.data.buyer.ciphertext && placed.data.buyer_email_digest, 'the buyer and the email digest, sealed, in the booking stream');
    t.ok(hold?.type === 'SeatsHeld' && hold.data.personal_data?.ticket_holders[0]?.ciphertext, 'the holders travel sealed with the hold');
    t.strictSame(hold?.type === 'SeatsHeld' && Object.keys(hold.data.personal_data ?? {}), ['ticket_holders'], 'the buyer is not stored twice');
  });

  t.test('personal data is sealed in every event', async (t) => {
    const { token } = await customer(made.app);
    const info = buyer();
    const holder = { full_name: 'Dimas Holder', ktp_number: ktp() };
    const response = await book(made.app, token, { ...byClass(concert.id, festival.id, 2), buyer_info: info, ticket_holder_info: [holder, { full_name: info.full_name, ktp_number: info.ktp_number }] });
    t.equal(response.statusCode, 201);
    const everything = JSON.stringify((await store.readAll({ maxCount: 10_000 })).events);
    for (const value of [info.full_name, info.phone_number, info.email, info.ktp_number, holder.ktp_number, holder.full_name]) {
      t.notOk(everything.includes(value), `${value.slice(0, 6)}… is not in any event in clear text`);
    }
  });

  t.test('by seat id; a held seat is refused to the next buyer', async (t) => {
    const first = await customer(made.app);
    const second = await customer(made.app);
    const seat = seatId(festival.id, 10);
    t.equal((await book(made.app, first.token, bySeat(concert.id, [seat]))).statusCode, 201);
    const taken = await book(made.app, second.token, bySeat(concert.id, [seat, seatId(festival.id, 11)]));
    t.equal(taken.statusCode, 409);
    t.equal(taken.json<{ code: string }>().code, 'SEAT_UNAVAILABLE');
  });

  t.test('the booking rules answer with their codes, and nothing is appended', async (t) => {
    const { token } = await customer(made.app);
    const head = await store.headPosition();
    const expect = async (body: Record<string, unknown>, status: number, code: string) => {
      const response = await book(made.app, token, body);
      t.equal(response.statusCode, status, code);
      t.equal(response.json<{ code: string }>().code, code);
    };
    const fourHolders = Array.from({ length: 4 }, () => ({ full_name: 'Holder', ktp_number: ktp() }));
    await expect(byClass(concert.id, vip.id, 4, { ticket_holder_info: fourHolders }), 409, 'SOLD_OUT');
    await expect({ ...byClass(concert.id, vip.id, 1), seat_ids: [seatId(vip.id, 1)] }, 400, 'VALIDATION_FAILED');
    await expect({ concert_id: concert.id, buyer_info: buyer() }, 400, 'VALIDATION_FAILED');
    await expect(byClass(concert.id, vip.id, 6), 400, 'VALIDATION_FAILED');
    await expect({ ...byClass(concert.id, vip.id, 1), tickets_by_class: [{ ticket_class_id: vip.id, quantity: 3 }, { ticket_class_id: festival.id, quantity: 3 }] }, 400, 'TOO_MANY_TICKETS');
    await expect({ ...byClass(concert.id, festival.id, 2), ticket_holder_info: [{ full_name: 'One', ktp_number: ktp() }] }, 400, 'HOLDER_COUNT_MISMATCH');
    await expect(byClass('00000000-0000-4000-8000-000000000000', vip.id, 1), 404, 'CONCERT_NOT_FOUND');
    await expect(bySeat(concert.id, ['00000000-0000-4000-8000-000000000001']), 400, 'UNKNOWN_SEAT');
    await expect({ ...byClass(concert.id, vip.id, 1), buyer_info: { ...buyer(), ktp_number: '123' } }, 400, 'VALIDATION_FAILED');
    await expect({ ...byClass(concert.id, vip.id, 1), buyer_info: { ...buyer(), phone_number: '08-12' } }, 400, 'VALIDATION_FAILED');
    t.equal(await store.headPosition(), head, 'nothing appended');
  });

  t.test('one active booking per user per concert; the KTP limit across users', async (t) => {
    const { token } = await customer(made.app);
    t.equal((await book(made.app, token, byClass(concert.id, festival.id, 1))).statusCode, 201);
    const second = await book(made.app, token, byClass(concert.id, festival.id, 1));
    t.equal(second.json<{ code: string }>().code, 'ACTIVE_BOOKING_EXISTS');
    const shared = ktp();
    const a = await customer(made.app);
    const b = await customer(made.app);
    t.equal((await book(made.app, a.token, { ...byClass(concert.id, festival.id, 2), buyer_info: buyer({ ktp_number: shared }) })).statusCode, 201);
    const over = await book(made.app, b.token, { ...byClass(concert.id, festival.id, 2), buyer_info: buyer({ ktp_number: shared }) });
    t.equal(over.statusCode, 409);
    t.equal(over.json<{ code: string }>().code, 'KTP_LIMIT_REACHED');
  });

  t.test('an unverified address cannot book', async (t) => {
    const strict = await app(t, { REQUIRE_EMAIL_VERIFICATION: 'true' });
    const strictConcert = await createConcert(strict.app, await adminToken(strict));
    const account = await register(strict.app);
    const token = await login(strict.app, account);
    const refused = await book(strict.app, token, byClass(strictConcert.id, strictConcert.ticket_classes[0]?.id ?? '', 1));
    t.equal(refused.statusCode, 403);
    t.equal(refused.json<{ code: string }>().code, 'EMAIL_NOT_VERIFIED');
  });

  t.test('without a token, no booking', async (t) => {
    t.equal((await made.app.inject({ method: 'POST', url: '/api/v1/bookings', payload: byClass(concert.id, vip.id, 1) })).statusCode, 401);
  });
});

t.test('idempotency', async (t) => {
  const made = await app(t);
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'Festival', price: 400_000, total_seats_in_class: 30 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';

  t.test('the same key sent 10 times at once: one booking, ten identical answers', async (t) => {
    const { token } = await customer(made.app);
    const body = byClass(concert.id, classId, 2);
    const answers = await Promise.all(Array.from({ length: 10 }, () => book(made.app, token, body, { 'idempotency-key': 'checkout-42' })));
    t.strictSame(answers.map((a) => a.statusCode), Array(10).fill(201));
    t.equal(new Set(answers.map((a) => a.body)).size, 1, 'every answer is the same');
    const holds = (await concertEvents(made.services.shared.store, concert.id)).filter((e) => e.type === 'SeatsHeld');
    t.equal(holds.length, 1, 'one hold');
    const later = await book(made.app, token, body, { 'idempotency-key': 'checkout-42' });
    t.equal(later.body, answers[0]?.body, 'and the same again later');
  });

  t.test('a key reused for a different request is refused', async (t) => {
    const { token } = await customer(made.app);
    t.equal((await book(made.app, token, byClass(concert.id, classId, 1), { 'idempotency-key': 'k-1' })).statusCode, 201);
    const reused = await book(made.app, token, byClass(concert.id, classId, 3), { 'idempotency-key': 'k-1' });
    t.equal(reused.statusCode, 422);
    t.equal(reused.json<{ code: string }>().code, 'IDEMPOTENCY_KEY_REUSED');
    const bad = await book(made.app, token, byClass(concert.id, classId, 1), { 'idempotency-key': 'has spaces' });
    t.equal(bad.statusCode, 400);
  });
});

t.test('cancelling', async (t) => {
  const made = await app(t);
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const owner = await customer(made.app);
  const other = await customer(made.app);
  const booked = (await book(made.app, owner.token, byClass(concert.id, classId, 2))).json<{ id: string }>();
  const cancel = (token: string, id = booked.id) => made.app.inject({ method: 'PUT', url: `/api/v1/bookings/${id}/cancel`, headers: bearer(token) });

  t.equal((await book(made.app, other.token, byClass(concert.id, classId, 1))).json<{ code: string }>().code, 'SOLD_OUT');
  t.equal((await cancel(other.token)).statusCode, 404, "someone else's booking is not found");
  t.equal((await cancel(owner.token, 'not-a-uuid')).statusCode, 400);
  t.equal((await cancel(owner.token, '00000000-0000-4000-8000-00000000dead')).statusCode, 404);
  const cancelled = await cancel(owner.token);
  t.equal(cancelled.statusCode, 200);
  t.match(cancelled.json(), { id: booked.id, status: 'cancelled', position: Number });
  const events = await concertEvents(made.services.shared.store, concert.id);
  t.equal(events.at(-1)?.type, 'HoldReleased');
  t.ok(cancelled.json<{ position: number }>().position >= (events.at(-1)?.position ?? Infinity), 'the answer covers the release');
  const rebooked = await book(made.app, other.token, byClass(concert.id, classId, 2));
  t.equal(rebooked.statusCode, 201, 'the seats are on sale again');
  const head = await made.services.shared.store.headPosition();
  const again = await cancel(owner.token);
  t.equal(again.statusCode, 200, 'cancelling again (a retry that lost its answer) is the same answer');
  t.same(again.json(), cancelled.json());
  t.equal(await made.services.shared.store.headPosition(), head, 'and appends nothing');

  const otherBooking = rebooked.json<{ id: string }>().id;
  const payment = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(other.token), payload: { booking_id: otherBooking, payment_method: 'e_wallet' } });
  const { transaction_id: transactionId, amount } = payment.json<{ transaction_id: string; amount: number }>();
  t.equal((await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: transactionId, status: 'succeeded', amount })).statusCode, 200);
  const confirmed = await cancel(other.token, otherBooking);
  t.equal(confirmed.statusCode, 409, 'a paid booking is not cancelled');
  t.equal(confirmed.json<{ code: string }>().code, 'BOOKING_NOT_CANCELLABLE');
});

t.test('a booking retried after its hold was released, on an instance that loaded the concert from a snapshot, gets its first answer', async (t) => {
  const shared = {
    MYSQL_URL: await freshMysqlDatabase(t),
    JWT_SECRET: randomBytes(32).toString('hex'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  };
  const first = await app(t, shared);
  const concert = await createConcert(first.app, await adminToken(first), [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const fan = await customer(first.app);
  const request = byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 2);
  const booked = await book(first.app, fan.token, request, { 'idempotency-key': 'snapshot-retry' });
  t.equal(booked.statusCode, 201);
  t.equal((await first.app.inject({ method: 'PUT', url: `/api/v1/bookings/${booked.json<{ id: string }>().id}/cancel`, headers: bearer(fan.token) })).statusCode, 200);
  // A snapshot of the concert as the writer saves one: the released hold in it is its id and reason only.
  const events = await concertEvents(first.services.shared.store, concert.id);
  let state = concertDecider.initialState();
  for (const event of events) state = concertDecider.evolve(state, decode(event, concertEventSet));
  await first.services.shared.store.saveSnapshot(`concert-${concert.id}`, { revision: events.at(-1)?.revision ?? 0, data: { position: events.at(-1)?.position ?? 0, concert: toSnapshot(state) } });

  const second = await app(t, shared);
  const again = await book(second.app, fan.token, request, { 'idempotency-key': 'snapshot-retry' });
  t.equal(again.statusCode, 201, 'not 422 IDEMPOTENCY_KEY_REUSED');
  t.equal(again.json<{ id: string }>().id, booked.json<{ id: string }>().id, 'the same booking');
  t.same(again.json<{ seats: unknown[] }>().seats, booked.json<{ seats: unknown[] }>().seats, 'with its seats');
});

t.test('a full queue answers 503 OVERLOADED with Retry-After, never a lost request', async (t) => {
  const made = await app(t, { COMMAND_QUEUE_LIMIT: '2' });
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'Festival', price: 100_000, total_seats_in_class: 500 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const users = await Promise.all(Array.from({ length: 40 }, () => customer(made.app)));
  const answers = await Promise.all(users.map((u) => book(made.app, u.token, byClass(concert.id, classId, 1))));
  const overloaded = answers.filter((a) => a.statusCode === 503);
  t.ok(overloaded.length > 0, `${overloaded.length} of 40 were told to come back`);
  t.ok(overloaded.every((a) => a.json<{ code: string }>().code === 'OVERLOADED' && a.headers['retry-after'] === '1'));
  t.equal(answers.filter((a) => a.statusCode === 201).length + overloaded.length, 40, 'every other request was booked');
  const holds = (await concertEvents(made.services.shared.store, concert.id)).filter((e) => e.type === 'SeatsHeld');
  t.equal(holds.length, 40 - overloaded.length, 'and every 201 has its hold');
});

t.test('no password, token or personal value reached the logs', async (t) => {
  assertNoSecretsInLogs(t, allLogs);
});

type Concert = Awaited<ReturnType<typeof createConcert>>;

