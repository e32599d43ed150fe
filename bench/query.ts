/**
 * The hot read path: GET /api/v1/concerts/:id/availability served by the query role from the
 * Redis seat cache, at 100 connections, next to two ceilings measured in the same run on the same
 * machine: fastify answering a constant (hello world), and fastify answering after one Redis GET.
 * Ours does what the second does plus the route's work: schema validation, the read-your-writes
 * check, one Lua call that reads the generation pointer, the concert's hash and the cache's
 * position, and the response schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { freePort, startRedis } from '../test/harness/servers.ts';
import { withDatabase } from './database.ts';
import { spawnProcess, stop } from './processes.ts';

export interface ReadFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly rounds: readonly number[];
}

export interface QueryFigures {
  readonly ours: ReadFigures;
  readonly redisGet: ReadFigures;
  readonly hello: ReadFigures;
}

const CONNECTIONS = 100;

async function measure(url: string, seconds: number): Promise<autocannon.Result> {
  await autocannon({ url, connections: CONNECTIONS, duration: 2 }); // warm-up
  return autocannon({ url, connections: CONNECTIONS, duration: seconds });
}

/** Requests/s as the mean of the rounds; latencies of the best round. */
export function summary(results: readonly autocannon.Result[]): ReadFigures {
  const rates = results.map((result) => result.requests.average);
  const best = [...results].sort((a, b) => b.requests.average - a.requests.average)[0] as autocannon.Result;
  return {
    requestsPerSecond: rates.reduce((sum, rate) => sum + rate, 0) / rates.length,
    p50Ms: best.latency.p50,
    p99Ms: best.latency.p99,
    non2xx: results.reduce((sum, result) => sum + result.non2xx + result.errors, 0),
    rounds: rates.map(Math.round),
  };
}

export async function benchQuery(mysqlServerUrl: string, options: { rounds: number; seconds: number; log: (line: string) => void }): Promise<QueryFigures> {
  const redis = await startRedis();
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-query-'));
  try {
    return await withDatabase(mysqlServerUrl, async (mysqlUrl) => {
      const env = {
        HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: mysqlUrl, REDIS_URL: redis.url, LOG_LEVEL: 'warn', RATE_LIMIT: 'off', PAYMENT_GATEWAY: 'sandbox',
        JWT_SECRET: randomBytes(32).toString('hex'), PERSONAL_DATA_KEY: randomBytes(32).toString('base64'), PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
        BOXOFFICE_ADMIN_PASSWORD: 'Bench-Admin-Pass-2026',
      };
      // Set up with every role: a concert, projected into MySQL and the seat cache.
      let port = await freePort();
      const setup = await spawnProcess(['app/server.ts'], { ...env, PORT: String(port) }, /boxoffice is running/);
      let concertId: string;
      try {
        const base = `http://127.0.0.1:${port}`;
        const login = await fetch(`${base}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'Bench-Admin-Pass-2026' }) });
        const token = ((await login.json()) as { access_token: string }).access_token;
        const created = await fetch(`${base}/api/v1/admin/concerts`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ name: 'Read Rush', artist: 'Bench', date: '2099-02-14T12:00:00Z', venue: 'GBK', ticket_classes: [
            { name: 'VIP', price: 2_500_000, total_seats_in_class: 5_000 }, { name: 'Festival', price: 750_000, total_seats_in_class: 45_000 },
          ] }),
        });
        const concert = (await created.json()) as { id: string; position: number };
        concertId = concert.id;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const answer = await fetch(`${base}/api/v1/concerts/${concertId}/availability?min_position=${concert.position}`);
          if (answer.status === 200) break;
          if (Date.now() > deadline) throw new Error(`availability not served: ${answer.status}`);
        }
      } finally {
        await stop(setup);
      }
      // Measure the query role alone, as it runs in production.
      port = await freePort();
      const query = await spawnProcess(['app/server.ts'], { ...env, PORT: String(port), BOXOFFICE_ROLE: 'query' }, /boxoffice is running/);
      const helloPort = await freePort();
      const hello = await spawnProcess(['bench/query-baselines.ts'], { PORT: String(helloPort), BASELINE: 'hello' }, /baseline hello listening/);
      const redisPort = await freePort();
      const redisGet = await spawnProcess(['bench/query-baselines.ts'], { PORT: String(redisPort), BASELINE: 'redis', REDIS_URL: redis.url }, /baseline redis listening/);
      try {
        const ours: autocannon.Result[] = [];
        const redisRuns: autocannon.Result[] = [];
        const helloRuns: autocannon.Result[] = [];
        const oursUrl = `http://127.0.0.1:${port}/api/v1/concerts/${concertId}/availability`;
        const check = await fetch(oursUrl);
        if (check.status !== 200) throw new Error(`availability answered ${check.status}`);
        for (let round = 1; round <= options.rounds; round++) {
          helloRuns.push(await measure(`http://127.0.0.1:${helloPort}/value`, options.seconds));
          redisRuns.push(await measure(`http://127.0.0.1:${redisPort}/value`, options.seconds));
          ours.push(await measure(oursUrl, options.seconds));
          options.log(`  round ${round}: hello ${Math.round(helloRuns.at(-1)?.requests.average ?? 0)}, redis GET ${Math.round(redisRuns.at(-1)?.requests.average ?? 0)}, availability ${Math.round(ours.at(-1)?.requests.average ?? 0)} req/s`);
        }
        return { ours: summary(ours), redisGet: summary(redisRuns), hello: summary(helloRuns) };
      } finally {
        await Promise.all([stop(query), stop(hello), stop(redisGet)]);
      }
    });
  } finally {
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
