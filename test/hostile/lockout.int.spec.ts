/**
 * Lockouts as an attack: a stranger's wrong passwords must not shut the owner out (admin
 * included), parallel guesses must not buy more password evaluations than the limit, the wait
 * between guesses grows, and a guess spread over many addresses meets the CAPTCHA (or, without
 * one, a delay that an owner on a clean address does not feel).
 */
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { testApp, type TestApp } from '../support/app.ts';
import { adminToken } from '../support/booking.ts';
import { serviceUrl } from '../support/services.ts';
import { newAccount, register, secret } from '../support/users.ts';

const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';

const attempt = (made: TestApp, username: string, password: string, remoteAddress: string, extra: Record<string, unknown> = {}) =>
  made.app.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username, password, ...extra }, remoteAddress });

const codeOf = (response: { json: <T>() => T }): string => response.json<{ code: string }>().code;

/** Counts argon2 verifications of the command role's hasher, the unknown-user dummy included. */
function countVerifications(t: Test, made: TestApp): () => number {
  let verifications = 0;
  const passwords = made.services.command.passwords;
  const original = { verify: passwords.verify.bind(passwords), verifyNothing: passwords.verifyNothing.bind(passwords) };
  passwords.verify = async (...args) => (verifications++, original.verify(...args));
  passwords.verifyNothing = async (...args) => (verifications++, original.verifyNothing(...args));
  t.teardown(() => void Object.assign(passwords, original));
  return () => verifications;
}

t.test("a stranger's wrong passwords from one address do not lock the owner out from another, admin included", async (t) => {
  // The limits as deployed (RATE_LIMIT on, every default): the per-account rate limit was a lockout too.
  const made = await testApp(t, { RATE_LIMIT: 'on' });
  const customer = await register(made.app);
  const adminPassword = secret('Test-Admin-Pass-2026');
  await adminToken(made);
  for (const [name, username, password] of [['a customer', customer.username, customer.password], ['the admin', 'admin', adminPassword]] as const) {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(made, username, secret(`stranger-guess-${i}-x`), ATTACKER)).statusCode);
    t.ok(statuses.every((status) => status === 401 || status === 429), `${name}: the stranger gets 401s and 429s (${statuses.join(' ')})`);
    t.ok(statuses.includes(429), `${name}: the stranger is slowed down`);
    const owner = await attempt(made, username, password, OWNER);
    t.equal(owner.statusCode, 200, `${name}: the owner signs in from another address (${owner.statusCode} ${owner.statusCode === 200 ? '' : codeOf(owner)})`);
  }
});

t.test('twenty parallel wrong logins from one address evaluate the password at most LOGIN_LOCKOUT_AFTER times', async (t) => {
  for (const [store, env] of [['in memory', {}], ['in Redis', { REDIS_URL: serviceUrl('REDIS_URL') }]] as const) t.test(store, async (t) => {
    await parallelGuesses(t, await testApp(t, { LOGIN_LOCKOUT_AFTER: '5', ...env }));
  });
});

async function parallelGuesses(t: Test, made: TestApp): Promise<void> {
  const account = await register(made.app);
  const verifications = countVerifications(t, made);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(made, account.username, secret(`parallel-guess-${i}-x`), ATTACKER)));
  const unauthorized = answers.filter((answer) => answer.statusCode === 401).length;
  const refused = answers.filter((answer) => answer.statusCode === 429 && codeOf(answer) === 'ACCOUNT_LOCKED').length;
  t.ok(verifications() <= 5, `at most 5 argon2 verifications (${verifications()})`);
  t.equal(verifications(), unauthorized, 'every 401 is one verification, and every verification a 401');
  t.ok(unauthorized >= 1, 'the guesses did reach the password check');
  t.equal(unauthorized + refused, 20, 'the rest are refused ACCOUNT_LOCKED, without a verification');
  t.equal((await attempt(made, account.username, account.password, OWNER)).statusCode, 200, 'and the owner still signs in elsewhere');
}

t.test('the wait between guesses from one address grows: Retry-After 1, 2, 4', async (t) => {
  const made = await testApp(t, { LOGIN_LOCKOUT_AFTER: '2' });
  const account = await register(made.app);
  const guess = (i: number) => attempt(made, account.username, secret(`growing-guess-${i}-x`), ATTACKER);
  t.equal((await guess(0)).statusCode, 401);
  t.equal((await guess(1)).statusCode, 401);
  const waits: number[] = [];
  for (let round = 2; round < 5; round++) {
    const refused = await guess(round * 10);
    t.equal(refused.statusCode, 429, `refused right after a failure (round ${round})`);
    t.equal(codeOf(refused), 'ACCOUNT_LOCKED');
    const wait = Number(refused.headers['retry-after']);
    waits.push(wait);
    if (!(wait > 0 && wait <= 8)) break;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
    t.equal((await guess(round * 10 + 1)).statusCode, 401, 'after the wait one more guess is evaluated');
  }
  t.strictSame(waits, [1, 2, 4], 'Retry-After doubles');
});

t.test('a guess spread over many addresses, with a CAPTCHA configured: sign-in needs captcha_token', async (t) => {
  const asked: string[] = [];
  const captchaService = Fastify();
  captchaService.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  captchaService.post('/siteverify', async (request) => {
    const form = request.body as Record<string, string>;
    asked.push(form.response ?? '');
    return { success: form.response === 'solved' && form.secret === 'captcha-secret' };
  });
  const address = await captchaService.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => captchaService.close());
  const made = await testApp(t, { CAPTCHA_VERIFY_URL: `${address}/siteverify`, CAPTCHA_SECRET: 'captcha-secret', LOGIN_CAPTCHA_AFTER: '4' });
  const withCaptcha = { ...newAccount(), captcha_token: 'solved' };
  const account = await register(made.app, withCaptcha);
  for (let i = 0; i < 4; i++) {
    const failed = await attempt(made, account.username, secret(`spread-guess-${i}-x`), `192.0.2.${i + 1}`);
    t.equal(failed.statusCode, 401, `guess ${i + 1}: no CAPTCHA asked yet`);
  }
  t.equal(asked.length, 1, 'only the registration asked the CAPTCHA service');
  const verifications = countVerifications(t, made);
  const missing = await attempt(made, account.username, account.password, OWNER);
  t.equal(missing.statusCode, 400);
  t.equal(codeOf(missing), 'CAPTCHA_REQUIRED');
  const bot = await attempt(made, account.username, secret('spread-guess-9-x'), '192.0.2.99', { captcha_token: 'bot' });
  t.equal(bot.statusCode, 400);
  t.equal(codeOf(bot), 'CAPTCHA_FAILED');
  t.equal(verifications(), 0, 'no password was evaluated without a solved CAPTCHA');
  const owner = await attempt(made, account.username, account.password, OWNER, { captcha_token: 'solved' });
  t.equal(owner.statusCode, 200, 'the owner signs in with a solved CAPTCHA');
  t.equal(verifications(), 1);
});

t.test('a guess spread over many addresses, without a CAPTCHA: the guessing addresses wait, the owner on a clean address does not', async (t) => {
  const made = await testApp(t, { LOGIN_CAPTCHA_AFTER: '6', LOGIN_LOCKOUT_AFTER: '5' });
  const account = await register(made.app);
  for (let i = 0; i < 6; i++) {
    t.equal((await attempt(made, account.username, secret(`botnet-guess-${i}-x`), `192.0.2.${i + 1}`)).statusCode, 401, `address ${i + 1}`);
  }
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await attempt(made, account.username, secret(`botnet-again-${i}-x`), `192.0.2.${i + 1}`)).statusCode);
  t.ok(statuses.filter((status) => status === 429).length >= 5, `the addresses that failed wait an account-wide delay (${statuses.join(' ')})`);
  const owner = await attempt(made, account.username, account.password, OWNER);
  t.equal(owner.statusCode, 200, `the owner signs in from a clean address (${owner.statusCode})`);
});
