/**
 * Tokens that should have ended: after a password change, a role change, forget-me, and a
 * logout followed by a restart of the embedded default; and on another instance of the same
 * deployment. Each refused with 401 on a command route and on a query route. A token's role and
 * verified address are the user's now, not those of when it was issued.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildApp } from '../../app/app.ts';
import { wireProcess, type Wired } from '../../app/wiring/process.ts';
import { userEvents } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { loadConfig } from '../../lib/config.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import type { HttpServer } from '../../lib/http/server-kit.ts';
import { testApp } from '../support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../support/booking.ts';
import { eventually } from '../support/eventually.ts';
import { freshMysqlDatabase, serviceUrl } from '../support/services.ts';
import { bearer, login, newAccount, register, verifiedUser } from '../support/users.ts';

/** A command route (the profile, a booking) and a query route (my bookings): what a token opens. */
async function answers(app: HttpServer, token: string): Promise<Record<string, number>> {
  const headers = bearer(token);
  return {
    'GET profile': (await app.inject({ method: 'GET', url: '/api/v1/users/profile', headers })).statusCode,
    'POST bookings': (await app.inject({ method: 'POST', url: '/api/v1/bookings', headers, payload: byClass(randomUUID(), randomUUID(), 1) })).statusCode,
    'GET bookings/my': (await app.inject({ method: 'GET', url: '/api/v1/bookings/my', headers })).statusCode,
  };
}

const ENDED = { 'GET profile': 401, 'POST bookings': 401, 'GET bookings/my': 401 };

function refusedEverywhere(t: Test, seen: Record<string, number>, what: string): void {
  t.strictSame(seen, ENDED, `${what}: 401 on the command and the query routes`);
}

/** One instance of a deployment whose stores are given by `env`, wired as `serve` wires it. */
async function instance(t: Test, env: Record<string, string>): Promise<{ app: HttpServer; wired: Wired; close: () => Promise<void> }> {
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', PAYMENT_GATEWAY: 'sandbox', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1', RATE_LIMIT: 'off',
    REQUIRE_EMAIL_VERIFICATION: 'false', ...env,
  });
  const logger = serverLogger(config);
  const wired = await wireProcess(config, logger.root);
  const app = await buildApp(wired, logger);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await wired.close();
  };
  t.teardown(close);
  return { app, wired, close };
}

async function dataDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-tokens-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a password change ends the tokens issued before it; the new sign-in works', async (t) => {
  const { app } = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const account = await register(app);
  const old = await login(app, account);
  const other = await login(app, account);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(old) })).statusCode, 200, 'before: the token works');
  const password = `${account.password}-new`;
  const changed = await app.inject({ method: 'PUT', url: '/api/v1/users/profile', headers: bearer(old), payload: { password, current_password: account.password } });
  t.equal(changed.statusCode, 200);
  refusedEverywhere(t, await answers(app, old), 'the token that made the change');
  refusedEverywhere(t, await answers(app, other), "another session's token");
  const fresh = await login(app, { username: account.username, password });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(fresh) })).statusCode, 200, 'the new sign-in works');
});

t.test('a role change: admin only, 404 for nobody, and it ends the user\'s tokens; staff are no admins', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app } = made;
  const admin = await adminToken(made);
  const account = await register(app);
  const old = await login(app, account);
  const role = (token: string, id: string, body: unknown) => app.inject({ method: 'PUT', url: `/api/v1/admin/users/${id}/role`, headers: bearer(token), payload: body as Record<string, unknown> });

  t.equal((await role(old, account.id, { role: 'admin' })).statusCode, 403, 'a customer cannot make themselves admin');
  t.equal((await role(admin, randomUUID(), { role: 'staff' })).statusCode, 404, 'an unknown user');
  t.equal((await role(admin, account.id, { role: 'root' })).statusCode, 400, 'an unknown role');
  t.equal((await role(admin, account.id, { role: 'staff', extra: 1 })).statusCode, 400, 'an unknown field');

  const promoted = await role(admin, account.id, { role: 'staff' });
  t.equal(promoted.statusCode, 200);
  t.match(promoted.json(), { user_id: account.id, role: 'staff', position: Number });
  refusedEverywhere(t, await answers(app, old), 'the token issued before the role change');

  const staff = await login(app, account);
  const profile = await app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(staff) });
  t.equal(profile.json<{ role: string }>().role, 'staff', 'the profile tells the new role');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(staff) })).statusCode, 403, 'staff: 403 on an admin query route');
  t.equal((await role(staff, account.id, { role: 'admin' })).statusCode, 403, 'staff: 403 on an admin command route');

  t.equal((await role(admin, account.id, { role: 'admin' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(staff) })).statusCode, 401, 'the staff token ended with the next change');
  const promotedAdmin = await login(app, account);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(promotedAdmin) })).statusCode, 200, 'an admin now');
});

t.test('forget-me ends the user\'s tokens: no new booking, no read', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const classId = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const fan = await customer(app);
  t.equal((await book(app, fan.token, byClass(concert.id, classId, 1))).statusCode, 201, 'before: the token books');
  const forgotten = await app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${fan.id}/personal-data`, headers: bearer(admin) });
  t.equal(forgotten.statusCode, 200);
  const head = await services.shared.store.headPosition();
  t.equal((await book(app, fan.token, byClass(concert.id, classId, 1))).statusCode, 401, 'no booking after forget-me');
  refusedEverywhere(t, await answers(app, fan.token), 'the forgotten user\'s token');
  t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
});

t.test('a signed-out token stays signed out after a restart of the embedded default', async (t) => {
  const env = { BOXOFFICE_DATA_DIR: await dataDir(t), MYSQL_URL: '' };
  const first = await instance(t, env);
  const account = await register(first.app);
  const token = await login(first.app, account);
  const kept = await login(first.app, account);
  t.equal((await first.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(token) })).statusCode, 204);
  refusedEverywhere(t, await answers(first.app, token), 'before the restart');
  await first.close();

  const second = await instance(t, env);
  refusedEverywhere(t, await answers(second.app, token), 'after the restart');
  t.equal((await second.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(kept) })).statusCode, 200, 'a token not signed out still works');
});

for (const shared of ['sql', 'redis'] as const) {
  t.test(`two instances on the same services (${shared}): one's logout, password change and role change end the token on the other within 2 s`, async (t) => {
    const env = {
      BOXOFFICE_DATA_DIR: await dataDir(t),
      MYSQL_URL: await freshMysqlDatabase(t),
      ...(shared === 'redis' ? { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: `t${randomUUID().slice(0, 8)}` } : {}),
    };
    const a = await instance(t, env);
    const b = await instance(t, env);
    const within2s = async (token: string, what: string) => {
      const seen = await eventually(async () => {
        const now = await answers(b.app, token);
        return Object.values(now).every((status) => status === 401) ? now : undefined;
      }, what, 2_000).catch(async () => answers(b.app, token));
      refusedEverywhere(t, seen, what);
    };

    const account = await register(a.app);
    const signedOut = await login(a.app, account);
    const changedAway = await login(a.app, account);
    t.equal((await b.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(signedOut) })).statusCode, 200, 'B takes A\'s token');
    t.equal((await b.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(changedAway) })).statusCode, 200);

    t.equal((await a.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(signedOut) })).statusCode, 204);
    await within2s(signedOut, 'signed out on A, used on B');

    const password = `${account.password}-2`;
    t.equal((await a.app.inject({ method: 'PUT', url: '/api/v1/users/profile', headers: bearer(changedAway), payload: { password, current_password: account.password } })).statusCode, 200);
    await within2s(changedAway, 'password changed on A, old token used on B');

    const current = await login(b.app, { username: account.username, password });
    t.equal((await a.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(current) })).statusCode, 200, 'a token from B works on A');
    const admin = await adminTokenOf(a);
    t.equal((await a.app.inject({ method: 'PUT', url: `/api/v1/admin/users/${account.id}/role`, headers: bearer(admin), payload: { role: 'staff' } })).statusCode, 200);
    await within2s(current, 'role changed on A, old token used on B');
  });
}

t.test('a rehash of the same password at sign-in ends no session', async (t) => {
  const env = { BOXOFFICE_DATA_DIR: await dataDir(t), MYSQL_URL: await freshMysqlDatabase(t) };
  const a = await instance(t, env);
  // B hashes with stronger parameters: a sign-in on B rehashes the password A hashed.
  const b = await instance(t, { ...env, ARGON2_ITERATIONS: '2' });
  const account = await register(a.app);
  const token = await login(a.app, account);
  await login(b.app, account);
  const events = (await a.wired.shared.store.readStream(`user-${account.id}`)).map((recorded) => decode(recorded, userEvents));
  t.match(events.filter((event) => event.type === 'PasswordChanged'), [{ data: { rehash: true } }], 'the sign-in on B rehashed the password');
  t.equal((await a.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) })).statusCode, 200, 'the first session goes on (A)');
  t.equal((await b.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) })).statusCode, 200, 'the first session goes on (B)');
});

t.test("the token's verified address is the user's now: an address changed after sign-in must be verified again to book", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'true' });
  const { app } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const classId = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const fan = await verifiedUser(made);
  const changed = await app.inject({ method: 'PUT', url: '/api/v1/users/profile', headers: bearer(fan.token), payload: { email: newAccount().email, current_password: fan.password } });
  t.equal(changed.statusCode, 200);
  t.equal(changed.json<{ email_verified: boolean }>().email_verified, false);
  const refused = await book(app, fan.token, byClass(concert.id, classId, 1));
  t.equal(refused.statusCode, 403);
  t.equal(refused.json<{ code: string }>().code, 'EMAIL_NOT_VERIFIED', 'the token issued while verified does not stand for the new address');
});

/** The admin of the deployment `made` is an instance of, signed in on it. */
async function adminTokenOf(made: { app: HttpServer; wired: Wired }): Promise<string> {
  const password = 'Tokens-Admin-Pass-2026';
  await made.wired.command?.api.users.ensureAdmin(password, 'ops@example.test');
  return login(made.app, { username: 'admin', password });
}
