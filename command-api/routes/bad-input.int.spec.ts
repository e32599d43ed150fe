/**
 * Bad input is a clear 400 (or 415) with a problem+json body on every user route: never a 500,
 * never anything appended.
 */
import t from 'tap';
import { testApp } from '../../test/support/app.ts';
import { assertNoSecretsInLogs, bearer, login, newAccount, register } from '../../test/support/users.ts';

t.test('every user route answers bad input with a problem, and appends nothing', async (t) => {
  const made = await testApp(t);
  const { app: server, services } = made;
  const account = await register(server);
  const token = await login(server, account);
  const routes = [
    { method: 'POST' as const, url: '/api/v1/users/register', valid: newAccount() as Record<string, unknown>, headers: {} },
    { method: 'POST' as const, url: '/api/v1/users/login', valid: { username: account.username, password: account.password }, headers: {} },
    { method: 'POST' as const, url: '/api/v1/users/verify-email', valid: { token: 'x.y' }, headers: {} },
    { method: 'PUT' as const, url: '/api/v1/users/profile', valid: { current_password: account.password }, headers: bearer(token) },
  ];
  const head = await services.shared.store.headPosition();
  const expectProblem = (response: Awaited<ReturnType<typeof server.inject>>, status: number, code: string, name: string) => {
    t.equal(response.statusCode, status, `${name}: status`);
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`);
    t.match(response.json(), { type: String, title: String, status, detail: String, code, error: String }, `${name}: problem body`);
  };

  for (const route of routes) {
    const send = (payload: string, contentType = 'application/json') => server.inject({
      method: route.method, url: route.url, payload, headers: { ...route.headers, 'content-type': contentType },
    });
    const name = `${route.method} ${route.url}`;
    expectProblem(await send(JSON.stringify({ ...route.valid, surprise: 'field' })), 400, 'VALIDATION_FAILED', `${name} unknown field`);
    const [firstKey] = Object.keys(route.valid);
    expectProblem(await send(JSON.stringify({ ...route.valid, [firstKey ?? 'x']: { nested: true } })), 400, 'VALIDATION_FAILED', `${name} wrong type`);
    expectProblem(await send(JSON.stringify({ ...route.valid, [firstKey ?? 'x']: 12345 })), 400, 'VALIDATION_FAILED', `${name} number for a string`);
    expectProblem(await send('{"username": "x", '), 400, 'INVALID_JSON', `${name} invalid JSON`);
    expectProblem(await send(''), 400, 'INVALID_JSON', `${name} empty body`);
    expectProblem(await send(JSON.stringify({ padding: 'x'.repeat(70 * 1024) })), 413, 'PAYLOAD_TOO_LARGE', `${name} > 64 KiB`);
    // fastify's JSON parser refuses prototype keys outright.
    expectProblem(await send('{"__proto__": {"admin": true}}'), 400, 'INVALID_JSON', `${name} __proto__`);
    expectProblem(await send('{"constructor": {"prototype": {"admin": true}}}'), 400, 'INVALID_JSON', `${name} constructor.prototype`);
    expectProblem(await send('[]'), 400, 'VALIDATION_FAILED', `${name} an array`);
    expectProblem(await send('username=x', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE', `${name} a form`);
  }
  t.equal(await services.shared.store.headPosition(), head, 'nothing was appended');
  t.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
  assertNoSecretsInLogs(t, made.logs);
});
