import t from 'tap';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';

const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });

t.test('ready only when every dependency answers', async (t) => {
  let redisUp = true;
  const app = await buildApp(config, {
    readiness: {
      mysql: async () => undefined,
      redis: async () => {
        if (!redisUp) throw new Error('connection refused');
      },
    },
  });
  t.teardown(() => app.close());

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

t.test('a dependency that hangs makes the role not ready instead of hanging the probe', async (t) => {
  const app = await buildApp(config, { readiness: { nats: () => new Promise<void>(() => undefined) } });
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(response.statusCode, 503);
  t.strictSame(response.json(), { status: 'unavailable', checks: { nats: 'unavailable' } });
});
