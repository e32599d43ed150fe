/**
 * Registration and email verification over HTTP (inject), on the MariaDB event store.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { normalizeUsername, userEvents } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { emailDigestIn } from '../../test/support/digest.ts';
import { eventually } from '../../test/support/eventually.ts';
import { assertNoSecretsInLogs, bearer, login, newAccount, register, secret, waitForMail } from '../../test/support/users.ts';
import { EmailTokens } from '../users/email-token.ts';

const allLogs: string[] = [];
async function app(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const made = await testApp(t, env);
  t.teardown(() => void allLogs.push(...made.logs));
  return made;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

async function eventsOfType(store: EventStore, type: string): Promise<readonly RecordedEvent[]> {
  return (await store.readAll({ maxCount: 10_000, filter: { eventTypes: [type] } })).events;
}

t.test('registering', async (t) => {
  const { app: server, services, mails, dataDir } = await app(t);

  t.test('creates the account: claims for name and address, the user stream, a sealed address', async (t) => {
    const account = newAccount('rina');
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/users/register',
      headers: { 'x-correlation-id': 'signup-flow-7', 'x-request-id': 'req-register-1' },
      payload: { ...account, email: account.email.toUpperCase() },
    });
    t.equal(response.statusCode, 201);
    const body = response.json<{ id: string; position: number }>();
    t.match(body, {
      id: /^[0-9a-f-]{36}$/,
      username: account.username,
      email: account.email,
      role: 'customer',
      email_verified: false,
      last_login: null,
      position: Number,
    });
    t.ok(Number.isFinite(Date.parse((body as unknown as { created_at: string }).created_at)));

    const [registered] = await services.shared.store.readStream(`user-${body.id}`);
    const event = registered && decode(registered, userEvents);
    t.equal(event?.type, 'UserRegistered');
    if (event?.type !== 'UserRegistered') throw new Error(`user-${body.id} begins with ${event?.type}, not UserRegistered`);
    const { data } = event;
    t.notMatch(JSON.stringify(registered), account.email, 'the address is not in the event in clear text');
    t.notMatch(JSON.stringify(registered), account.password, 'nor is the password');
    t.match(data.password_hash, /^\$argon2id\$/);
    t.equal(data.email_hash, await emailDigestIn(dataDir, account.email), 'the keyed digest of the address');
    t.not(data.email_hash, sha256(account.email), 'not its plain sha256, which anyone could confirm a guess with');
    t.match(registered?.metadata, { correlation_id: 'signup-flow-7', causation_id: 'req-register-1', actor_id: body.id, schema_version: 2 });
    t.equal(body.position, registered?.position);

    const [usernameClaim] = await services.shared.store.readStream(`username-${normalizeUsername(account.username)}`);
    t.match(usernameClaim, { type: 'ValueClaimed', data: { owner_id: body.id } });
    const [emailClaim] = await services.shared.store.readStream(`email-${await emailDigestIn(dataDir, account.email)}`);
    t.match(emailClaim, { type: 'ValueClaimed', data: { owner_id: body.id } });

    const mail = await waitForMail({ mails } as TestApp, account.email);
    t.match(mail.text, /\/api\/v1\/users\/verify-email\?token=/);
  });

  t.test('a taken username, in any case, is refused and nothing is created', async (t) => {
    const first = await register(server);
    const before = (await eventsOfType(services.shared.store, 'UserRegistered')).length;
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/users/register',
      payload: { ...newAccount(), username: first.username.toUpperCase() },
    });
    t.equal(response.statusCode, 409);
    t.match(response.headers['content-type'], /application\/problem\+json/);
    t.match(response.json(), { code: 'USERNAME_TAKEN', status: 409, error: String });
    t.equal((await eventsOfType(services.shared.store, 'UserRegistered')).length, before, 'no account appended');
  });

  t.test('a taken address is refused, and the username it held is free again', async (t) => {
    const first = await register(server);
    const second = newAccount();
    const response = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...second, email: first.email.toUpperCase() } });
    t.equal(response.statusCode, 409);
    t.equal(response.json<{ code: string }>().code, 'EMAIL_TAKEN');
    const claim = await services.shared.store.readStream(`username-${normalizeUsername(second.username)}`);
    t.strictSame(claim.map((e) => e.type), ['ValueClaimed', 'ValueReleased'], 'the username claim was given back');
    const retry = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: second });
    t.equal(retry.statusCode, 201, 'the same username registers with another address');
  });

  t.test('20 registrations of one username at once: one account', async (t) => {
    const base = newAccount('race');
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => server.inject({
      method: 'POST',
      url: '/api/v1/users/register',
      payload: { username: base.username, email: secret(`race${i}.${base.email}`), password: base.password },
    })));
    const statuses = responses.map((r) => r.statusCode).sort();
    t.equal(statuses.filter((s) => s === 201).length, 1, 'one 201');
    t.equal(statuses.filter((s) => s === 409).length, 19, 'nineteen 409');
    t.ok(responses.filter((r) => r.statusCode === 409).every((r) => r.json<{ code: string }>().code === 'USERNAME_TAKEN'));
    const accounts = (await eventsOfType(services.shared.store, 'UserRegistered')).map((e) => decode(e, userEvents)).filter((e) => e.type === 'UserRegistered' && e.data.username === base.username);
    t.equal(accounts.length, 1, 'one user stream');
  });

  t.test('with an Idempotency-Key: the same request again answers the same 201 and appends nothing; another body with that key is refused', async (t) => {
    const account = newAccount('idem');
    const key = `signup-${account.username}`;
    const send = (payload: Record<string, string>, idempotencyKey = key) => server.inject({
      method: 'POST', url: '/api/v1/users/register', headers: { 'idempotency-key': idempotencyKey }, payload,
    });
    const first = await send(account);
    t.equal(first.statusCode, 201, first.body);
    const head = await services.shared.store.headPosition();
    await eventually(async () => (await mails()).find((mail) => mail.to === account.email), 'the verification mail');
    const mailsBefore = (await mails()).filter((mail) => mail.to === account.email).length;

    const again = await send(account);
    t.equal(again.statusCode, 201, again.body);
    t.same(again.json(), first.json(), 'the same answer');
    t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
    const racing = await Promise.all(Array.from({ length: 5 }, () => send(account)));
    t.same(racing.map((answer) => answer.statusCode), [201, 201, 201, 201, 201], 'also five at once');
    t.ok(racing.every((answer) => answer.json<{ id: string }>().id === first.json<{ id: string }>().id), 'the one account');
    t.equal(await services.shared.store.headPosition(), head, 'still nothing appended');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.equal((await mails()).filter((mail) => mail.to === account.email).length, mailsBefore, 'no second verification mail');

    for (const [what, other] of [
      ['another address', { ...account, email: secret(`other.${account.email}`) }],
      ['another password', { ...account, password: secret(`${account.password}-2`) }],
    ] as const) {
      const reused = await send(other);
      t.equal(reused.statusCode, 422, `${what}: ${reused.body}`);
      t.equal(reused.json<{ code: string }>().code, 'IDEMPOTENCY_KEY_REUSED');
    }
    t.equal(await services.shared.store.headPosition(), head, 'a refused reuse appends nothing');
    const otherAddress = await send({ ...newAccount('idem'), email: secret(`other.${account.email}`) }, `fresh-${account.username}`);
    t.equal(otherAddress.statusCode, 201, 'the address the refused request named is not held by it');

    const taken = await send({ ...newAccount('idem'), username: account.username }, `another-${account.username}`);
    t.equal(taken.statusCode, 409, 'another key for a taken username: as without a key');
    t.equal(taken.json<{ code: string }>().code, 'USERNAME_TAKEN');
    const bad = await send(account, 'not a key!');
    t.equal(bad.statusCode, 400, 'a malformed key');
  });

  t.test('weak passwords are refused before anything is written', async (t) => {
    const head = await services.shared.store.headPosition();
    const cases: [string, string][] = [
      ['password123', 'WEAK_PASSWORD'],
      ['qwertyuiop', 'WEAK_PASSWORD'],
      ['aaaaaaaaaaaa', 'WEAK_PASSWORD'],
      ['short', 'VALIDATION_FAILED'],
    ];
    for (const [password, code] of cases) {
      const response = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount(), password: secret(password) } });
      t.equal(response.statusCode, 400, password);
      t.equal(response.json<{ code: string }>().code, code, password);
    }
    const account = newAccount('dimas');
    const containsName = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...account, password: secret(`${account.username}-2026!`) } });
    t.equal(containsName.json<{ code: string }>().code, 'WEAK_PASSWORD', 'a password containing the username');
    t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
  });

  t.test('usernames and addresses follow the rules', async (t) => {
    const cases: Record<string, unknown>[] = [
      { username: 'ab' },
      { username: 'a'.repeat(51) },
      { username: 'rina k' },
      { username: 'rina<script>' },
      { email: 'not-an-email' },
      { email: 12 },
    ];
    for (const override of cases) {
      const response = await server.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount(), ...override } });
      t.equal(response.statusCode, 400, JSON.stringify(override));
      t.equal(response.json<{ code: string }>().code, 'VALIDATION_FAILED');
    }
  });
});

t.test('verifying the address', async (t) => {
  const made = await app(t);
  const { app: server, services } = made;

  t.test('the mailed token verifies once; the link in the mail works too', async (t) => {
    const account = await register(server);
    const mail = await waitForMail(made, account.email);
    const verified = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: mail.token } });
    t.equal(verified.statusCode, 200);
    const events = await services.shared.store.readStream(`user-${account.id}`);
    t.equal(events.at(-1)?.type, 'EmailVerified');
    t.equal(verified.json<{ position: number }>().position, events.at(-1)?.position);
    const token = await login(server, account);
    const profile = await server.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) });
    t.equal(profile.json<{ email_verified: boolean }>().email_verified, true);

    const again = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: mail.token } });
    t.equal(again.statusCode, 400);
    t.equal(again.json<{ code: string }>().code, 'EMAIL_ALREADY_VERIFIED');

    const other = await register(server);
    const link = new URL((await waitForMail(made, other.email)).text.match(/http\S+/)?.[0] ?? '');
    const page = await server.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    t.equal(page.statusCode, 200);
    t.match(page.headers['content-type'], /text\/html/);
    t.match(page.body, /Email verified/);
    t.match(page.headers['content-security-policy'], /style-src 'self'/, 'a page gets the policy a page needs');
    t.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    const badPage = await server.inject({ method: 'GET', url: '/api/v1/users/verify-email?token=forged.token' });
    t.equal(badPage.statusCode, 400);
    t.match(badPage.body, /Verification failed/);
  });

  t.test('a forged, altered or expired token is refused', async (t) => {
    const account = await register(server);
    const { token } = await waitForMail(made, account.email);
    const [body = '', signature = ''] = token.split('.');
    const altered = `${Buffer.from(JSON.stringify({ sub: 'someone-else', eh: 'x', exp: 9_999_999_999 })).toString('base64url')}.${signature}`;
    for (const bad of ['nonsense', `${body}.${'A'.repeat(signature.length)}`, altered, `${token}.extra`]) {
      const response = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: bad } });
      t.equal(response.statusCode, 400);
      t.equal(response.json<{ code: string }>().code, 'VERIFICATION_TOKEN_INVALID');
    }
    const lastWeek = new EmailTokens(services.auth.secret, 3600, () => Date.now() - 7 * 86_400_000);
    const expired = lastWeek.issue(account.id, createHash('sha256').update(account.email).digest('hex'));
    const response = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: expired } });
    t.equal(response.json<{ code: string }>().code, 'VERIFICATION_TOKEN_EXPIRED');
    t.equal((await services.shared.store.readStream(`user-${account.id}`)).length, 1, 'nothing appended');
  });

  t.test('a token for an address since changed is stale', async (t) => {
    const account = await register(server);
    const { token: oldToken } = await waitForMail(made, account.email);
    const accessToken = await login(server, account);
    const newEmail = secret(`new.${account.email}`);
    const changed = await server.inject({
      method: 'PUT',
      url: '/api/v1/users/profile',
      headers: bearer(accessToken),
      payload: { email: newEmail, current_password: account.password },
    });
    t.equal(changed.statusCode, 200);
    const stale = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: oldToken } });
    t.equal(stale.statusCode, 400);
    t.equal(stale.json<{ code: string }>().code, 'VERIFICATION_TOKEN_STALE');
    const { token: newToken } = await waitForMail(made, newEmail);
    const fresh = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: newToken } });
    t.equal(fresh.statusCode, 200, 'the new mail verifies the new address');
  });

  t.test('the verification mail can be sent again while unverified', async (t) => {
    const account = await register(server);
    await waitForMail(made, account.email);
    const accessToken = await login(server, account);
    const resent = await server.inject({ method: 'POST', url: '/api/v1/users/verify-email/resend', headers: bearer(accessToken) });
    t.equal(resent.statusCode, 202);
    const count = await eventually(async () => {
      const mails = (await made.mails()).filter((m) => m.to === account.email).length;
      return mails >= 2 && mails;
    }, 'a second mail', 5_000);
    t.equal(count, 2, 'a second mail');
  });
});

t.test('with VERIFY_REDIRECT_URL the link redirects to the front end', async (t) => {
  const made = await app(t, { VERIFY_REDIRECT_URL: 'https://tickets.example.test/verified' });
  const account = await register(made.app);
  const { token } = await waitForMail(made, account.email);
  const ok = await made.app.inject({ method: 'GET', url: `/api/v1/users/verify-email?token=${encodeURIComponent(token)}` });
  t.equal(ok.statusCode, 302);
  t.equal(ok.headers.location, 'https://tickets.example.test/verified?status=verified');
  const again = await made.app.inject({ method: 'GET', url: `/api/v1/users/verify-email?token=${encodeURIComponent(token)}` });
  t.equal(again.headers.location, 'https://tickets.example.test/verified?status=failed&code=EMAIL_ALREADY_VERIFIED');
});

t.test('with a CAPTCHA service configured, registration needs a solved CAPTCHA', async (t) => {
  const asked: Record<string, string>[] = [];
  const captchaService = Fastify();
  captchaService.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  captchaService.post('/siteverify', async (request) => {
    const form = request.body as Record<string, string>;
    asked.push(form);
    return { success: form.response === 'solved' && form.secret === 'captcha-secret' };
  });
  const address = await captchaService.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => captchaService.close());
  const made = await app(t, { CAPTCHA_VERIFY_URL: `${address}/siteverify`, CAPTCHA_SECRET: 'captcha-secret' });
  const post = (payload: Record<string, unknown>) => made.app.inject({ method: 'POST', url: '/api/v1/users/register', payload, remoteAddress: '203.0.113.9' });

  const missing = await post({ ...newAccount() });
  t.equal(missing.statusCode, 400);
  t.equal(missing.json<{ code: string }>().code, 'CAPTCHA_REQUIRED');
  const failed = await post({ ...newAccount(), captcha_token: 'bot' });
  t.equal(failed.statusCode, 400);
  t.equal(failed.json<{ code: string }>().code, 'CAPTCHA_FAILED');
  const solved = await post({ ...newAccount(), captcha_token: 'solved' });
  t.equal(solved.statusCode, 201);
  t.match(asked.at(-1), { secret: 'captcha-secret', response: 'solved', remoteip: '203.0.113.9' }, 'the service was asked with the client address');
  t.equal((await made.services.shared.store.readAll({ filter: { eventTypes: ['UserRegistered'] } })).events.length, 1, 'only the solved one registered');

  await captchaService.close();
  const down = await post({ ...newAccount(), captcha_token: 'solved' });
  t.equal(down.statusCode, 503);
  t.equal(down.json<{ code: string }>().code, 'CAPTCHA_UNAVAILABLE');
  t.ok(down.headers['retry-after']);
});

t.test('no password, token or personal value reached the logs', async (t) => {
  assertNoSecretsInLogs(t, allLogs);
});
