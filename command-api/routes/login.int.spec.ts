/**
 * Sign-in, tokens, sign-out, the profile, lockout and rate limits, over HTTP (inject) on the
 * MariaDB event store; the Redis-backed counters on a real Redis.
 */
import { createSigner } from 'fast-jwt';
import t, { type Test } from 'tap';
import { userEvents } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { serviceUrl } from '../../test/support/services.ts';
import { assertNoSecretsInLogs, bearer, login, newAccount, register, secret } from '../../test/support/users.ts';

const allLogs: string[] = [];
async function app(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const made = await testApp(t, env);
  t.teardown(() => void allLogs.push(...made.logs));
  return made;
}

const loginRequest = (username: string, password: string, remoteAddress = '127.0.0.1') => ({
  method: 'POST' as const,
  url: '/api/v1/users/login',
  payload: { username, password },
  remoteAddress,
});

t.test('signing in', async (t) => {
  const made = await app(t);
  const { app: server, services } = made;
  const account = await register(server);

  t.test('answers a bearer token, sets the HttpOnly cookie and records the login', async (t) => {
    const response = await server.inject(loginRequest(account.username.toUpperCase(), account.password));
    t.equal(response.statusCode, 200);
    const body = response.json<{ access_token: string; token_type: string; expires_in: number; user: { id: string; last_login: string } }>();
    secret(body.access_token);
    t.match(body, { token_type: 'Bearer', expires_in: 900, user: { id: account.id, username: account.username, email: account.email } });
    const [header, payload] = body.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    t.match(header, { alg: 'HS256' });
    t.match(payload, { sub: account.id, role: 'customer', jti: String, exp: Number });
    const cookie = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('token='));
    t.match(cookie, /HttpOnly/);
    t.match(cookie, /SameSite=Strict/);
    t.match(cookie, /Secure/);
    const events = (await services.shared.store.readStream(`user-${account.id}`)).map((e) => decode(e, userEvents));
    const last = events.at(-1);
    t.equal(last?.type, 'UserLoggedIn');
    t.equal(body.user.last_login, last?.type === 'UserLoggedIn' ? last.data.logged_in_at : undefined);
  });

  t.test('an unknown user and a wrong password get the same 401, and nothing is appended', async (t) => {
    const before = await services.shared.store.headPosition();
    const wrong = await server.inject(loginRequest(account.username, secret('not-the-password-at-all')));
    const unknown = await server.inject(loginRequest('nobody.here', secret('not-the-password-at-all')));
    t.equal(wrong.statusCode, 401);
    t.equal(unknown.statusCode, 401);
    t.strictSame(wrong.json(), unknown.json(), 'the same body');
    t.equal(wrong.json<{ code: string }>().code, 'UNAUTHORIZED');
    t.equal(await services.shared.store.headPosition(), before);
  });

  t.test('an unknown user costs an argon2 verification too', async (t) => {
    let verifications = 0;
    const passwords = services.command.passwords;
    const original = { verify: passwords.verify.bind(passwords), verifyNothing: passwords.verifyNothing.bind(passwords) };
    passwords.verify = async (...args) => (verifications++, original.verify(...args));
    passwords.verifyNothing = async (...args) => (verifications++, original.verifyNothing(...args));
    t.teardown(() => Object.assign(passwords, original));
    await server.inject(loginRequest('ghost.user', secret('whatever-password-1')));
    t.equal(verifications, 1, 'unknown user: one verification against the dummy hash');
    await server.inject(loginRequest(account.username, secret('whatever-password-1')));
    t.equal(verifications, 2, 'wrong password: one verification');
  });
});

t.test('tokens', async (t) => {
  const made = await app(t);
  const { app: server, services } = made;
  const account = await register(server);
  const token = await login(server, account);
  const profile = (headers: Record<string, string>) => server.inject({ method: 'GET', url: '/api/v1/users/profile', headers });

  t.test('a valid token reads the profile, with the address opened', async (t) => {
    const response = await profile(bearer(token));
    t.equal(response.statusCode, 200);
    t.match(response.json(), { id: account.id, username: account.username, email: account.email, role: 'customer', email_verified: false });
  });

  t.test('tampered, unsigned, foreign and expired tokens are refused', async (t) => {
    const [header = '', payload = '', signature = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const asAdmin = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const attacks: Record<string, string> = {
      'changed payload': `${header}.${asAdmin}.${signature}`,
      'alg none': `${none}.${asAdmin}.`,
      'wrong key': createSigner({ key: 'not-our-secret-not-our-secret-!!', algorithm: 'HS256' })({ sub: account.id, role: 'admin', jti: 'x' }),
      'expired': createSigner({ key: services.auth.secret, algorithm: 'HS256' })({ sub: account.id, role: 'customer', jti: 'y', iat: now - 3600, exp: now - 60 }),
      'HS512 with our key': createSigner({ key: services.auth.secret, algorithm: 'HS512' })({ sub: account.id, role: 'customer', jti: 'z' }),
      'no expiry': createSigner({ key: services.auth.secret, algorithm: 'HS256' })({ sub: account.id, role: 'customer', jti: 'w' }),
      'garbage': 'not.a.token',
    };
    for (const [name, forged] of Object.entries(attacks)) {
      const response = await profile(bearer(forged));
      t.equal(response.statusCode, 401, name);
      t.equal(response.json<{ code: string }>().code, 'UNAUTHORIZED', name);
    }
    t.equal((await profile({})).statusCode, 401, 'no token');
    t.equal((await profile({ authorization: `Basic ${token}` })).statusCode, 401, 'not a bearer token');
  });

  t.test('signing out revokes that token only, and clears the cookie', async (t) => {
    const first = await login(server, account);
    const second = await login(server, account);
    const out = await server.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(first) });
    t.equal(out.statusCode, 204);
    t.match([out.headers['set-cookie']].flat().join(';'), /token=;/, 'the cookie is cleared');
    const revoked = await profile(bearer(first));
    t.equal(revoked.statusCode, 401);
    t.match(revoked.json<{ detail: string }>().detail, /signed out/);
    t.equal((await profile(bearer(second))).statusCode, 200, 'another session goes on');
  });

  t.test('the cookie authenticates reads; a change by cookie needs an allowed Origin', async (t) => {
    const cookie = `token=${token}`;
    t.equal((await profile({ cookie })).statusCode, 200);
    const change = (headers: Record<string, string>) => server.inject({
      method: 'PUT',
      url: '/api/v1/users/profile',
      headers: { cookie, ...headers },
      payload: { current_password: account.password },
    });
    const noOrigin = await change({});
    t.equal(noOrigin.statusCode, 403);
    t.equal(noOrigin.json<{ code: string }>().code, 'CSRF_REJECTED');
    t.equal((await change({ origin: 'https://evil.example' })).statusCode, 403);
    t.equal((await change({ origin: 'http://localhost:5173' })).statusCode, 200, 'an allowed origin');
  });
});

t.test('changing the profile', async (t) => {
  const made = await app(t);
  const { app: server, services } = made;
  const account = { ...(await register(server)) };
  let token = await login(server, account);
  const put = (payload: Record<string, unknown>) => server.inject({ method: 'PUT', url: '/api/v1/users/profile', headers: bearer(token), payload });

  t.test('needs the current password, and appends nothing without it', async (t) => {
    const before = await services.shared.store.headPosition();
    const wrong = await put({ password: secret('Another-Fine-Pass-9'), current_password: secret('wrong-current-pass') });
    t.equal(wrong.statusCode, 403);
    t.equal(wrong.json<{ code: string }>().code, 'CURRENT_PASSWORD_INCORRECT');
    t.equal((await put({ password: secret('Another-Fine-Pass-9') })).statusCode, 400, 'current_password is required');
    t.equal(await services.shared.store.headPosition(), before);
  });

  t.test('a new password replaces the old one', async (t) => {
    const newPassword = secret('Another-Fine-Pass-9');
    const weak = await put({ password: secret('password1234'), current_password: account.password });
    t.equal(weak.json<{ code: string }>().code, 'WEAK_PASSWORD');
    const changed = await put({ password: newPassword, current_password: account.password });
    t.equal(changed.statusCode, 200);
    const events = await services.shared.store.readStream(`user-${account.id}`);
    t.equal(events.at(-1)?.type, 'PasswordChanged');
    t.equal(changed.json<{ position: number }>().position, events.at(-1)?.position);
    t.equal((await server.inject(loginRequest(account.username, account.password))).statusCode, 401, 'the old password no longer works');
    t.equal((await server.inject(loginRequest(account.username, newPassword))).statusCode, 200);
    t.equal((await put({ current_password: newPassword })).statusCode, 401, 'the change ended the token it was made with');
    Object.assign(account, { password: newPassword });
    token = await login(server, account);
  });

  t.test("another account's address is refused; a free one is taken and the old one freed", async (t) => {
    const other = await register(server);
    const taken = await put({ email: other.email, current_password: account.password });
    t.equal(taken.statusCode, 409);
    t.equal(taken.json<{ code: string }>().code, 'EMAIL_TAKEN');
    const fresh = secret(`moved.${account.email}`);
    const moved = await put({ email: fresh, current_password: account.password });
    t.equal(moved.statusCode, 200);
    t.match(moved.json(), { email: fresh, email_verified: false });
    const reuse = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount(), email: account.email } });
    t.equal(reuse.statusCode, 201, 'the old address is free for someone else');
  });
});

t.test("brute force: after 5 failures from one address it waits, while the owner's other address signs in", async (t) => {
  const made = await app(t, { LOGIN_LOCKOUT_AFTER: '5', LOGIN_LOCKOUT_SECONDS: '600' });
  const account = await register(made.app);
  for (let i = 0; i < 5; i++) {
    const failed = await made.app.inject(loginRequest(account.username, secret(`guess-number-${i}-x`), '198.51.100.1'));
    t.equal(failed.statusCode, 401, `failure ${i + 1}`);
  }
  const waiting = await made.app.inject(loginRequest(account.username, account.password, '198.51.100.1'));
  t.equal(waiting.statusCode, 429, 'the same address waits, even with the right password');
  t.equal(waiting.json<{ code: string }>().code, 'ACCOUNT_LOCKED');
  t.equal(waiting.headers['retry-after'], '1', 'Retry-After says how long');
  t.equal((await made.app.inject(loginRequest(account.username, account.password, '198.51.100.99'))).statusCode, 200, 'another address signs in');
  const stranger = await made.app.inject(loginRequest('no.such.user', secret('guess-number-z-x'), '198.51.100.1'));
  t.equal(stranger.statusCode, 401, 'other accounts are not affected');
});

t.test('the lockout counters work the same in Redis, shared by every instance', async (t) => {
  const env = { REDIS_URL: serviceUrl('REDIS_URL'), LOGIN_LOCKOUT_AFTER: '3' };
  const first = await app(t, env);
  const second = await app(t, { ...env, MYSQL_URL: first.services.shared.config.mysqlUrl ?? '' });
  const account = await register(first.app);
  for (let i = 0; i < 3; i++) {
    await (i % 2 === 0 ? first : second).app.inject(loginRequest(account.username, secret(`redis-guess-${i}-x`)));
  }
  const locked = await second.app.inject(loginRequest(account.username, account.password));
  t.equal(locked.statusCode, 429, 'failures on both instances count together');
  t.equal(locked.json<{ code: string }>().code, 'ACCOUNT_LOCKED');
  t.equal((await first.app.inject(loginRequest(account.username, account.password, '198.51.100.99'))).statusCode, 200, 'another address signs in');

  const token = await (async () => {
    const other = await register(first.app);
    return login(first.app, other);
  })();
  await first.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(token) });
  const elsewhere = await second.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) });
  t.equal(elsewhere.statusCode, 401, 'a token signed out on one instance is refused by the other');
});

t.test('rate limits per address and per account; RATE_LIMIT=off turns them off', async (t) => {
  t.test('register: per address, and a spoofed X-Forwarded-For does not reset it', async (t) => {
    const made = await app(t, { RATE_LIMIT: 'on', REGISTER_LIMIT_PER_HOUR: '2' });
    const post = (forwardedFor: string) => made.app.inject({
      method: 'POST', url: '/api/v1/users/register', payload: newAccount(), headers: { 'x-forwarded-for': forwardedFor },
    });
    t.equal((await post('10.0.0.1')).statusCode, 201);
    t.equal((await post('10.0.0.2')).statusCode, 201);
    const limited = await post('10.0.0.3');
    t.equal(limited.statusCode, 429);
    t.equal(limited.json<{ code: string }>().code, 'RATE_LIMITED');
    t.ok(Number(limited.headers['retry-after']) > 0);
  });

  t.test('login: per address, and per account from one address (not from any: that shut the owner out)', async (t) => {
    const made = await app(t, { RATE_LIMIT: 'on', LOGIN_LIMIT_PER_MINUTE: '6', LOGIN_ACCOUNT_LIMIT_PER_MINUTE: '3', LOGIN_LOCKOUT_AFTER: '100' });
    const account = await register(made.app);
    const other = await register(made.app);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await made.app.inject(loginRequest(account.username, account.password, '192.0.2.1'))).statusCode);
    t.strictSame(statuses, [200, 200, 200, 429], 'the fourth on one account from one address is refused');
    t.equal((await made.app.inject(loginRequest(account.username, account.password, '192.0.2.2'))).statusCode, 200, 'the account from another address is not');
    const perAddress: number[] = [];
    for (let i = 0; i < 3; i++) perAddress.push((await made.app.inject(loginRequest(other.username, other.password, '192.0.2.1'))).statusCode);
    t.strictSame(perAddress, [200, 200, 429], 'the address has had its six (the refused one counts)');
  });

  t.test('off', async (t) => {
    const made = await app(t, { RATE_LIMIT: 'off', LOGIN_LIMIT_PER_MINUTE: '1', LOGIN_ACCOUNT_LIMIT_PER_MINUTE: '1' });
    const account = await register(made.app);
    for (let i = 0; i < 3; i++) t.equal((await made.app.inject(loginRequest(account.username, account.password))).statusCode, 200);
  });
});

t.test('no password, token or personal value reached the logs', async (t) => {
  assertNoSecretsInLogs(t, allLogs);
});
