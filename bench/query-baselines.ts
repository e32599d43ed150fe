/**
 * The ceilings the availability route is measured against, each its own process:
 *   BASELINE=hello  fastify answering a small JSON object;
 *   BASELINE=redis  fastify answering a small JSON object after one Redis GET.
 *   PORT=… REDIS_URL=… BASELINE=redis node --import tsx bench/query-baselines.ts
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT);
const mode = process.env.BASELINE;
const app = Fastify({ logger: false });
if (mode === 'redis') {
  const redis = new Redis(process.env.REDIS_URL ?? '');
  await redis.set('bench:value', JSON.stringify({ available: 12_345 }));
  app.get('/value', async () => ({ value: JSON.parse((await redis.get('bench:value')) ?? 'null') as unknown }));
} else {
  app.get('/value', async () => ({ hello: 'world' }));
}
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`baseline ${mode ?? 'hello'} listening\n`);
