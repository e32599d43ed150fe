/**
 * The admin bootstrap (BOXOFFICE_ADMIN_PASSWORD), the role guard on /api/v1/admin/*, and the
 * audit route that shows a stream's events with their metadata.
 */
import t, { type Test } from 'tap';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken } from '../../test/support/booking.ts';
import { assertNoSecretsInLogs, bearer, login, register, secret } from '../../test/support/users.ts';

const allLogs: string[] = [];
async function app(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const made = await testApp(t, env);
  t.teardown(() => void allLogs.push(...made.logs));
  return made;
}

t.test('the admin bootstrap makes a verified admin, once, with the configured password', async (t) => {
  const { app: server, services } = await app(t);
  const password = secret('Admin-Bootstrap-Pass-1');
  await services.command.api.users.ensureAdmin(password, 'ops@example.test');
  const admin = await services.command.api.users.findByUsername('admin');
  t.match(admin, { role: 'admin', emailVerified: true, status: 'active' });
  const streamLength = async () => (await services.shared.store.readStream(`user-${admin?.userId ?? ''}`)).length;
  const length = await streamLength();

  await services.command.api.users.ensureAdmin(password, 'ops@example.test');
  t.equal(await streamLength(), length, 'a second boot appends nothing');

  const rotated = secret('Admin-Rotated-Pass-2');
  await services.command.api.users.ensureAdmin(rotated, 'ops@example.test');
  t.equal(await streamLength(), length + 1, 'a new password is one PasswordChanged');
  t.equal((await server.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username: 'admin', password } })).statusCode, 401);
  const token = await login(server, { username: 'admin', password: rotated });
  const profile = await server.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) });
  t.match(profile.json(), { username: 'admin', role: 'admin', email_verified: true });

  await Promise.all([services.command.api.users.ensureAdmin(rotated, 'ops@example.test'), services.command.api.users.ensureAdmin(rotated, 'ops@example.test')]);
  t.equal((await services.shared.store.readAll({ filter: { eventTypes: ['UserRegistered'] } })).events.length, 1, 'one admin account, however many boots');
});

t.test('several instances booting at once make one admin', async (t) => {
  const { services } = await app(t);
  const password = secret('Admin-Parallel-Pass-3');
  await Promise.all(Array.from({ length: 4 }, () => services.command.api.users.ensureAdmin(password, 'ops@example.test')));
  t.equal((await services.shared.store.readAll({ filter: { eventTypes: ['UserRegistered'] } })).events.length, 1);
});

t.test('the username "admin" taken by a customer is not taken over', async (t) => {
  const { app: server, services } = await app(t);
  const taken = { username: 'Admin', email: secret('not-an-admin@example.test'), password: secret('Customer-Pass-4-x') };
  t.equal((await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: taken })).statusCode, 409, 'reserved: registration refuses it');
  // A data dir from before the name was reserved: the customer got it.
  await services.command.api.users.createVerified(taken, { correlationId: 'spec', causationId: 'spec' });
  await t.rejects(services.command.api.users.ensureAdmin(secret('Admin-Pass-Fails-5'), 'ops@example.test'), /not an active admin/);
  t.equal((await services.command.api.users.findByUsername('admin'))?.role, 'customer', 'the customer stays one');
});

t.test('/api/v1/admin/* answers admins only; the stream route shows events with metadata', async (t) => {
  const { app: server, services } = await app(t);
  const password = secret('Admin-Streams-Pass-6');
  await services.command.api.users.ensureAdmin(password, 'ops@example.test');
  const adminToken = await login(server, { username: 'admin', password });
  const customer = await register(server);
  const customerToken = await login(server, customer);
  const url = `/api/v1/admin/streams/user-${customer.id}`;

  t.equal((await server.inject({ method: 'GET', url })).statusCode, 401, 'no token');
  const forbidden = await server.inject({ method: 'GET', url, headers: bearer(customerToken) });
  t.equal(forbidden.statusCode, 403);
  t.equal(forbidden.json<{ code: string }>().code, 'FORBIDDEN');

  const page = await server.inject({ method: 'GET', url: `${url}?limit=1`, headers: bearer(adminToken) });
  t.equal(page.statusCode, 200);
  const body = page.json<{ items: { type: string; revision: number; metadata: Record<string, unknown> }[]; next_cursor: string | null }>();
  t.equal(body.items.length, 1);
  t.match(body.items[0], { type: 'UserRegistered', revision: 0, metadata: { actor_id: customer.id, correlation_id: String, event_id: String } });
  t.equal(body.next_cursor, '1');
  const rest = await server.inject({ method: 'GET', url: `${url}?limit=10&cursor=${body.next_cursor}`, headers: bearer(adminToken) });
  t.strictSame(rest.json<{ items: { type: string }[] }>().items.map((e) => e.type), ['UserLoggedIn']);
  t.equal(rest.json<{ next_cursor: null }>().next_cursor, null);
  t.notMatch(page.body, customer.email, 'the address stays sealed, even for an admin');

  const bad = await server.inject({ method: 'GET', url: `${url}?limit=5000`, headers: bearer(adminToken) });
  t.equal(bad.statusCode, 400);
  const missing = await server.inject({ method: 'GET', url: '/api/v1/admin/streams/booking-none', headers: bearer(adminToken) });
  t.strictSame(missing.json(), { stream: 'booking-none', items: [], next_cursor: null });
});

t.test("DELETE /api/v1/admin/users/:id/personal-data forgets a user's personal data, for admins only", async (t) => {
  const made = await app(t);
  const { app: server, services } = made;
  const admin = await adminToken(made);
  const account = await register(server);
  const customerToken = await login(server, account);
  const url = `/api/v1/admin/users/${account.id}/personal-data`;
  t.equal((await server.inject({ method: 'DELETE', url, headers: bearer(customerToken) })).statusCode, 403, 'a customer may not');
  const forgotten = await server.inject({ method: 'DELETE', url, headers: bearer(admin) });
  t.equal(forgotten.statusCode, 200);
  t.match(forgotten.json(), { user_id: account.id, position: Number });
  t.equal((await services.shared.store.readStream(`user-${account.id}`)).at(-1)?.type, 'PersonalDataForgotten');
  t.equal((await services.command.api.users.profile(account.id))?.email, null, 'the address no longer opens');
  t.equal((await server.inject({ method: 'DELETE', url, headers: bearer(admin) })).statusCode, 200, 'again: nothing more to do, same answer');
  t.equal((await server.inject({ method: 'DELETE', url: '/api/v1/admin/users/7d0b2a4e-0000-4000-8000-000000000000/personal-data', headers: bearer(admin) })).statusCode, 404);
  t.equal((await server.inject({ method: 'DELETE', url: '/api/v1/admin/users/nope/personal-data', headers: bearer(admin) })).statusCode, 400);
});

t.test('no password, token or personal value reached the logs', async (t) => {
  assertNoSecretsInLogs(t, allLogs);
});
