/**
 * The waiting room's status poll: GET /api/v1/queue/:token served by `app/server.ts` in the query
 * role from the Redis board, for a few thousand places (waiting and admitted mixed, every request
 * a different place), against fastify answering after one Redis GET (bench/query-baselines.ts),
 * with the same load generator in the same run.
 *
 * The board is written by the queue projection's own code (projectors/queue) from a queue decided
 * by the domain's decider: the route reads what production would find.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import type { QueueEvent } from '../domain/queue/index.ts';
import type { EventStore } from '../eventstore/port.ts';
import type { ApplyContext, ProjectedEvent } from '../projectors/projection.ts';
import { queueProjection } from '../projectors/queue/queue.ts';
import { RedisQueueBoard } from '../read-models/queue-board.ts';
import { freePort, startRedis } from '../test/harness/servers.ts';
import { QUEUE_STREAM, WaitingRoomScript, placeId } from '../test/support/waiting-room.ts';
import { withDatabase } from './database.ts';
import { spawnProcess, stop } from './processes.ts';
import { summary, type ReadFigures } from './query.ts';

export interface QueueStatusFigures {
  readonly ours: ReadFigures;
  readonly redisGet: ReadFigures;
  readonly places: number;
  readonly admitted: number;
  readonly seconds: number;
}

const CONNECTIONS = 100;

/** autocannon on `paths` in turn (each request the next place). */
async function measure(base: string, paths: readonly string[], seconds: number): Promise<autocannon.Result> {
  let next = 0;
  const run = (duration: number) => autocannon({
    url: base,
    connections: CONNECTIONS,
    duration,
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }],
  });
  await run(Math.min(2, seconds)); // warm-up
  return run(seconds);
}

/** A queue of `places` visitors drawn at the opening, the first `admitted` let in just now: on the board. */
async function fillBoard(redisUrl: string, places: number, admitted: number): Promise<void> {
  const now = Date.now();
  const at = (ms: number) => new Date(now + ms).toISOString();
  const script = new WaitingRoomScript();
  script.open(at(-10 * 60_000), at(-5 * 60_000));
  for (let n = 1; n <= places; n++) script.join(n, at(-8 * 60_000));
  script.draw(at(-5 * 60_000));
  const passes = Array.from({ length: admitted }, (_, i) => i + 1);
  const half = Math.floor(admitted / 2);
  script.admit(passes.slice(0, half), at(-60_000), 1_800);
  script.admit(passes.slice(half), at(-30_000), 1_800);
  const events = script.events.map((event: QueueEvent, i): ProjectedEvent => ({
    ...event, position: i + 1, stream: QUEUE_STREAM,
    metadata: { event_id: '', correlation_id: '', causation_id: '', actor_id: null, schema_version: 1, occurred_at: at(0) },
  }));
  const redis = new Redis(redisUrl);
  try {
    const projection = queueProjection({ board: new RedisQueueBoard(redis), store: { readStream: async () => [] } as unknown as EventStore });
    const batch = await projection.apply(events, { position: events.length } as ApplyContext);
    for (const write of batch.writes) await write(undefined as never);
  } finally {
    redis.disconnect();
  }
}

export async function benchQueueStatus(mysqlServerUrl: string, options: { places: number; rounds: number; seconds: number; cpuProfileDir?: string; log: (line: string) => void }): Promise<QueueStatusFigures> {
  const redis = await startRedis();
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-queue-'));
  const admitted = Math.floor(options.places / 3);
  try {
    return await withDatabase(mysqlServerUrl, async (mysqlUrl) => {
      await fillBoard(redis.url, options.places, admitted);
      const env = {
        HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: mysqlUrl, REDIS_URL: redis.url, LOG_LEVEL: 'warn', RATE_LIMIT: 'off', PAYMENT_GATEWAY: 'sandbox',
        JWT_SECRET: randomBytes(32).toString('hex'), PERSONAL_DATA_KEY: randomBytes(32).toString('base64'), PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
        BOXOFFICE_ADMIN_PASSWORD: 'Bench-Admin-Pass-2026',
      };
      // Migrations and the admin first (every role), then the query role alone, as in production.
      const setupPort = await freePort();
      await stop(await spawnProcess(['app/server.ts'], { ...env, PORT: String(setupPort) }, /boxoffice is running/));
      const port = await freePort();
      const query = await spawnProcess(['app/server.ts'], { ...env, PORT: String(port), BOXOFFICE_ROLE: 'query' }, /boxoffice is running/, options.cpuProfileDir);
      const redisPort = await freePort();
      const redisGet = await spawnProcess(['bench/query-baselines.ts'], { PORT: String(redisPort), BASELINE: 'redis', REDIS_URL: redis.url }, /baseline redis listening/);
      try {
        const paths = Array.from({ length: options.places }, (_, i) => `/api/v1/queue/${placeId(i + 1)}`);
        const statuses = new Map<string, number>();
        for (const path of paths.slice(0, 300)) {
          const answer = await fetch(`http://127.0.0.1:${port}${path}`);
          if (answer.status !== 200) throw new Error(`the status poll answered ${answer.status}`);
          const { status } = (await answer.json()) as { status: string };
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
        if (!statuses.has('waiting') || !statuses.has('admitted')) throw new Error(`expected waiting and admitted places, got ${JSON.stringify([...statuses])}`);
        const ours: autocannon.Result[] = [];
        const baseline: autocannon.Result[] = [];
        for (let round = 1; round <= options.rounds; round++) {
          baseline.push(await measure(`http://127.0.0.1:${redisPort}`, ['/value'], options.seconds));
          ours.push(await measure(`http://127.0.0.1:${port}`, paths, options.seconds));
          options.log(`  round ${round}: redis GET ${Math.round(baseline.at(-1)?.requests.average ?? 0)}, queue status ${Math.round(ours.at(-1)?.requests.average ?? 0)} req/s`);
        }
        return { ours: summary(ours), redisGet: summary(baseline), places: options.places, admitted, seconds: options.seconds };
      } finally {
        await Promise.all([stop(query), stop(redisGet)]);
      }
    });
  } finally {
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
