/**
 * The `boxoffice` CLI as an operator runs it (bin/boxoffice.js, a process of its own) against
 * the stores a running app writes: MariaDB, Redis and the data dir.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import t from 'tap';
import { testApp } from '../support/app.ts';
import { adminToken, book, buyer, createConcert, type Concert } from '../support/booking.ts';
import { eventually } from '../support/eventually.ts';
import { freshMysqlDatabase, serviceUrl, uniqueName } from '../support/services.ts';
import { bearer, login, newAccount, register } from '../support/users.ts';

const root = join(import.meta.dirname, '..', '..');

function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'boxoffice.js'), ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Every row of every table, as text. */
async function everyRow(db: Knex): Promise<string> {
  const [tables] = (await db.raw('SHOW TABLES')) as [Record<string, string>[]];
  const dumps = await Promise.all(tables.map(async (row) => JSON.stringify(await db(Object.values(row)[0] as string).select())));
  return dumps.join('\n');
}

/** Every key under the prefix and every value it holds, as text. */
async function everyKey(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    for (const key of keys) {
      const type = await redis.type(key);
      const value = type === 'string' ? await redis.get(key)
        : type === 'hash' ? await redis.hgetall(key)
          : type === 'set' ? await redis.smembers(key)
            : type === 'zset' ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
              : type === 'list' ? await redis.lrange(key, 0, -1) : null;
      parts.push(key, JSON.stringify(value));
    }
    cursor = next;
  } while (cursor !== '0');
  return parts.join('\n');
}

async function everyFile(dir: string): Promise<string> {
  const names = await readdir(dir, { recursive: true });
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'latin1').catch(() => '')));
  return texts.join('\n');
}

t.test('export, replay as of an instant, a booking\'s history, and forgetting a user', async (t) => {
  const prefix = uniqueName('cli');
  const made = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix, REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services, dataDir } = made;
  services.command.start();
  services.projector.start();
  const env = { MYSQL_URL: made.services.shared.config.mysqlUrl ?? '', PAYMENT_GATEWAY: 'sandbox', REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix, BOXOFFICE_DATA_DIR: dataDir };
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 20 }]);
  const festival = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;

  const account = await register(app, newAccount('forgetme'));
  const first = { token: await login(app, account), buyer: buyer() };
  const firstBooking = await book(app, first.token, { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: festival, quantity: 2 }], buyer_info: first.buyer });
  t.equal(firstBooking.statusCode, 201);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const between = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const second = await login(app, await register(app));
  const secondBooking = await book(app, second, { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: festival, quantity: 3 }], buyer_info: buyer() });
  t.equal(secondBooking.statusCode, 201);
  const held = (response: typeof firstBooking) => response.json<{ seats: { id: string }[] }>().seats.map((seat) => seat.id);

  const exported = await cli(env, 'events:export');
  t.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { position: number; stream: string; revision: number; type: string; data: unknown; metadata: unknown });
  t.equal(lines.length, (await services.shared.store.readAll({ maxCount: 10_000 })).events.length, 'one line per event in the store');
  t.ok(lines.every((line, i) => i === 0 || line.position > (lines[i - 1]?.position ?? 0)), 'in position order');
  t.same(Object.keys(lines[0] ?? {}).sort(), ['data', 'metadata', 'position', 'revision', 'stream', 'type']);
  const holds = await cli(env, 'events:export', '--type', 'SeatsHeld', '--stream', `concert-${concert.id}`);
  t.equal(holds.stdout.trimEnd().split('\n').length, 2, '--stream and --type narrow it');

  const asOf = await cli(env, 'concert:as-of', concert.id, between, '--json');
  t.equal(asOf.code, 0, asOf.stderr);
  const seatMap = JSON.parse(asOf.stdout) as { concert_id: string; as_of: string; seats: { id: string; status: string }[] };
  const statusOf = (id: string) => seatMap.seats.find((seat) => seat.id === id)?.status;
  t.equal(seatMap.seats.length, 20);
  t.same(held(firstBooking).map(statusOf), ['reserved', 'reserved'], "the first booking's seats were held then");
  t.same(held(secondBooking).map(statusOf), ['available', 'available', 'available'], "the second booking's were not yet");
  const now = JSON.parse((await cli(env, 'concert:as-of', concert.id, new Date().toISOString(), '--json')).stdout) as typeof seatMap;
  t.equal(now.seats.filter((seat) => seat.status === 'reserved').length, 5, 'now both are held');
  t.equal((await cli(env, 'concert:as-of', concert.id, 'yesterday')).code, 2, 'a time that is not ISO-8601: a usage error');

  const bookingId = firstBooking.json<{ id: string }>().id;
  const history = await cli(env, 'booking:history', bookingId);
  t.equal(history.code, 0, history.stderr);
  t.match(history.stdout, /SeatsHeld/);
  t.match(history.stdout, /BookingPlaced/);
  t.match(history.stdout, new RegExp(`by ${account.id}`), 'who did it');

  // Forgetting: nothing of the buyer or the account's address stays readable anywhere.
  const personal = [first.buyer.full_name, first.buyer.phone_number, first.buyer.email, first.buyer.ktp_number, account.email];
  await eventually(async () => (await services.projector.projectors.status()).every((view) => view.lag === 0), 'projected');

  // The sales report, as the admin route answers it: five seats held by the two bookings, none sold.
  const csv = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/report?format=csv`, headers: bearer(admin) });
  t.equal(csv.statusCode, 200);
  const sales = await cli(env, 'report:sales', concert.id, '--csv');
  t.equal(sales.code, 0, sales.stderr);
  t.equal(sales.stdout, csv.body, "report:sales --csv prints the route's CSV");
  t.match((await cli(env, 'report:sales', concert.id)).stdout, /^Festival +500000 +20 +0 +5 +15 +0 +0 +0 +0$/m, 'and a table');
  t.equal((await cli(env, 'report:sales', '7d0b2a4e-0000-4000-8000-000000000000')).code, 1, 'an unknown concert: a failure');
  t.equal((await cli(env, 'report:sales', 'not-a-concert')).code, 2, 'not an id: a usage error');
  const shown = await app.inject({ method: 'GET', url: `/api/v1/bookings/${bookingId}`, headers: bearer(first.token) });
  t.equal(shown.json<{ buyer_info: { full_name: string } }>().buyer_info.full_name, first.buyer.full_name, 'readable before');
  t.match(await everyFile(dataDir), account.email, 'the data dir holds the verification mail before');

  const forgotten = await cli(env, 'user:forget', account.id);
  t.equal(forgotten.code, 0, forgotten.stderr);
  const db = services.projector.readModels;
  const tables = await everyRow(db);
  const keys = await everyKey(services.shared.redis as Redis, prefix);
  const files = await everyFile(dataDir);
  for (const value of personal) {
    t.notOk(tables.includes(value), 'no table holds it in clear');
    t.notOk(keys.includes(value), 'no Redis key holds it');
    t.notOk(files.includes(value), 'no file of the data dir holds it');
  }
  const after = await app.inject({ method: 'GET', url: `/api/v1/bookings/${bookingId}`, headers: bearer(admin) });
  t.equal(after.json<{ buyer_info: unknown }>().buyer_info, null, 'the booking shows no buyer any more');
  t.equal((await db('users').where({ id: account.id }).first<{ email: string | null }>('email'))?.email, null, 'the sealed address is cleared');
  t.equal((await services.shared.store.readStream(`user-${account.id}`)).at(-1)?.type, 'PersonalDataForgotten', 'the history says so, and stays');
  t.equal((await cli(env, 'user:forget', '7d0b2a4e-0000-4000-8000-000000000000')).code, 1, 'an unknown user: a failure');
});

t.test('a reactor parks an event it cannot handle and goes on; reactors:status lists it, /metrics counts it, reactors:retry hands it over again', async (t) => {
  const made = await testApp(t, { PAYMENT_GATEWAY: 'sandbox' });
  const { app, services, dataDir } = made;
  services.command.start();
  const env = { MYSQL_URL: made.services.shared.config.mysqlUrl ?? '', PAYMENT_GATEWAY: 'sandbox', BOXOFFICE_DATA_DIR: dataDir };
  // A gateway answer the payments reactor cannot read (its amount and booking are missing): it
  // fails on it however often it tries.
  const store = services.shared.store;
  const poison = randomUUID();
  const written = await store.append(`payment-${randomUUID()}`, [{
    id: poison,
    type: 'PaymentSucceeded',
    data: { transaction_id: randomUUID() },
    metadata: { event_id: poison, correlation_id: 'poison', causation_id: 'poison', actor_id: null, schema_version: 1, occurred_at: new Date().toISOString() },
  }], 'no_stream');

  type Status = { name: string; position: number; head_position: number; lag: number; parked_count: number; parked: { event_id: string; type: string; reason: string; tries: number }[] }[];
  const statusOf = async (): Promise<Status> => {
    const status = await cli(env, 'reactors:status', '--json');
    t.equal(status.code, 0, status.stderr);
    return JSON.parse(status.stdout) as Status;
  };
  // Five tries, 500 ms doubling between them: parked within seconds, and the reactor past it.
  await eventually(async () => (await services.command.reactors.parked('payments')).length === 1, 'the poisoned event parked', 30_000);
  await eventually(async () => (await services.command.reactors.checkpoint('payments')) >= written.position, 'the payments reactor past it', 10_000);
  const payments = (await statusOf()).find((reactor) => reactor.name === 'payments');
  t.match(payments, { parked_count: 1, parked: [{ event_id: poison, type: 'PaymentSucceeded', tries: 5, reason: /^UndecodableEvent: PaymentSucceeded at payment-/ }] }, 'listed with its reason');
  t.ok((payments?.position ?? 0) >= written.position, 'its checkpoint is past the parked event');
  t.match((await statusOf()).find((reactor) => reactor.name === 'bookings'), { parked_count: 0, parked: [] });
  const table = await cli(env, 'reactors:status');
  t.match(table.stdout, new RegExp(`payments .*\\b1\\n[^]*${poison}[^]*UndecodableEvent`), 'the table too');

  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /boxoffice_reactor_parked_events\{reactor="payments"\} 1\n/, '/metrics counts it');
  t.match(metrics.body, /boxoffice_reactor_parked_events\{reactor="bookings"\} 0\n/);

  const retried = await cli(env, 'reactors:retry', 'payments', '--event', poison);
  t.equal(retried.code, 1, 'still unreadable: the retry fails');
  t.match(retried.stdout, `${poison}  still fails: UndecodableEvent`);
  t.match(await services.command.reactors.parked('payments'), [{ eventId: poison, tries: 6 }], 'and it stays parked, the try counted');
  t.equal((await cli(env, 'reactors:retry', 'payments')).code, 2, 'neither --event nor --all: a usage error');
  t.equal((await cli(env, 'reactors:retry', 'nobody', '--all')).code, 2, 'no such reactor: a usage error');
  t.equal((await cli(env, 'reactors:retry', 'payments', '--event', randomUUID())).code, 1, 'an event that is not parked: a failure');

  // The same over HTTP, for admins only.
  const admin = await adminToken(made);
  const customer = await login(app, await register(app));
  const listed = await app.inject({ method: 'GET', url: '/api/v1/admin/reactors', headers: bearer(admin) });
  t.equal(listed.statusCode, 200);
  t.match(listed.json<Status>().find((reactor) => reactor.name === 'payments'), { parked_count: 1, parked: [{ event_id: poison, tries: 6 }] });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/reactors', headers: bearer(customer) })).statusCode, 403, 'not for customers');
  const retry = (name: string, query: string, token: string) => app.inject({ method: 'POST', url: `/api/v1/admin/reactors/${name}/retry${query}`, headers: bearer(token) });
  t.equal((await retry('payments', '', customer)).statusCode, 403, 'nor is the retry');
  const again = await retry('payments', `?event_id=${poison}`, admin);
  t.equal(again.statusCode, 200);
  t.match(again.json(), { reactor: 'payments', retried: [{ event_id: poison, handled: false, reason: /^UndecodableEvent/ }] });
  t.match(await services.command.reactors.parked('payments'), [{ eventId: poison, tries: 7 }], 'still parked');
  t.match(await retry('nobody', '', admin), { statusCode: 404 });
  t.match((await retry('payments', `?event_id=${randomUUID()}`, admin)).json(), { code: 'NOT_FOUND' }, 'an event that is not parked: 404');
  t.match((await retry('payments', '?event_id=not-a-uuid', admin)).statusCode, 400);
  t.match((await retry('payments', '', admin)).json(), { reactor: 'payments', retried: [{ event_id: poison, handled: false }] }, 'all of them');
});

t.test('on the embedded data dir every command works with no variable at all, PAYMENT_GATEWAY included', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { BOXOFFICE_DATA_DIR: dataDir };

  const seeded = await cli(env, 'seed:demo');
  t.equal(seeded.code, 0, seeded.stderr);
  t.match(seeded.stdout, /^demo concert [0-9a-f-]{36}: VIP 100 seats, Festival 900 seats\n$/);
  t.equal((await cli(env, 'seed:demo')).stdout, seeded.stdout, 'again: the same concert, nothing new');

  const admin = await cli({ ...env, BOXOFFICE_ADMIN_PASSWORD: 'a long admin passphrase' }, 'user:create-admin');
  t.equal(admin.code, 0, admin.stderr);
  t.equal(admin.stdout, 'admin account ready: sign in as "admin"\n');

  const users = await cli(env, 'users:seed', '2', '--prefix', 'embedded', '--password', 'a long user passphrase');
  t.equal(users.code, 0, users.stderr);
  t.match(users.stdout, /^2 users created, 0 existed already/);

  const status = await cli(env, 'reactors:status', '--json');
  t.equal(status.code, 0, status.stderr);
  const reactors = JSON.parse(status.stdout) as { name: string; parked_count: number }[];
  t.same(reactors.map((reactor) => reactor.name).sort(), ['bookings', 'payments', 'refunds']);
  t.ok(reactors.every((reactor) => reactor.parked_count === 0), 'nothing parked');
  // Which gateway the server on this data dir pays through is not written anywhere: a retry that
  // takes or pays money must be told (a sandbox "refund" of a Midtrans payment would pay nothing back).
  const guessed = await cli(env, 'reactors:retry', 'refunds', '--all');
  t.equal(guessed.code, 2, 'refused: the gateway is not guessed');
  t.match(guessed.stderr, /PAYMENT_GATEWAY/);
  const refunds = await cli({ ...env, PAYMENT_GATEWAY: 'sandbox' }, 'reactors:retry', 'refunds', '--all');
  t.equal(refunds.code, 0, refunds.stderr);
  t.equal(refunds.stdout, '0 parked events handled\n', 'named, it pays through that gateway');
});

t.test('on real services with no PAYMENT_GATEWAY: only a command that takes money through the gateway refuses, naming the variable', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { MYSQL_URL: await freshMysqlDatabase(t), BOXOFFICE_DATA_DIR: dataDir };

  const seeded = await cli(env, 'seed:demo');
  t.equal(seeded.code, 0, seeded.stderr);
  t.match(seeded.stdout, /^demo concert /);
  const status = await cli(env, 'reactors:status');
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /^NAME +POSITION/);
  t.equal((await cli(env, 'reactors:retry', 'bookings', '--all')).code, 0, 'the bookings reactor takes no money');
  for (const reactor of ['payments', 'refunds']) {
    const refused = await cli(env, 'reactors:retry', reactor, '--all');
    t.equal(refused.code, 2, `${reactor}: a configuration error`);
    t.match(refused.stderr, /PAYMENT_GATEWAY must be set: the .* reactor takes or pays money through the gateway/, 'naming the variable');
  }
});
