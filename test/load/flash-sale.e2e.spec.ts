/**
 * The flash sale of test/load/flash-sale.ts against `npm start`'s server on MariaDB, Redis and
 * NATS. `npm test` runs it small; `npm run test:load` at full size (2,000 users, 1,000 seats).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../support/process.ts';
import { freshMysqlDatabase, serviceUrl, uniqueName } from '../support/services.ts';
import { runSale, saleEnv, type SaleSize } from './flash-sale.ts';

const full = process.env.LOAD_SIZE === 'full';
const size: SaleSize = full ? { users: 2_000, seats: 1_000, concurrency: 100 } : { users: 300, seats: 150, concurrency: 50 };
const HOLD_TTL_SECONDS = 8;

t.test(`flash sale: ${size.users} users, ${size.seats} seats, then the auditor`, async (t) => {
  const mysqlUrl = await freshMysqlDatabase(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-load-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const { env, jwtSecret, webhookSecret, adminPassword } = saleEnv(HOLD_TTL_SECONDS);
  const server = startServer({
    ...env, PORT: '0', HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: mysqlUrl,
    REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: uniqueName('load'), NATS_URL: serviceUrl('NATS_URL'),
  });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.listening();
  await runSale(t, { commands: [server.url()], reads: server.url(), mysqlUrl, jwtSecret, webhookSecret, adminPassword, holdTtlSeconds: HOLD_TTL_SECONDS }, size);
  t.notMatch(server.output(), /"level":50/, 'the server logged no error');
});
