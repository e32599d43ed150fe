/** What every role's server does around the routes: API docs, CORS, security headers. */
import t from 'tap';
import { testApp } from '../test/support/app.ts';

t.test('OpenAPI docs at /docs, the document at /docs/json', async (t) => {
  const { app } = await testApp(t);
  const ui = await app.inject({ method: 'GET', url: '/docs' });
  t.ok([200, 302].includes(ui.statusCode), `the UI answers (${ui.statusCode})`);
  const document = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(document.statusCode, 200);
  const openapi = document.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
  t.match(openapi.openapi, /^3\./);
  for (const path of ['/api/v1/users/register', '/api/v1/users/login', '/api/v1/users/profile', '/api/v1/admin/streams/{stream}']) {
    t.ok(openapi.paths[path], `documents ${path}`);
  }
  t.ok(openapi.paths['/api/v1/users/register']?.post, 'with its method');
});

t.test('CORS answers allowed origins with credentials, and nobody else', async (t) => {
  const { app } = await testApp(t, { CORS_ORIGINS: 'https://tickets.example.test' });
  const preflight = (origin: string) => app.inject({
    method: 'OPTIONS',
    url: '/api/v1/users/login',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
  });
  const allowed = await preflight('https://tickets.example.test');
  t.equal(allowed.headers['access-control-allow-origin'], 'https://tickets.example.test');
  t.equal(allowed.headers['access-control-allow-credentials'], 'true');
  t.match(String(allowed.headers['access-control-allow-headers']), /Idempotency-Key/);
  const refused = await preflight('https://evil.example');
  t.equal(refused.headers['access-control-allow-origin'], undefined);
  const read = await app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://tickets.example.test' } });
  t.match(String(read.headers['access-control-expose-headers']), /X-Projection-Position/);
});

t.test('security headers on every answer, and the request id echoed', async (t) => {
  const { app } = await testApp(t);
  const response = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-42' } });
  t.equal(response.headers['x-content-type-options'], 'nosniff');
  t.ok(response.headers['strict-transport-security']);
  t.equal(response.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", 'JSON: nothing loads or frames from it');
  t.equal(response.headers['x-frame-options'], 'DENY');
  t.equal(response.headers['x-request-id'], 'trace-42');
  const odd = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'has spaces\nand newline' } });
  t.match(odd.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unsafe request id is replaced');
});
