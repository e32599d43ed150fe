/**
 * The older system's API, route by route as LEGACY.md lists them, with the shapes its web front
 * end reads and sends: a browser-like client (the `token` cookie, an allowed Origin, the
 * `min_position` cookie the commands leave) against a legacy listener of the embedded app.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildLegacyApp } from '../app/legacy.ts';
import { upcasters } from '../domain/index.ts';
import { legacyStream } from '../domain/legacy/index.ts';
import { serverLogger } from '../lib/http/logger.ts';
import type { HttpServer } from '../lib/http/server-kit.ts';
import { testApp, type TestApp } from '../test/support/app.ts';
import { adminToken, buyer, customer, ktp, webhook } from '../test/support/booking.ts';
import { eventually } from '../test/support/eventually.ts';
import { bearer, newAccount, secret } from '../test/support/users.ts';

const ORIGIN = 'http://localhost:5173';

/** A browser: keeps the cookies the listener sets and sends them, with its Origin, on every call. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly app: HttpServer) {}

  async call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const answer = await this.app.inject({
      method, url, headers: { origin: ORIGIN, ...(cookie === '' ? {} : { cookie }) }, ...(payload === undefined ? {} : { payload: payload as object }),
    });
    for (const set of answer.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      if (set.value === '' || (set.expires !== undefined && set.expires.getTime() <= Date.now())) this.cookies.delete(set.name);
      else this.cookies.set(set.name, set.value);
    }
    return answer;
  }
}

async function legacyListener(t: Test, made: TestApp): Promise<HttpServer> {
  const logger = serverLogger(made.services.shared.config, new Writable({ write: (_chunk, _encoding, done) => done() }));
  const app = await buildLegacyApp(made.services, logger);
  t.teardown(() => app.close());
  return app;
}

interface LegacyConcert {
  id: number; status: string; date: string; date_iso: string; available_seats: number;
  ticket_classes: { id: number; concert_id: number; name: string; price: number; available_seats_in_class: number }[];
}
interface LegacySeat { id: number; seat_number: string; status: string; concert_id: number; ticket_class_id: number; ticket_class_name: string }
interface LegacyBooking {
  id: string; user_id: number; concert_id: number; total_price: number; status: string; payment_id: number | null;
  booked_seats: LegacySeat[] | null; concert_name: string;
  buyer_info: { id: number; full_name: string; ktp_number: string } | null;
  ticket_holder_info: { id: number; full_name: string; ktp_number: string } | null;
}
interface LegacyPayment { id: number; booking_id: string; amount: number; payment_method: string; transaction_id: string; status: string }

t.test("the older front end's flow, route by route, in its shapes", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const browser = new Browser(legacy);
  const admin = await adminToken(made);

  // register: confirmPassword must match; the answer is the profile with an integer id.
  const account = newAccount('old');
  const mismatch = await browser.call('POST', '/api/v1/users/register', { ...account, confirmPassword: `${account.password}x` });
  t.equal(mismatch.statusCode, 400);
  t.same(Object.keys(mismatch.json()), ['error'], 'the older error body');
  t.match(mismatch.json(), { error: /confirmPassword/ });
  const registered = await browser.call('POST', '/api/v1/users/register', { ...account, confirmPassword: account.password });
  t.equal(registered.statusCode, 201, registered.body);
  const profile = registered.json<{ id: number; username: string; role: string; updated_at: string }>();
  t.ok(Number.isSafeInteger(profile.id) && profile.id > 0, 'an integer user id');
  t.match(profile, { username: account.username, role: 'user' });
  const badBody = await browser.call('POST', '/api/v1/users/register', { username: 'x' });
  t.equal(badBody.statusCode, 400);
  t.type(badBody.json<{ error: string }>().error, 'string');

  // login: the token cookie, {message, user}.
  const wrong = await browser.call('POST', '/api/v1/users/login', { username: account.username, password: 'not-the-password' });
  t.equal(wrong.statusCode, 401);
  t.type(wrong.json<{ error: string }>().error, 'string');
  const login = await browser.call('POST', '/api/v1/users/login', { username: account.username, password: account.password });
  t.equal(login.statusCode, 200);
  t.ok(browser.cookies.has('token'), 'login sets the token cookie');
  t.match(login.json(), { message: String, user: { id: profile.id, username: account.username } });
  const me = await browser.call('GET', '/api/v1/users/profile');
  t.equal(me.statusCode, 200);
  t.match(me.json(), { id: profile.id, username: account.username, created_at: String, updated_at: String });

  // The profile page sends back what it shows: unchanged, the same profile; a new address needs the password.
  const unchanged = await browser.call('PUT', '/api/v1/users/profile', { id: profile.id, username: account.username, email: account.email });
  t.equal(unchanged.statusCode, 200);
  t.match(unchanged.json(), { id: profile.id, username: account.username, email: account.email });
  const renamed = await browser.call('PUT', '/api/v1/users/profile', { id: profile.id, username: `${account.username}x`, email: account.email });
  t.equal(renamed.statusCode, 400);
  t.match(renamed.json(), { error: /username/ });
  const newAddress = `new.${account.email}`;
  t.match((await browser.call('PUT', '/api/v1/users/profile', { id: profile.id, username: account.username, email: newAddress })).json(), { error: /current_password/ });
  const moved = await browser.call('PUT', '/api/v1/users/profile', { email: newAddress, current_password: account.password });
  t.equal(moved.statusCode, 200, moved.body);
  t.match(moved.json(), { id: profile.id, email: newAddress });

  // The admin's new concert (the older POST /admin/concerts/): integer ids at once.
  const createdConcert = await legacy.inject({
    method: 'POST', url: '/api/v1/admin/concerts/', headers: bearer(admin),
    payload: { name: 'Konser Lama', artist: 'Band Lama', date: '2027-03-01T12:00:00.000Z', venue: 'GBK', ticket_classes: [{ name: 'VIP', price: 500_000, total_seats_in_class: 3 }, { name: 'Regular', price: 150_000, total_seats_in_class: 5 }] },
  });
  t.equal(createdConcert.statusCode, 201, createdConcert.body);
  const concert = createdConcert.json<LegacyConcert>();
  t.ok(Number.isSafeInteger(concert.id), 'an integer concert id');
  const [vip, regular] = concert.ticket_classes;
  if (vip === undefined || regular === undefined) throw new Error('two classes');
  t.match(concert, { status: 'active', date: '2027-03-01T12:00:00.000Z', date_iso: '2027-03-01T12:00:00.000Z' });
  t.ok(Number.isSafeInteger(vip.id) && vip.id !== regular.id && vip.concert_id === concert.id, 'integer class ids');

  // GET /concerts: a bare array of concerts with integer ids.
  const list = await browser.call('GET', '/api/v1/concerts');
  t.equal(list.statusCode, 200);
  const concerts = list.json<LegacyConcert[]>();
  t.ok(Array.isArray(concerts), 'a bare array, not a page');
  t.ok(concerts.every((c) => Number.isSafeInteger(c.id) && c.ticket_classes.every((tc) => Number.isSafeInteger(tc.id))), 'integer ids throughout');
  t.match(concerts.find((c) => c.id === concert.id), { status: 'active', ticket_classes: [{ id: vip.id, name: 'VIP', price: 500_000 }, { id: regular.id, name: 'Regular' }] });
  t.match((await browser.call('GET', `/api/v1/concerts/${concert.id}`)).json(), { id: concert.id, name: 'Konser Lama', available_seats: 8 });
  const notANumber = await browser.call('GET', '/api/v1/concerts/abc');
  t.equal(notANumber.statusCode, 400);
  t.type(notANumber.json<{ error: string }>().error, 'string');
  t.equal((await browser.call('GET', '/api/v1/concerts/987654321')).statusCode, 404);

  // The seat map: integer seat ids, numbered per class in a range.
  const seatMap = (await browser.call('GET', `/api/v1/concerts/${concert.id}/seats`)).json<LegacySeat[]>();
  t.equal(seatMap.length, 8);
  const vipSeats = seatMap.filter((seat) => seat.ticket_class_id === vip.id);
  t.same(vipSeats.map((seat) => seat.seat_number), ['1', '2', '3']);
  t.same(vipSeats.map((seat) => seat.id - (vipSeats[0]?.id ?? 0)), [0, 1, 2], 'seat n of a class is the base + n - 1');
  t.match(vipSeats[0], { status: 'available', concert_id: concert.id, ticket_class_name: 'VIP' });
  t.equal(new Set(seatMap.map((seat) => seat.id)).size, 8, 'every seat its own number');

  // A booking by integer class id, without a ticket holder (null).
  const noHolder = await browser.call('POST', '/api/v1/bookings/', {
    concert_id: concert.id, tickets_by_class: [{ ticket_class_id: vip.id, quantity: 2 }], buyer_info: buyer(), ticket_holder_info: null,
  });
  t.equal(noHolder.statusCode, 201, noHolder.body);
  const first = noHolder.json<LegacyBooking>();
  t.match(first, { status: 'pending', concert_id: concert.id, user_id: profile.id, total_price: 1_000_000, payment_id: null, ticket_holder_info: null, concert_name: 'Konser Lama' });
  t.same(first.booked_seats?.map((seat) => [seat.id, seat.seat_number, seat.ticket_class_id]), vipSeats.slice(0, 2).map((seat) => [seat.id, seat.seat_number, vip.id]));
  t.match(first.buyer_info, { id: profile.id });
  const heldMap = (await browser.call('GET', `/api/v1/concerts/${concert.id}/seats`)).json<LegacySeat[]>();
  t.same(heldMap.filter((seat) => seat.ticket_class_id === vip.id).map((seat) => seat.status), ['reserved', 'reserved', 'available'], 'its own hold, read at once');
  const cancelled = await browser.call('PUT', `/api/v1/bookings/${first.id}/cancel`);
  t.equal(cancelled.statusCode, 200);
  t.match(cancelled.json(), { message: String });

  // With one ticket holder object: the holder of every ticket, shown as one object.
  const holder = { full_name: secret('Dewi Lestari'), ktp_number: ktp() };
  const withHolder = await browser.call('POST', '/api/v1/bookings/', {
    concert_id: concert.id, tickets_by_class: [{ ticket_class_id: regular.id, quantity: 2 }], buyer_info: buyer(), ticket_holder_info: holder,
  });
  t.equal(withHolder.statusCode, 201, withHolder.body);
  const booking = withHolder.json<LegacyBooking>();
  t.match(booking.ticket_holder_info, { full_name: holder.full_name, ktp_number: `************${holder.ktp_number.slice(-4)}` });
  t.equal(booking.total_price, 300_000);
  const unknownClass = await browser.call('POST', '/api/v1/bookings/', { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: 987654321, quantity: 1 }], buyer_info: buyer() });
  t.equal(unknownClass.statusCode, 400);
  t.type(unknownClass.json<{ error: string }>().error, 'string');
  const noOrigin = await legacy.inject({ method: 'POST', url: '/api/v1/bookings/', headers: { cookie: `token=${browser.cookies.get('token') ?? ''}` }, payload: { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: vip.id, quantity: 1 }], buyer_info: buyer() } });
  t.equal(noOrigin.statusCode, 403, 'a cookie-authenticated change needs an allowed Origin (CSRF)');
  t.type(noOrigin.json<{ error: string }>().error, 'string');

  // Payments: the amount must be the booking's total; the sandbox's webhook confirms.
  const wrongAmount = await browser.call('POST', '/api/v1/payments/', { booking_id: booking.id, amount: 299_999, payment_method: 'credit_card' });
  t.equal(wrongAmount.statusCode, 400);
  t.match(wrongAmount.json(), { error: /amount/ });
  const opened = await browser.call('POST', '/api/v1/payments/', { booking_id: booking.id, amount: 300_000, payment_method: 'credit_card' });
  t.equal(opened.statusCode, 201, opened.body);
  const payment = opened.json<LegacyPayment>();
  t.ok(Number.isSafeInteger(payment.id), 'an integer payment id');
  t.match(payment, { booking_id: booking.id, amount: 300_000, payment_method: 'credit_card', status: 'pending' });
  t.match((await browser.call('GET', `/api/v1/bookings/${booking.id}`)).json(), { payment_id: payment.id, status: 'pending' }, "the booking's new payment number, read at once");
  const paid = await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: 300_000 });
  t.equal(paid.statusCode, 200);
  const confirmed = await eventually(async () => {
    const mine = (await browser.call('GET', '/api/v1/bookings/my')).json<LegacyBooking[] | null>();
    return mine?.find((b) => b.id === booking.id && b.status === 'confirmed');
  }, 'the booking confirmed in /bookings/my');
  t.same(confirmed.booked_seats?.map((seat) => [seat.ticket_class_id, seat.seat_number, seat.status]), [[regular.id, '1', 'booked'], [regular.id, '2', 'booked']]);
  t.match(confirmed, { payment_id: payment.id, total_price: 300_000 });
  const mine = (await browser.call('GET', '/api/v1/bookings/my')).json<LegacyBooking[]>();
  t.same(mine.map((b) => [b.id, b.status]), [[booking.id, 'confirmed'], [first.id, 'cancelled']], 'a bare array, newest first');
  t.match((await browser.call('GET', `/api/v1/payments/${payment.id}`)).json(), { id: payment.id, status: 'completed', payment_method: 'credit_card' });
  t.equal((await browser.call('GET', '/api/v1/payments/987654321')).statusCode, 404);

  // Someone else: none of it, and null for an empty list.
  const other = new Browser(legacy);
  const otherAccount = newAccount('old');
  t.equal((await other.call('POST', '/api/v1/users/register', { ...otherAccount, confirmPassword: otherAccount.password })).statusCode, 201);
  t.equal((await other.call('POST', '/api/v1/users/login', { username: otherAccount.username, password: otherAccount.password })).statusCode, 200);
  const empty = await other.call('GET', '/api/v1/bookings/my');
  t.equal(empty.statusCode, 200);
  t.equal(empty.body, 'null', 'an empty list is null, as the older services said it');
  t.equal((await other.call('GET', `/api/v1/bookings/${booking.id}`)).statusCode, 404);
  t.equal((await other.call('GET', `/api/v1/payments/${payment.id}`)).statusCode, 404);

  // Stable: a rebuild of the projection gives every object the same number.
  const numbers = async () => JSON.stringify({
    me: (await browser.call('GET', '/api/v1/users/profile')).json<{ id: number }>().id,
    concert: (await browser.call('GET', `/api/v1/concerts/${concert.id}`)).json<LegacyConcert>().ticket_classes.map((c) => c.id),
    seats: (await browser.call('GET', `/api/v1/concerts/${concert.id}/seats`)).json<LegacySeat[]>().map((seat) => seat.id),
    booking: (await browser.call('GET', `/api/v1/bookings/${booking.id}`)).json<LegacyBooking>().payment_id,
  });
  const before = await numbers();
  await made.services.projector.projectors.rebuild('legacy-ids');
  t.equal(await numbers(), before, 'the same numbers after a rebuild');

  // logout: {message}, the cookie cleared, the token no longer works.
  const token = browser.cookies.get('token') ?? '';
  const logout = await browser.call('POST', '/api/v1/users/logout');
  t.equal(logout.statusCode, 200);
  t.match(logout.json(), { message: String });
  t.notOk(browser.cookies.has('token'), 'the cookie is cleared');
  t.equal((await legacy.inject({ method: 'GET', url: '/api/v1/users/profile', headers: { cookie: `token=${token}` } })).statusCode, 401);
});

t.test('numbers the importer brought (LegacyIdsImported) are kept; natives are numbered above them; a taken number is refused', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const { store } = made.services.shared;
  const db = made.services.projector.readModels;

  const register = async () => {
    const browser = new Browser(legacy);
    const account = newAccount('imp');
    const answer = await browser.call('POST', '/api/v1/users/register', { ...account, confirmPassword: account.password });
    t.equal(answer.statusCode, 201, answer.body);
    return { browser, account, id: answer.json<{ id: number }>().id };
  };
  const native = await register();

  const importIds = async (key: string, ids: { legacy_id: number; id: string }[]) => {
    const eventId = randomUUID();
    const at = new Date().toISOString();
    const appended = await store.append(legacyStream('user', key), [{
      id: eventId,
      type: 'LegacyIdsImported',
      data: { kind: 'user', ids, imported_at: at },
      metadata: { event_id: eventId, correlation_id: eventId, causation_id: eventId, actor_id: null, schema_version: upcasters.currentVersion('LegacyIdsImported'), occurred_at: at },
    }], 'no_stream');
    return appended.position;
  };
  // An imported user appended ahead of its creation keeps its old number; one already numbered
  // natively takes its old number (the importer runs before the older surface serves); a number
  // another user has is refused and recorded.
  const ahead = randomUUID();
  const nativeUserId = (await db('legacy_ids').where({ kind: 'user', legacy_id: native.id }).first<{ id: string }>('id')).id;
  const takenBy = await register();
  const position = await importIds('batch-1', [
    { legacy_id: 4_000, id: ahead },
    { legacy_id: 3_000, id: nativeUserId },
    { legacy_id: takenBy.id, id: randomUUID() },
  ]);
  await eventually(async () => (await made.services.projector.projectors.status()).find((p) => p.name === 'legacy-ids' && p.position >= position), 'legacy-ids caught up');
  const numberOf = async (id: string) => Number((await db('legacy_ids').where({ kind: 'user', id }).first<{ legacy_id: number }>('legacy_id'))?.legacy_id);
  t.equal(await numberOf(ahead), 4_000, 'the imported number, for an object still to come');
  t.equal(await numberOf(nativeUserId), 3_000, 'the imported number replaces a native one given before the import');
  t.equal((await native.browser.call('POST', '/api/v1/users/login', { username: native.account.username, password: native.account.password })).json<{ user: { id: number } }>().user.id, 3_000, 'and the older API shows it');
  const refusals = await db('legacy_id_refusals').select<{ kind: string; legacy_id: number; reason: string; holder: string }[]>('kind', 'legacy_id', 'reason', 'holder');
  t.same(refusals.map((r) => [r.kind, Number(r.legacy_id), r.reason]), [['user', takenBy.id, 'number_taken']], 'the refusal recorded');
  t.equal((await takenBy.browser.call('POST', '/api/v1/users/login', { username: takenBy.account.username, password: takenBy.account.password })).json<{ user: { id: number } }>().user.id, takenBy.id, 'the first holder keeps its number');

  const later = await register();
  t.equal(later.id, 4_001, 'a native user is numbered above every number given so far');

  // The same numbers after a rebuild from the events.
  await made.services.projector.projectors.rebuild('legacy-ids');
  t.same([await numberOf(ahead), await numberOf(nativeUserId)], [4_000, 3_000]);
  t.equal((await later.browser.call('POST', '/api/v1/users/login', { username: later.account.username, password: later.account.password })).json<{ user: { id: number } }>().user.id, 4_001);
  t.equal((await db('legacy_id_refusals').count<{ n: number }[]>({ n: '*' }))[0]?.n, 1, 'the refusal recorded once after a rebuild');
});

t.test('bad input is a 4xx with {error}, never a 500', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const browser = new Browser(legacy);
  const account = newAccount('bad');
  t.equal((await browser.call('POST', '/api/v1/users/register', { ...account, confirmPassword: account.password })).statusCode, 201);
  t.equal((await browser.call('POST', '/api/v1/users/login', { username: account.username, password: account.password })).statusCode, 200);
  const cases: [method: 'GET' | 'POST' | 'PUT', url: string, payload: unknown, status: number][] = [
    ['POST', '/api/v1/users/register', { ...newAccount('bad'), confirmPassword: 1 }, 400],
    ['POST', '/api/v1/users/register', { ...newAccount('bad'), password: 'short', confirmPassword: 'short' }, 400],
    ['POST', '/api/v1/users/login', { username: 'x' }, 400],
    ['GET', '/api/v1/concerts/0', undefined, 400],
    ['GET', '/api/v1/concerts/1.5/seats', undefined, 400],
    ['GET', '/api/v1/concerts/99999999999999999999', undefined, 400],
    ['POST', '/api/v1/bookings/', { concert_id: 'abc', tickets_by_class: [{ ticket_class_id: 1, quantity: 1 }], buyer_info: buyer() }, 400],
    ['POST', '/api/v1/bookings/', { concert_id: 1, tickets_by_class: [], buyer_info: buyer() }, 400],
    ['POST', '/api/v1/bookings/', { concert_id: 1, tickets_by_class: [{ ticket_class_id: 1, quantity: 9 }], buyer_info: buyer() }, 400],
    ['POST', '/api/v1/bookings/', { concert_id: 1, tickets_by_class: [{ ticket_class_id: 1, quantity: 1 }], buyer_info: buyer(), ticket_holder_info: [{ full_name: 'A', ktp_number: ktp() }] }, 400],
    ['POST', '/api/v1/bookings/', { concert_id: 424242, tickets_by_class: [{ ticket_class_id: 1, quantity: 1 }], buyer_info: buyer() }, 404],
    ['GET', '/api/v1/bookings/not-a-uuid', undefined, 400],
    ['GET', `/api/v1/bookings/${randomUUID()}`, undefined, 404],
    ['PUT', '/api/v1/bookings/not-a-uuid/cancel', undefined, 400],
    ['PUT', `/api/v1/bookings/${randomUUID()}/cancel`, undefined, 404],
    ['POST', '/api/v1/payments/', { booking_id: 'x', amount: 1, payment_method: 'credit_card' }, 400],
    ['POST', '/api/v1/payments/', { booking_id: randomUUID(), amount: 1, payment_method: 'cash' }, 400],
    ['POST', '/api/v1/payments/', { booking_id: randomUUID(), amount: 1, payment_method: 'credit_card', card_number: '4111111111111111' }, 400],
    ['POST', '/api/v1/payments/', { booking_id: randomUUID(), amount: 1, payment_method: 'credit_card' }, 404],
    ['GET', '/api/v1/payments/abc', undefined, 400],
  ];
  for (const [method, url, payload, status] of cases) {
    const answer = await browser.call(method, url, payload);
    t.equal(answer.statusCode, status, `${method} ${url} ${JSON.stringify(payload) ?? ''}`.slice(0, 160));
    t.type(answer.json<{ error?: unknown }>().error, 'string', 'an {error} body');
  }
  const notJson = await legacy.inject({ method: 'POST', url: '/api/v1/users/login', headers: { 'content-type': 'application/json' }, payload: '{"username":' });
  t.equal(notJson.statusCode, 400);
  t.type(notJson.json<{ error?: unknown }>().error, 'string');
});

t.test("a concert with its waiting room on: the older surface books through the same service and gets its refusal, in its own shape", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const admin = await adminToken(made);
  const name = `Antrean ${randomUUID()}`;
  const created = await made.app.inject({
    method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin),
    payload: { name, artist: 'a', venue: 'v', date: '2099-03-01T12:00:00.000Z', waiting_room: true, ticket_classes: [{ name: 'Festival', price: 1000, total_seats_in_class: 5 }] },
  });
  t.equal(created.statusCode, 201, created.body);
  const concert = await eventually(async () => (await legacy.inject({ method: 'GET', url: '/api/v1/concerts' }))
    .json<(LegacyConcert & { name: string })[] | null>()?.find((c) => c.name === name), 'the concert on the older surface');
  const fan = await customer(made.app);
  const refused = await legacy.inject({
    method: 'POST', url: '/api/v1/bookings/', headers: bearer(fan.token),
    payload: { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.ticket_classes[0]?.id, quantity: 1 }], buyer_info: buyer() },
  });
  t.equal(refused.statusCode, 409, refused.body);
  t.same(Object.keys(refused.json()), ['error'], 'the older error body');
  t.match(refused.json(), { error: /waiting room/ });
});
