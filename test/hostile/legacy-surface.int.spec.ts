/**
 * The older system's surface (LEGACY_PORTS) as an attacker meets it: integer ids that name
 * someone else's booking or payment, cookie-authenticated writes from a foreign page, CORS on
 * the extra ports, rate limits counted once per port, a configured CAPTCHA walked around, bad
 * input that should be a 4xx `{error}`, and fields the main API hides.
 */
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildLegacyApp } from '../../app/legacy.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import type { HttpServer } from '../../lib/http/server-kit.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { adminToken, buyer } from '../support/booking.ts';
import { bearer, newAccount } from '../support/users.ts';

const ORIGIN = 'http://localhost:5173';

async function legacyListener(t: Test, made: TestApp): Promise<HttpServer> {
  const logger = serverLogger(made.services.shared.config, new Writable({ write: (_chunk, _encoding, done) => done() }));
  const app = await buildLegacyApp(made.services, logger);
  t.teardown(() => app.close());
  return app;
}

/** A browser of the older front end on `app`: its `token` cookie, its Origin. */
async function signedIn(app: HttpServer, prefix: string): Promise<{ cookie: string; id: number }> {
  const account = newAccount(prefix);
  const registered = await app.inject({ method: 'POST', url: '/api/v1/users/register', headers: { origin: ORIGIN }, payload: { ...account, confirmPassword: account.password } });
  if (registered.statusCode !== 201) throw new Error(`register answered ${registered.statusCode}: ${registered.body}`);
  const login = await app.inject({ method: 'POST', url: '/api/v1/users/login', headers: { origin: ORIGIN }, payload: { username: account.username, password: account.password } });
  const token = login.cookies.find((c) => c.name === 'token')?.value;
  if (token === undefined) throw new Error(`login answered ${login.statusCode}: ${login.body}`);
  return { cookie: `token=${token}`, id: registered.json<{ id: number }>().id };
}

interface LegacyConcert { id: number; ticket_classes: { id: number; price: number }[] }

async function legacyConcert(app: HttpServer, admin: string, seats = 10): Promise<LegacyConcert> {
  const created = await app.inject({
    method: 'POST', url: '/api/v1/admin/concerts/', headers: bearer(admin),
    payload: { name: 'Konser Sasaran', artist: 'Band', date: '2099-03-01T12:00:00.000Z', venue: 'GBK', ticket_classes: [{ name: 'Regular', price: 150_000, total_seats_in_class: seats }] },
  });
  if (created.statusCode !== 201) throw new Error(`concert answered ${created.statusCode}: ${created.body}`);
  return created.json<LegacyConcert>();
}

const bookingBody = (concert: LegacyConcert, quantity = 1) => ({
  concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.ticket_classes[0]?.id ?? 0, quantity }], buyer_info: buyer(), ticket_holder_info: null,
});

t.test("someone else's booking and payment by id on the legacy surface are a 404, and lists show only the caller's", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const concert = await legacyConcert(legacy, await adminToken(made));
  const victim = await signedIn(legacy, 'victim');
  const attacker = await signedIn(legacy, 'attacker');
  const as = (who: { cookie: string }) => ({ origin: ORIGIN, cookie: who.cookie });

  const placed = await legacy.inject({ method: 'POST', url: '/api/v1/bookings/', headers: as(victim), payload: bookingBody(concert) });
  t.equal(placed.statusCode, 201, placed.body);
  const booking = placed.json<{ id: string; total_price: number; buyer_info: { ktp_number: string } }>();
  t.match(booking.buyer_info.ktp_number, /^\*{12}\d{4}$/, 'the KTP is masked but the last 4 digits, as on the main API');
  const paid = await legacy.inject({ method: 'POST', url: '/api/v1/payments/', headers: as(victim), payload: { booking_id: booking.id, amount: booking.total_price, payment_method: 'bank_transfer' } });
  t.equal(paid.statusCode, 201, paid.body);
  const payment = paid.json<{ id: number }>();

  const read = await legacy.inject({ method: 'GET', url: `/api/v1/bookings/${booking.id}`, headers: as(attacker) });
  t.equal(read.statusCode, 404, "another's booking is not found");
  t.same(Object.keys(read.json()), ['error']);
  t.equal((await legacy.inject({ method: 'GET', url: `/api/v1/payments/${payment.id}`, headers: as(attacker) })).statusCode, 404, "another's payment is not found");
  t.equal((await legacy.inject({ method: 'GET', url: `/api/v1/payments/${payment.id + 1000}`, headers: as(attacker) })).statusCode, 404, 'a number nobody has: the same 404');
  const pay = await legacy.inject({ method: 'POST', url: '/api/v1/payments/', headers: as(attacker), payload: { booking_id: booking.id, amount: booking.total_price, payment_method: 'bank_transfer' } });
  t.equal(pay.statusCode, 404, "paying another's booking: not found");
  const cancel = await legacy.inject({ method: 'PUT', url: `/api/v1/bookings/${booking.id}/cancel`, headers: as(attacker) });
  t.equal(cancel.statusCode, 404, "cancelling another's booking: not found");
  const mine = await legacy.inject({ method: 'GET', url: '/api/v1/bookings/my', headers: as(attacker) });
  t.equal(mine.statusCode, 200);
  t.equal(mine.json(), null, "the attacker's list is empty (null), not the victim's bookings");
  const profile = await legacy.inject({ method: 'GET', url: '/api/v1/users/profile', headers: as(attacker) });
  t.equal(profile.json<{ id: number }>().id, attacker.id);
  t.notMatch(profile.body, /argon2|\$2[aby]\$|password/, 'no hash or password field');
  t.equal((await legacy.inject({ method: 'GET', url: `/api/v1/bookings/${booking.id}`, headers: as(victim) })).statusCode, 200, 'the owner reads it');
});

t.test('cookie-authenticated writes on a legacy listener need an allowed Origin; CORS there answers only the allow-list', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const concert = await legacyConcert(legacy, await adminToken(made));
  const fan = await signedIn(legacy, 'csrf');
  for (const [name, headers] of [['a foreign Origin', { origin: 'https://evil.example', cookie: fan.cookie }], ['no Origin', { cookie: fan.cookie }]] as const) {
    const placed = await legacy.inject({ method: 'POST', url: '/api/v1/bookings/', headers, payload: bookingBody(concert) });
    t.equal(placed.statusCode, 403, `${name}: the booking is refused`);
    t.type(placed.json<{ error: string }>().error, 'string', 'in the older error body');
    const out = await legacy.inject({ method: 'POST', url: '/api/v1/users/logout', headers });
    t.equal(out.statusCode, 403, `${name}: logout is refused too`);
  }
  t.equal((await legacy.inject({ method: 'GET', url: '/api/v1/bookings/my', headers: { origin: ORIGIN, cookie: fan.cookie } })).json(), null, 'nothing was booked');

  const preflight = await legacy.inject({
    method: 'OPTIONS', url: '/api/v1/bookings/', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  t.equal(preflight.headers['access-control-allow-origin'], undefined, 'a foreign origin is not allowed');
  const allowed = await legacy.inject({
    method: 'OPTIONS', url: '/api/v1/bookings/', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  t.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
  t.equal(allowed.headers['access-control-allow-credentials'], 'true');
});

t.test('bad input on the legacy surface is a 4xx {error}, never a 500; an admin route refuses a customer', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const admin = await adminToken(made);
  const concert = await legacyConcert(legacy, admin);
  const other = await legacyConcert(legacy, admin);
  const fan = await signedIn(legacy, 'fuzz');
  const headers = { origin: ORIGIN, cookie: fan.cookie };
  const cases: { name: string; method: 'GET' | 'POST' | 'PUT'; url: string; payload?: unknown; status: number }[] = [
    { name: "another concert's ticket class", method: 'POST', url: '/api/v1/bookings/', payload: { ...bookingBody(concert), tickets_by_class: [{ ticket_class_id: other.ticket_classes[0]?.id, quantity: 1 }] }, status: 400 },
    { name: 'a concert number past every id', method: 'POST', url: '/api/v1/bookings/', payload: { ...bookingBody(concert), concert_id: Number.MAX_SAFE_INTEGER }, status: 404 },
    { name: 'a concert id over 2^53', method: 'POST', url: '/api/v1/bookings/', payload: { ...bookingBody(concert), concert_id: 2 ** 60 }, status: 400 },
    { name: 'holders as an array', method: 'POST', url: '/api/v1/bookings/', payload: { ...bookingBody(concert), ticket_holder_info: [] }, status: 400 },
    { name: 'a booking id that is no UUID', method: 'GET', url: '/api/v1/bookings/not-a-uuid', status: 400 },
    { name: 'a booking id of 64 digits', method: 'GET', url: `/api/v1/bookings/${'9'.repeat(64)}`, status: 400 },
    { name: 'an upper-case booking id nobody has', method: 'GET', url: '/api/v1/bookings/AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA', status: 404 },
    { name: 'a payment number of 16 digits', method: 'GET', url: `/api/v1/payments/${'9'.repeat(16)}`, status: 400 },
    { name: 'a payment for a booking nobody has', method: 'POST', url: '/api/v1/payments/', payload: { booking_id: '00000000-0000-4000-8000-000000000000', amount: 1, payment_method: 'bank_transfer' }, status: 404 },
    { name: 'a payment with card data', method: 'POST', url: '/api/v1/payments/', payload: { booking_id: '00000000-0000-4000-8000-000000000000', amount: 1, payment_method: 'credit_card', card_number: '4111111111111111' }, status: 400 },
    { name: 'a cancel of a malformed id', method: 'PUT', url: '/api/v1/bookings/%00/cancel', status: 400 },
    { name: 'a customer creating a concert', method: 'POST', url: '/api/v1/admin/concerts/', payload: { name: 'x', artist: 'x', date: '2099-01-01T00:00:00.000Z', venue: 'x', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] }, status: 403 },
    { name: 'a min_position that is no number', method: 'GET', url: '/api/v1/concerts?min_position=abc', status: 400 },
    { name: 'a min_position past 2^53', method: 'GET', url: '/api/v1/concerts/1?min_position=99999999999999999999', status: 400 },
    { name: 'two min_positions', method: 'GET', url: '/api/v1/bookings/my?min_position=1&min_position=2', status: 400 },
    { name: 'a negative min_position', method: 'GET', url: '/api/v1/payments/1?min_position=-1', status: 400 },
    { name: 'a profile id that is not the caller', method: 'PUT', url: '/api/v1/users/profile', payload: { id: fan.id + 1 }, status: 400 },
  ];
  for (const { name, method, url, payload, status } of cases) {
    const answer = await legacy.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    t.equal(answer.statusCode, status, `${name}: ${answer.body}`);
    t.type(answer.json<{ error?: string }>().error, 'string', `${name}: {error}`);
  }
});

t.test('the per-address limits of register, login and booking hold across the main port and every legacy port together', async (t) => {
  const made = await testApp(t, {
    REQUIRE_EMAIL_VERIFICATION: 'false', RATE_LIMIT: 'on', REGISTER_LIMIT_PER_HOUR: '2', LOGIN_LIMIT_PER_MINUTE: '100', LOGIN_ACCOUNT_LIMIT_PER_MINUTE: '2',
  });
  made.services.projector.start();
  const [first, second] = [await legacyListener(t, made), await legacyListener(t, made)];
  const register = (app: HttpServer) => {
    const account = newAccount('limit');
    return app.inject({ method: 'POST', url: '/api/v1/users/register', headers: { origin: ORIGIN }, payload: { ...account, confirmPassword: account.password } });
  };
  t.equal((await register(first)).statusCode, 201);
  t.equal((await register(second)).statusCode, 201);
  const third = await register(first);
  t.equal(third.statusCode, 429, `a third registration from the address on the same port: ${third.body}`);
  const fourth = await register(second);
  t.equal(fourth.statusCode, 429, `the other legacy port counts the same address: ${fourth.body}`);
  const main = await made.app.inject({ method: 'POST', url: '/api/v1/users/register', payload: newAccount('limit') });
  t.equal(main.statusCode, 429, `and so does the main port: ${main.body}`);

  // Sign-ins to one account from one address: the main API's per-account limit, on every port.
  const attempts = [first, second, made.app].map((app) => app.inject({ method: 'POST', url: '/api/v1/users/login', headers: { origin: ORIGIN }, payload: { username: 'admin', password: 'not-the-password-1' } }));
  const statuses: number[] = [];
  for (const attempt of attempts) statuses.push((await attempt).statusCode);
  statuses.push((await first.inject({ method: 'POST', url: '/api/v1/users/login', headers: { origin: ORIGIN }, payload: { username: 'admin', password: 'not-the-password-1' } })).statusCode);
  t.same(statuses, [401, 401, 429, 429], 'the third sign-in to the account from the address, on whichever port, is over the limit');
});

t.test('a configured CAPTCHA is not walked around through the legacy register', async (t) => {
  // The CAPTCHA service is never reached: a registration without a token is refused before it.
  const made = await testApp(t, { CAPTCHA_VERIFY_URL: 'http://127.0.0.1:9/siteverify', CAPTCHA_SECRET: 'captcha-secret' });
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const account = newAccount('bot');
  const answer = await legacy.inject({ method: 'POST', url: '/api/v1/users/register', headers: { origin: ORIGIN }, payload: { ...account, confirmPassword: account.password } });
  t.equal(answer.statusCode, 400, answer.body);
  t.match(answer.json(), { error: /CAPTCHA|captcha/ });
  t.equal(await made.services.command.api.users.findByUsername(account.username), null, 'no account was made');
});

t.test("a role change ends the legacy cookie's session too: a cookie from before a promotion or a demotion is refused", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  made.services.projector.start();
  const legacy = await legacyListener(t, made);
  const admin = await adminToken(made);
  const deputy = await signedIn(legacy, 'deputy');
  const profile = await legacy.inject({ method: 'GET', url: '/api/v1/users/profile', headers: { origin: ORIGIN, cookie: deputy.cookie } });
  const userId = (await made.services.command.api.users.findByUsername(profile.json<{ username: string }>().username))?.userId ?? '';
  const role = (to: string) => made.app.inject({ method: 'PUT', url: `/api/v1/admin/users/${userId}/role`, headers: bearer(admin), payload: { role: to } });
  t.equal((await role('admin')).statusCode, 200);
  t.equal((await legacy.inject({ method: 'GET', url: '/api/v1/users/profile', headers: { origin: ORIGIN, cookie: deputy.cookie } })).statusCode, 401, 'the cookie from before the promotion is ended');
  t.equal((await role('customer')).statusCode, 200);
  const create = await legacy.inject({
    method: 'POST', url: '/api/v1/admin/concerts/', headers: { origin: ORIGIN, cookie: deputy.cookie },
    payload: { name: 'x', artist: 'x', date: '2099-01-01T00:00:00.000Z', venue: 'x', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] },
  });
  t.equal(create.statusCode, 401, create.body);
});
