/**
 * The flash sale of test/load (`npm run test:chaos` at full size, `npm test` smaller) while the
 * harness kills and restarts a command-api instance, the projector, Redis and NATS, and pauses
 * MariaDB — on servers of its own.
 * Two command-api instances (a client that gets no answer sends again, same Idempotency-Key, to
 * the other), a query-api and a projector. Same auditor, same zero tolerance; requests that
 * failed (no answer, 5xx, 503) are counted and must all fall while a fault was on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import t from 'tap';
import { freePort, startMariaDb, startNats, startRedis, type ManagedServer } from '../harness/servers.ts';
import { runSale, saleEnv, type SaleSize } from '../load/flash-sale.ts';
import { startProjector, startServer, type ServerProcess } from '../support/process.ts';

const full = process.env.CHAOS_SIZE === 'full';
const size: SaleSize = full ? { users: 2_000, seats: 1_000, concurrency: 60 } : { users: 600, seats: 300, concurrency: 30 };
const HOLD_TTL_SECONDS = 12;
/** A failure this long after a fault ended still counts as the fault's (reconnects, retries in flight). */
const GRACE_MS = 10_000;

interface Fault { readonly name: string; readonly start: number; end: number }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test(`chaos: ${size.users} users, ${size.seats} seats, while processes and servers die`, async (t) => {
  const [mariadb, redis, nats] = await Promise.all([startMariaDb(), startRedis(), startNats()]);
  t.teardown(async () => {
    mariadb.resume();
    await Promise.all([mariadb.stop(), redis.stop(), nats.stop()]);
  });
  const admin = knex({ client: 'mysql2', connection: mariadb.url, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE chaos CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await admin.destroy();
  const mysqlUrl = `${mariadb.url}/chaos`;
  const { env, jwtSecret, webhookSecret, adminPassword } = saleEnv(HOLD_TTL_SECONDS);
  const shared = { ...env, HOST: '127.0.0.1', MYSQL_URL: mysqlUrl, REDIS_URL: redis.url, NATS_URL: nats.url };
  const processes: ServerProcess[] = [];
  t.teardown(() => {
    for (const process of processes) process.signal('SIGKILL');
  });
  const role = async (name: string, extra: Record<string, string>, start: (env: Record<string, string>) => ServerProcess) => {
    const dataDir = await mkdtemp(join(tmpdir(), `boxoffice-chaos-${name}-`));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const roleEnv = { ...shared, ...extra, BOXOFFICE_DATA_DIR: dataDir };
    const launch = async (): Promise<ServerProcess> => {
      const process = start(roleEnv);
      processes.push(process);
      await process.listening();
      return process;
    };
    return { env: roleEnv, launch, current: await launch() };
  };
  const [portA, portB, portQ, portP] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const commandA = await role('a', { PORT: String(portA), BOXOFFICE_ROLE: 'command' }, startServer);
  await role('b', { PORT: String(portB), BOXOFFICE_ROLE: 'command' }, startServer);
  await role('q', { PORT: String(portQ), BOXOFFICE_ROLE: 'query' }, startServer);
  const projector = await role('p', { PORT: String(portP) }, (env) => startProjector({ ...env, PORT: String(portP) }));

  const faults: Fault[] = [];
  const fault = async (name: string, inject: () => Promise<void> | void, heal: () => Promise<unknown> | void, downMs: number) => {
    const entry: Fault = { name, start: Date.now(), end: Number.POSITIVE_INFINITY };
    faults.push(entry);
    await inject();
    await sleep(downMs);
    await heal();
    entry.end = Date.now();
  };
  const kill = (server: ManagedServer) => () => server.kill();
  const chaos = (async () => {
    await sleep(1_500);
    await fault('command-api A SIGKILLed', () => commandA.current.signal('SIGKILL'), async () => {
      commandA.current = await commandA.launch();
    }, 2_000);
    await sleep(1_000);
    await fault('projector SIGKILLed', () => projector.current.signal('SIGKILL'), async () => {
      projector.current = await projector.launch();
    }, 2_000);
    await sleep(1_000);
    await fault('Redis SIGKILLed', kill(redis), () => redis.restart(), 2_000);
    await sleep(1_000);
    await fault('NATS SIGKILLed', kill(nats), () => nats.restart(), 2_000);
    await sleep(1_000);
    await fault('MariaDB paused', () => mariadb.pause(), () => mariadb.resume(), 3_000);
  })();

  const sale = runSale(t, {
    commands: [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`],
    reads: `http://127.0.0.1:${portQ}`,
    resilient: true,
    mysqlUrl, jwtSecret, webhookSecret, adminPassword, holdTtlSeconds: HOLD_TTL_SECONDS,
  }, size);
  const [result] = await Promise.all([sale, chaos]);

  t.equal(faults.length, 5, 'every fault was injected and healed');
  t.comment(`faults: ${faults.map((f) => `${f.name} at +${((f.start - (faults[0]?.start ?? 0)) / 1000).toFixed(1)} s for ${((f.end - f.start) / 1000).toFixed(1)} s`).join('; ')}`);
  const outside = result.failures.filter((failure) => !faults.some((f) => failure.at >= f.start - 100 && failure.at <= f.end + GRACE_MS));
  t.comment(`requests that failed while a fault was on (no answer, 5xx or 503), each sent again: ${result.failures.length}`);
  const kinds = new Map<string, number>();
  for (const failure of result.failures) kinds.set(failure.what.replace(/\/[0-9a-f-]{36}/g, '/:id').replace(/: .*$/, ''), (kinds.get(failure.what.replace(/\/[0-9a-f-]{36}/g, '/:id').replace(/: .*$/, '')) ?? 0) + 1);
  t.comment(`  by request: ${[...kinds].map(([what, count]) => `${what} ${count}`).join(', ')}`);
  t.same(outside.map((failure) => failure.what), [], 'no request failed outside a fault');
  t.ok(result.failures.length > 0, 'the faults were felt (some requests failed and were sent again)');
});
