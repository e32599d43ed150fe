/**
 * The projector the crash tests kill is the one production deploys: the same command as
 * docker-compose.yml's projector service, with the health check the image's HEALTHCHECK asks,
 * the metrics Prometheus scrapes, and rebuilds asked for at a query-api of its own.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../app/app.ts';
import { wireProcess } from '../../app/wiring/process.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { loadConfig } from '../../lib/config.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import { Checkpoints } from '../../read-models/checkpoints.ts';
import { openReadModels } from '../../read-models/database.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';
import { freePort } from '../harness/servers.ts';
import { PROJECTION_NAMES } from '../../read-models/projection-status.ts';
import { appendBookingFlow } from '../support/booking-flow.ts';
import { eventually } from '../support/eventually.ts';
import { PROJECTOR_COMMAND, startProjector, type ServerProcess } from '../support/process.ts';
import { freshMysqlDatabase, serviceUrl, uniqueName } from '../support/services.ts';

const root = join(import.meta.dirname, '..', '..');

t.test('the tests start the projector with the command docker-compose.yml runs', async (t) => {
  const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
  const compose = await readFile(join(root, 'docker-compose.yml'), 'utf8');
  const service = /^ {2}projector:\n((?: {4}.*\n)+)/m.exec(compose)?.[1] ?? '';
  const command = JSON.parse(/^ {4}command: (\[.*\])$/m.exec(service)?.[1] ?? 'null') as string[] | null;
  t.strictSame(entrypoint, ['node', 'bin/boxoffice.js'], 'the image runs the CLI');
  t.strictSame(command, ['serve', '--role', 'projector'], 'docker-compose runs its projector role');
  t.strictSame(['node', ...PROJECTOR_COMMAND], [...(entrypoint ?? []), ...(command ?? [])], 'and so do the tests');
});

t.test('the projector process answers health and metrics, projects, and takes the rebuilds a query-api is asked for', async (t) => {
  const url = await freshMysqlDatabase(t);
  const store = await SqlEventStore.open({ client: 'mysql2', url });
  t.teardown(() => store.close());
  const flow = await appendBookingFlow(store, { users: 20, concerts: 2, classSeats: [30, 20], bookings: 60 });

  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-projector-process-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env = {
    PORT: String(port), HOST: '127.0.0.1', MYSQL_URL: url, REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: uniqueName('proc'),
    NATS_URL: serviceUrl('NATS_URL'), BOXOFFICE_DATA_DIR: dataDir, PAYMENT_GATEWAY: 'sandbox',
  };
  let projector: ServerProcess | undefined = startProjector(env);
  t.teardown(() => projector?.signal('SIGKILL'));
  await projector.listening().catch((error: unknown) => {
    throw new Error(`${String(error)}\n${projector?.output() ?? ''}`);
  });
  const base = `http://127.0.0.1:${port}`;

  const ready = await fetch(`${base}/health/ready`);
  t.equal(ready.status, 200, '/health/ready answers 200');
  t.strictSame(await ready.json(), { status: 'ok', checks: { 'event store': 'ok', 'read models': 'ok', redis: 'ok' } }, 'it checks what the projector needs');

  const db = await openReadModels({ client: 'mysql2', url });
  t.teardown(() => db.destroy());
  const checkpoints = new Checkpoints(db, sqlDialectOf(db));
  await eventually(async () => (await checkpoints.all()).filter((row) => row.position === flow.head).length === PROJECTION_NAMES.length, 'every projection caught up', 60_000);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^boxoffice_projection_lag_events\{projection="bookings"\} 0$/m, '/metrics tells each projection\'s lag');
  t.notMatch(metrics, /boxoffice_concert_queue_depth/, 'and nothing of the command role');
  t.equal((await fetch(`${base}/api/v1/concerts`)).status, 404, 'it serves no API route');

  // A query-api of its own is asked for a rebuild; the projector process runs it.
  const queryConfig = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'warn', BOXOFFICE_ROLE: 'query', MYSQL_URL: url, BOXOFFICE_DATA_DIR: dataDir,
    JWT_SECRET: 'q'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: Buffer.alloc(32, 9).toString('base64'), TICKET_SIGNING_KEYS: Buffer.alloc(32, 5).toString('base64'), RATE_LIMIT: 'off',
  });
  const logger = serverLogger(queryConfig);
  const query = await wireProcess(queryConfig, logger.root);
  t.teardown(() => query.close());
  t.equal(query.command, undefined, 'the query role wires no command side');
  t.equal(query.projector, undefined, 'and no projector');
  const app = await buildApp(query, logger);
  t.teardown(() => app.close());
  const admin = { authorization: `Bearer ${app.issueToken('0a0a0a0a-0000-4000-8000-00000000ad31', 'admin', true).token}` };
  const before = (await checkpoints.get('bookings'))?.rebuiltAt ?? null;
  // Both at once: asked one after the other, the projector process could take the first and
  // rebuild this small history before the second came (then rightly taken too).
  const [asked, again] = (await Promise.all([1, 2].map(() => app.inject({ method: 'POST', url: '/api/v1/admin/projections/bookings/rebuild', headers: admin }))))
    .sort((a, b) => a.statusCode - b.statusCode);
  t.equal(asked?.statusCode, 202, 'the query-api takes the request');
  t.equal(again?.json<{ code: string }>().code, 'REBUILD_IN_PROGRESS', 'a second request while the first waits is refused');
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/admin/projections/nope/rebuild', headers: admin })).statusCode, 404, 'an unknown projection is 404');
  await eventually(async () => {
    const row = await checkpoints.get('bookings');
    return row?.rebuiltAt !== before && row?.status === 'live' && row.position === flow.head;
  }, 'the projector process rebuilt bookings and swapped it in', 60_000);
  const views = (await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: admin })).json<{ name: string; lag: number; status: string }[]>();
  t.strictSame(views.map((view) => [view.name, view.lag, view.status]), [['users', 0, 'live'], ['concerts', 0, 'live'], ['bookings', 0, 'live'], ['payments', 0, 'live'], ['tickets', 0, 'live'], ['legacy-ids', 0, 'live'], ['queue', 0, 'live']], 'the query-api reports it caught up');

  projector.signal('SIGTERM');
  t.equal(await projector.exit, 0, 'SIGTERM stops it cleanly');
  projector = undefined;
});
