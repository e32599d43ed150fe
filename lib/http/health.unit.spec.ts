import t, { type Test } from 'tap';
import type { ReadinessCheck } from './health.ts';
import { kitServer } from '../../test/support/http-server.ts';

const server = (t: Test, readiness: Record<string, ReadinessCheck>) => kitServer(t, { readiness });

t.test('ready only when every dependency answers', async (t) => {
  let redisUp = true;
  const app = await server(t, {
    mysql: async () => undefined,
    redis: async () => {
      if (!redisUp) throw new Error('connection refused');
    },
  });

  const ready = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(ready.statusCode, 200);
  t.strictSame(ready.json(), { status: 'ok', checks: { mysql: 'ok', redis: 'ok' } });

  redisUp = false;
  const notReady = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(notReady.statusCode, 503);
  t.strictSame(notReady.json(), { status: 'unavailable', checks: { mysql: 'ok', redis: 'unavailable' } });
  t.notMatch(notReady.body, /connection refused/, 'the cause is logged, not sent');

  const live = await app.inject({ method: 'GET', url: '/health/live' });
  t.equal(live.statusCode, 200, 'still alive while not ready');
});

t.test('a check may answer with a word a monitor should see (payments: simulated) and the role stays ready', async (t) => {
  const app = await server(t, { mysql: async () => undefined, payments: async () => 'simulated' });
  const ready = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(ready.statusCode, 200);
  t.strictSame(ready.json(), { status: 'ok', checks: { mysql: 'ok', payments: 'simulated' } });
});

t.test('a dependency that hangs makes the role not ready instead of hanging the probe', async (t) => {
  const app = await server(t, { nats: () => new Promise<void>(() => undefined) });
  const response = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(response.statusCode, 503);
  t.strictSame(response.json(), { status: 'unavailable', checks: { nats: 'unavailable' } });
});

t.test('an unknown route is a problem+json 404', async (t) => {
  const app = await server(t, {});
  const response = await app.inject({ method: 'GET', url: '/no/such/route' });
  t.equal(response.statusCode, 404);
  t.match(response.headers['content-type'], /application\/problem\+json/);
  t.match(response.json(), { status: 404, code: 'NOT_FOUND' });
});
