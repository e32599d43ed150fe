/**
 * Issue 18's smaller findings, as an attacker (or a careless operator) meets them: password hashes
 * in the audit views, a retried booking that answers `pending` after it was cancelled, a customer
 * who registers `Admin` before the admin exists, an oversized body answered 400, and /metrics open
 * on the API port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { eventsExport } from '../../app/cli/audit.ts';
import { wireProcess } from '../../app/wiring/process.ts';
import { loadConfig } from '../../lib/config.ts';
import { freePort } from '../harness/servers.ts';
import { testApp } from '../support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../support/booking.ts';
import { startServer } from '../support/process.ts';
import { bearer, login, newAccount, secret } from '../support/users.ts';

const OVER_THE_LIMIT = 70 * 1024;

t.test('the audit views show no password hash: the admin stream route and events:export', async (t) => {
  const made = await testApp(t);
  const { app, services } = made;
  await adminToken(made);
  await services.command.api.users.ensureAdmin(secret('Another-Admin-Pass-7'), 'ops@example.test');
  // The password change ended the tokens of before: sign in again.
  const admin = await login(app, { username: 'admin', password: secret('Another-Admin-Pass-7') });
  const adminId = (await services.command.api.users.findByUsername('admin'))?.userId ?? '';
  const stream = `user-${adminId}`;
  t.same((await services.shared.store.readStream(stream)).map((event) => event.type).filter((type) => type !== 'UserLoggedIn'),
    ['UserRegistered', 'EmailVerified', 'PasswordChanged'], 'the stream holds a registration and a password change');

  const page = await app.inject({ method: 'GET', url: `/api/v1/admin/streams/${stream}`, headers: bearer(admin) });
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, /\$argon2/, 'no hash in the admin route');
  const items = page.json<{ items: { type: string; data: Record<string, unknown> }[] }>().items;
  for (const type of ['UserRegistered', 'PasswordChanged']) {
    t.equal(items.find((item) => item.type === type)?.data.password_hash, '[redacted]', `${type}: the field is there, its value is not`);
  }
  t.match(items.find((item) => item.type === 'UserRegistered')?.data.email, { ciphertext: String }, 'the address stays its sealed envelope');
  t.notMatch(page.body, 'ops@example.test', 'not in clear');

  let printed = '';
  await eventsExport.run({ config: services.shared.config, positionals: [], flags: { stream }, out: (text) => (printed += text), err: () => undefined, interactive: false });
  const lines = printed.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
  t.equal(lines.length, items.length, 'events:export prints every event of the stream');
  t.notMatch(printed, /\$argon2/, 'no hash in events:export');
  t.equal(lines.find((line) => line.type === 'PasswordChanged')?.data.password_hash, '[redacted]');
});

t.test('a booking retried with its Idempotency-Key after it was cancelled answers it cancelled, and appends nothing', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const concert = await createConcert(app, await adminToken(made), [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const fan = await customer(app);
  const request = byClass(concert.id, (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id, 2);
  const key = { 'idempotency-key': 'retry-after-cancel-1' };
  const first = await book(app, fan.token, request, key);
  t.equal(first.statusCode, 201);
  const placed = first.json<{ id: string; status: string; seats: unknown[] }>();
  t.equal(placed.status, 'pending');
  const cancelled = await app.inject({ method: 'PUT', url: `/api/v1/bookings/${placed.id}/cancel`, headers: bearer(fan.token) });
  t.equal(cancelled.statusCode, 200);
  const head = await services.shared.store.headPosition();

  const retried = await book(app, fan.token, request, key);
  t.equal(retried.statusCode, 201, 'the same answer shape and status code as the first');
  const body = retried.json<{ id: string; status: string; seats: unknown[]; position: number }>();
  t.equal(body.id, placed.id, 'the same booking');
  t.equal(body.status, 'cancelled', 'as it is now, not as it was');
  t.same(body.seats, placed.seats);
  t.equal(body.position, cancelled.json<{ position: number }>().position, 'its position covers the cancellation');
  t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
});

t.test('reserved usernames are refused at registration, in any case', async (t) => {
  const { app, services } = await testApp(t);
  for (const username of ['Admin', 'admin', 'ADMIN', 'root', 'System', 'staff', 'Support', 'administrator']) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount(), username } });
    t.equal(response.statusCode, 409, username);
    t.equal(response.json<{ code: string }>().code, 'USERNAME_TAKEN', username);
  }
  t.equal((await services.shared.store.readAll({ filter: { eventTypes: ['UserRegistered', 'ValueClaimed'] } })).events.length, 0, 'nothing claimed, nobody registered');
  const fine = await app.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount(), username: 'admin.rina' } });
  t.equal(fine.statusCode, 201, 'a name that only begins like one is fine');
});

t.test('a data dir where a customer holds "admin" still starts with BOXOFFICE_ADMIN_PASSWORD, and gives that customer no admin rights', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-admin-held-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const cheap = { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' };
  // As a data dir from before the name was reserved: the customer's account, through the user service.
  const holder = { ...newAccount('early'), username: 'Admin' };
  const wired = await wireProcess(loadConfig({ BOXOFFICE_DATA_DIR: dataDir, ...cheap }), pino({ enabled: false }));
  try {
    t.equal(await wired.command?.api.users.createVerified(holder, { correlationId: 'spec', causationId: 'spec' }), 'created');
  } finally {
    await wired.close();
  }

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminPassword = 'Held-Admin-Pass-9';
  const server = startServer({ PORT: String(port), BOXOFFICE_DATA_DIR: dataDir, BOXOFFICE_ADMIN_PASSWORD: adminPassword, ...cheap });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.listening();
  t.match(server.output(), /belongs to an account that is not an active admin.*starting without an admin account/, 'the log says why there is no admin');
  t.match(server.output(), 'admin:    NONE', 'so does the banner');
  t.notMatch(server.output(), holder.email, 'and names no personal data');
  t.equal((await fetch(`${base}/health/ready`)).status, 200, 'ready');
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal((await post('/api/v1/users/login', { username: 'admin', password: adminPassword })).status, 401, 'the admin password opens nothing');
  const signedIn = await post('/api/v1/users/login', { username: 'admin', password: holder.password });
  t.equal(signedIn.status, 200, 'the customer still signs in');
  const { access_token: token, user } = await signedIn.json() as { access_token: string; user: { role: string } };
  t.equal(user.role, 'customer', 'as a customer');
  t.equal((await fetch(`${base}/api/v1/admin/projections`, { headers: bearer(token) })).status, 403, 'with no admin rights');
  server.child.kill('SIGTERM');
  t.equal(await server.exit, 0);
});

t.test('a body over the limit answers 413 PAYLOAD_TOO_LARGE on every route, with a Content-Length and chunked', async (t) => {
  const made = await testApp(t);
  const admin = await adminToken(made);
  const payload = JSON.stringify({ padding: 'x'.repeat(OVER_THE_LIMIT) });
  const expect413 = async (app: typeof made.app, method: 'POST' | 'PUT', url: string, contentType = 'application/json') => {
    for (const [how, body] of [['with Content-Length', payload], ['chunked', () => Readable.from([payload.slice(0, 40_000), payload.slice(40_000)])]] as const) {
      const response = await app.inject({ method, url, headers: { ...bearer(admin), 'content-type': contentType }, payload: typeof body === 'string' ? body : body() });
      t.equal(response.statusCode, 413, `${method} ${url} ${how}`);
      t.equal(response.json<{ code: string }>().code, 'PAYLOAD_TOO_LARGE', `${method} ${url} ${how}`);
      t.match(response.headers['content-type'], 'application/problem+json');
    }
  };
  for (const [method, url] of [
    ['POST', '/api/v1/users/register'], ['POST', '/api/v1/users/login'], ['PUT', '/api/v1/users/profile'], ['POST', '/api/v1/bookings'],
    ['POST', '/api/v1/admin/concerts'], ['POST', '/api/v1/payments'], ['POST', '/api/v1/payments/webhook'],
  ] as const) await expect413(made.app, method, url);
  await expect413(made.app, 'POST', '/sandbox/checkout/00000000-0000-4000-8000-000000000000/pay', 'application/x-www-form-urlencoded');

  const midtrans = await testApp(t, {
    PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-local', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-local',
    MIDTRANS_API_URL: 'http://127.0.0.1:9', MIDTRANS_SNAP_URL: 'http://127.0.0.1:9',
  });
  await expect413(midtrans.app, 'POST', '/api/v1/payments/webhook/midtrans');
});

t.test('/metrics: with METRICS_PORT not on the API port, with METRICS_TOKEN only with the token', async (t) => {
  const token = 'metrics-token-0123456789';
  const moved = await testApp(t, { METRICS_PORT: '19464' });
  const away = await moved.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(away.statusCode, 404, 'not on the API port');
  t.equal(away.json<{ code: string }>().code, 'NOT_FOUND');

  const guarded = await testApp(t, { METRICS_TOKEN: token });
  const scrape = (authorization?: string) => guarded.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
  for (const [what, authorization] of [['no token', undefined], ['a wrong token', `Bearer ${token}x`], ['a shorter one', 'Bearer metrics'], ['another scheme', `Basic ${token}`]] as const) {
    const refused = await scrape(authorization);
    t.equal(refused.statusCode, 401, what);
    t.equal(refused.json<{ code: string }>().code, 'UNAUTHORIZED', what);
    t.match(refused.headers['content-type'], 'application/problem+json');
  }
  const scraped = await scrape(`Bearer ${token}`);
  t.equal(scraped.statusCode, 200, 'the token opens it');
  t.match(scraped.body, /^boxoffice_/m, 'Prometheus text');
});

t.test('a server started with METRICS_PORT serves /metrics on that port only, on 127.0.0.1, behind METRICS_TOKEN', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-metrics-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const [port, metricsPort] = [await freePort(), await freePort()];
  const token = 'metrics-token-9876543210';
  const server = startServer({ PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_TOKEN: token, BOXOFFICE_DATA_DIR: dataDir });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.listening();
  t.match(server.output(), `metrics:  http://127.0.0.1:${metricsPort}/metrics`, 'the banner says where');
  t.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: bearer(token) })).status, 404, 'not on the API port, token or not');
  t.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 401, 'not without the token');
  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: bearer(token) });
  t.equal(scraped.status, 200);
  t.match(await scraped.text(), /boxoffice_http_request_duration_seconds/);
  t.equal((await fetch(`http://127.0.0.1:${metricsPort}/health/live`)).status, 404, 'and nothing else there');
  server.child.kill('SIGTERM');
  t.equal(await server.exit, 0, 'both listeners close on SIGTERM');
});
