import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import t, { type Test } from 'tap';
import { isCurrentSnapshot } from '../../domain/concert/index.ts';
import { startMariaDb } from '../../test/harness/servers.ts';
import { incompressibleSnapshot } from '../../test/support/sealed.ts';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { eventStoreContract } from '../contract.ts';
import { AppendTooLarge } from '../port.ts';
import { appendOnMysql } from './mysql-append.ts';
import { RevisionMismatch } from './rows.ts';
import { SqlEventStore } from './sql-event-store.ts';

eventStoreContract(t, async (t) => {
  const store = await SqlEventStore.open({ client: 'mysql2', url: await freshMysqlDatabase(t) });
  t.teardown(() => store.close());
  return store;
});

/** A store on a fresh database, a connection of the test's own to it, and the server's max_allowed_packet. */
async function storeAndServer(t: Test, options: { maxStatementBytes?: number } = {}) {
  const url = await freshMysqlDatabase(t);
  const store = await SqlEventStore.open({ client: 'mysql2', url, ...options });
  t.teardown(() => store.close());
  const knex = (await import('knex')).default({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
  t.teardown(() => knex.destroy());
  const [[{ limit }]] = (await knex.raw('SELECT @@max_allowed_packet AS `limit`')) as [[{ limit: number }]];
  return { store, knex, limit };
}

t.test("a snapshot bigger than the server's max_allowed_packet is stored and loads back whole", async (t) => {
  const { store, limit } = await storeAndServer(t);
  // What a long sale leaves: hundreds of thousands of released holds, each a random UUID and a reason.
  const released = Array.from({ length: Math.ceil(limit / 45) + 10_000 }, () => [randomUUID(), 'expired']).flat();
  const data = { version: 2, released };
  t.ok(JSON.stringify(data).length > limit, `the JSON (${JSON.stringify(data).length} bytes) is over max_allowed_packet (${limit})`);
  await store.saveSnapshot('concert-big', { revision: 1_000_000, data });
  const loaded = await store.loadSnapshot('concert-big');
  t.equal(loaded?.revision, 1_000_000);
  t.same(loaded?.data, data);
});

t.test("a snapshot that stays over max_allowed_packet compressed (sealed values are random) is stored in pieces and loads back whole", async (t) => {
  const { store, knex, limit } = await storeAndServer(t);
  // What a big sale's pending holds carry: a sealed holder each, ciphertext that gzip cannot shrink.
  const holds = Array.from({ length: Math.ceil(limit / 120) }, () => [randomUUID(), randomBytes(96).toString('base64')]);
  const data = { version: 5, holds };
  await store.saveSnapshot('concert-sealed', { revision: 60_000, data });
  const [[{ stored }]] = (await knex.raw("SELECT SUM(LENGTH(data)) AS stored FROM es_snapshot_pieces WHERE stream_id = 'concert-sealed'")) as [[{ stored: number }]];
  t.ok(Number(stored) > limit, `stored compressed, it is still over max_allowed_packet (${stored} > ${limit} bytes)`);
  t.same((await store.loadSnapshot('concert-sealed'))?.data, data, 'and loads back whole');
  // A release from before the pieces reads the row as a concert snapshot of a version it does not restore: it folds the stream.
  const [[{ text }]] = (await knex.raw("SELECT data AS text FROM es_snapshots WHERE stream_id = 'concert-sealed'")) as [[{ text: string }]];
  t.equal(isCurrentSnapshot((JSON.parse(text) as { concert: { version?: unknown } }).concert), false, `the row says only how many pieces: ${text}`);

  // The next, smaller one replaces it, pieces and all; an older one replaces nothing.
  await store.saveSnapshot('concert-sealed', { revision: 60_001, data: { version: 5, holds: holds.slice(0, 10) } });
  await store.saveSnapshot('concert-sealed', { revision: 59_000, data: { version: 5, holds: [] } });
  const loaded = await store.loadSnapshot('concert-sealed');
  t.equal(loaded?.revision, 60_001);
  t.same(loaded?.data, { version: 5, holds: holds.slice(0, 10) });
  const [[{ pieces }]] = (await knex.raw("SELECT COUNT(*) AS pieces FROM es_snapshot_pieces WHERE stream_id = 'concert-sealed'")) as [[{ pieces: number }]];
  t.equal(Number(pieces), 0, 'no piece of the big one is left behind');

  // The store's connections are still good after it: the next append goes through.
  await store.append('concert-after', [{ id: randomUUID(), type: 'Tested', data: {}, metadata: {} }], 'no_stream');
  t.equal((await store.readStream('concert-after')).length, 1);
});

t.test('a snapshot read while a newer one replaces its pieces is one whole snapshot, never pieces of two', async (t) => {
  // Statements of 1 MiB at most: the snapshots below (1.5 MB stored) go in pieces.
  const { store, knex } = await storeAndServer(t, { maxStatementBytes: 1024 * 1024 });
  const byRevision = new Map<number, unknown>();
  const big = (revision: number) => {
    const data = incompressibleSnapshot(12_000);
    byRevision.set(revision, data);
    return { revision, data };
  };
  await store.saveSnapshot('concert-busy', big(1));
  let saving = true;
  const saves = (async () => {
    for (let revision = 2; revision <= 8; revision++) await store.saveSnapshot('concert-busy', big(revision));
    saving = false;
  })();
  let loads = 0;
  while (saving) {
    const loaded = await store.loadSnapshot('concert-busy');
    if (loaded === null) continue; // replaced again and again: told no snapshot, never a wrong one
    loads++;
    if (JSON.stringify(loaded.data) !== JSON.stringify(byRevision.get(loaded.revision))) {
      t.fail(`the snapshot read as revision ${loaded.revision} is not the one saved as it`);
      break;
    }
  }
  await saves;
  t.ok(loads > 0, `${loads} reads while it was replaced, each one whole`);
  const [[{ pieces }]] = (await knex.raw("SELECT COUNT(*) AS pieces FROM es_snapshot_pieces WHERE stream_id = 'concert-busy' AND revision = 8")) as [[{ pieces: number }]];
  t.ok(Number(pieces) > 1, `in pieces (${pieces})`);
  t.equal((await store.loadSnapshot('concert-busy'))?.revision, 8);
});

t.test("on a server whose max_allowed_packet is 1 MiB, an append longer than that is written whole, in order, atomically", async (t) => {
  // The server is this spec's own: the shared one's limit is 16 MiB, and a GLOBAL change would reach every spec.
  const server = await startMariaDb({ bufferPool: '64M', logFileSize: '16M', settings: ['max_allowed_packet=1M'] });
  t.teardown(() => server.stop());
  const admin = (await import('knex')).default({ client: 'mysql2', connection: server.url, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE es CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await admin.destroy();
  const store = await SqlEventStore.open({ client: 'mysql2', url: `${server.url}/es` });
  t.teardown(() => store.close());
  // What a batch of 500 holds of five tickets each carries: sealed holders, random text gzip cannot shrink.
  const held = (count: number, bytes: number) => Array.from({ length: count }, (_, i) => ({
    id: randomUUID(), type: 'SeatsHeld', data: { n: i, holders: randomBytes(bytes).toString('base64') }, metadata: { correlation_id: randomUUID() },
  }));

  const big = held(500, 3_300);
  const bytes = big.reduce((sum, event) => sum + JSON.stringify(event.data).length, 0);
  t.ok(bytes > 2 * 1024 * 1024, `the append carries ${bytes} bytes of events, twice the server's limit`);
  const result = await store.append('concert-rush', big, 'no_stream');
  const stored = await store.readStream('concert-rush');
  t.equal(stored.length, 500, 'every event is stored');
  t.same(stored.map((event) => event.id), big.map((event) => event.id), 'in the order appended');
  t.same(stored.map((event) => event.revision), big.map((_, i) => i), 'at revisions 0 to 499');
  t.same(stored.map((event) => event.position), big.map((_, i) => result.position - 499 + i), 'at consecutive positions ending at the one answered');
  t.same(stored[499]?.data, big[499]?.data, 'byte for byte');

  // A batch with its booking streams, in one transaction, and two such appends at once: each one's positions stay together.
  const rushes = await Promise.all([1, 2].map((n) => store.appendAll([
    { stream: 'concert-rush', events: held(300, 3_000), expected: 'any' },
    ...Array.from({ length: 100 }, () => ({ stream: `booking-${randomUUID()}`, events: held(1, 3_000), expected: 'no_stream' as const })),
  ]).then((results) => ({ n, results }))));
  for (const { results } of rushes) {
    const [batch, ...bookings] = results;
    t.equal(bookings.length, 100);
    const positions = [batch!.position, ...bookings.map((booking) => booking.position)];
    t.equal(Math.max(...positions) - (batch!.position - 299), 400 - 1, 'the 400 events of one appendAll hold 400 consecutive positions');
  }
  t.equal((await store.readStream('concert-rush')).length, 1_100, 'both batches are in the stream');
  const all = await store.readAll({ maxCount: 10_000 });
  t.same(all.events.map((event) => event.position), all.events.map((_, i) => i + 1), 'the store has no gap and no position twice');

  // A request after the first fails (its last event's id is one the store has): the whole append is rolled back.
  const before = await store.headPosition();
  const clash = held(500, 3_300);
  const taken = all.events[0]?.id as (typeof clash)[number]["id"];
  clash[499] = { ...(clash[499] as (typeof clash)[number]), id: taken };
  await t.rejects(store.append('concert-clash', clash, 'no_stream'), 'an event id the store has fails the append');
  t.equal(await store.headPosition(), before, 'no position was taken');
  t.same(await store.readStream('concert-clash'), [], 'none of its events is stored, the first requests\' included');
  t.equal((await store.append('concert-clash', held(1, 100), 'no_stream')).position, before + 1, 'and the next append takes the next position');

  // An event that does not fit in any statement: refused, nothing written, and the next append goes on.
  const head = await store.headPosition();
  const huge = held(3, 100)
    .concat([{ id: randomUUID(), type: 'SeatsHeld', data: { n: 3, holders: randomBytes(900_000).toString('base64') }, metadata: { correlation_id: randomUUID() } }]);
  await t.rejects(store.append('concert-huge', huge, 'no_stream'), AppendTooLarge, 'refused as too large for the store');
  t.equal(await store.headPosition(), head, 'no position was taken');
  t.same(await store.readStream('concert-huge'), [], 'no event of it is stored');
  const after = await store.append('concert-huge', held(2, 100), 'no_stream');
  t.equal(after.position, head + 2, 'the next append takes the next positions');
});

t.test("a stream not at its expected revision fails the one-request append before the head, whatever the session's sql_mode", async (t) => {
  const url = await freshMysqlDatabase(t);
  const store = await SqlEventStore.open({ client: 'mysql2', url });
  t.teardown(() => store.close());
  const thing = (n: number) => ({ id: randomUUID(), type: 'Thing', data: { n }, metadata: { correlation_id: randomUUID() } });
  // A session that lost the pinned sql_mode (a pool of its own, a proxy), where errors of strict mode are warnings: the check must not lean on them.
  const lax = (await import('knex')).default({
    client: 'mysql2',
    connection: { uri: url, multipleStatements: true },
    pool: { min: 0, max: 1, afterCreate: (connection: { query(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void) => connection.query("SET SESSION sql_mode = ''", (error) => done(error, connection)) },
  } as Knex.Config);
  t.teardown(() => lax.destroy());
  // An append through that session first: its LAST_INSERT_ID() is a position now, as on any busy connection.
  await appendOnMysql(lax, [{ stream: 'concert-lax', events: [thing(0), thing(1)], expected: 'no_stream' }], 16 * 1024 * 1024);
  const head = await store.headPosition();
  t.equal(head, 2);
  for (const stale of [0, 5]) {
    const refused = await appendOnMysql(lax, [
      { stream: 'concert-lax', events: [thing(2)], expected: stale },
      { stream: `booking-${randomUUID()}`, events: [thing(0)], expected: 'no_stream' },
    ], 16 * 1024 * 1024).then(() => null, (error: unknown) => error);
    t.type(refused, RevisionMismatch, `expected at ${stale}, the stream at 1: refused as not at its revision`);
    t.equal(await store.headPosition(), head, 'the head did not move');
    t.equal((await store.readAll({ maxCount: 100 })).events.length, 2, 'no event was written');
  }
  const [[{ position }]] = (await lax.raw('SELECT position FROM es_head WHERE id = 1')) as [[{ position: number }]];
  t.equal(Number(position), head, 'es_head holds the last position');
  t.equal((await store.append('concert-lax', [thing(2)], 1)).position, head + 1, 'the next append at the right revision takes the next position');
});
