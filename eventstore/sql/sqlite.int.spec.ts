import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import knex from 'knex';
import t, { type Test } from 'tap';
import { incompressibleSnapshot } from '../../test/support/sealed.ts';
import { eventStoreContract } from '../contract.ts';
import { SqlEventStore } from './sql-event-store.ts';

async function openStore(t: Test, maxStatementBytes?: number): Promise<{ store: SqlEventStore; filename: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-es-'));
  const filename = join(dir, 'events.sqlite');
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename, ...(maxStatementBytes === undefined ? {} : { maxStatementBytes }) });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, filename };
}

eventStoreContract(t, async (t) => (await openStore(t)).store);

t.test('a snapshot stored in pieces (where statements are limited) loads back whole here too', async (t) => {
  // SQLite takes statements of any length; told 1 MiB, the store splits what is longer.
  const { store, filename } = await openStore(t, 1024 * 1024);
  const pieces = async (): Promise<number> => {
    const db = knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true });
    try {
      const [row] = await db('es_snapshot_pieces').where({ stream_id: 'concert-sealed' }).count<{ n: number }[]>({ n: '*' });
      return Number(row?.n);
    } finally {
      await db.destroy();
    }
  };
  const data = incompressibleSnapshot(12_000);
  await store.saveSnapshot('concert-sealed', { revision: 7, data });
  t.ok(await pieces() > 1, 'stored in pieces');
  t.same(await store.loadSnapshot('concert-sealed'), { revision: 7, data });
  await store.saveSnapshot('concert-sealed', { revision: 8, data: { version: 5, holds: [] } });
  t.same(await store.loadSnapshot('concert-sealed'), { revision: 8, data: { version: 5, holds: [] } });
  t.equal(await pieces(), 0, 'the small one that replaced it left none');
});

t.test('a statement limit too short for the store is refused when it opens', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-es-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite'), maxStatementBytes: 64 * 1024 }), /too short for the event store/);
  await t.rejects(SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite'), maxStatementBytes: Number.NaN }), /too short for the event store/);
});

t.test('while appends elsewhere are heard, a subscription polls once a second; while not, every 50 ms', async (t) => {
  const { store: writer, filename } = await openStore(t);
  let heard = true;
  const follower = await SqlEventStore.open({ client: 'better-sqlite3', filename, appendsHeard: () => heard });
  t.teardown(() => follower.close());
  const subscription = follower.subscribe({ after: 0 });
  t.teardown(() => subscription.close());
  const pages = subscription[Symbol.asyncIterator]();
  /** One event appended by the other store, announced to no one. */
  const appendElsewhere = (stream: string) => writer.append(stream, [{ id: randomUUID(), type: 'Something', data: {}, metadata: {} }], 'no_stream');
  // A first event read: the next next() starts the subscription's rest at once, no timing involved.
  const { position: opening } = await appendElsewhere('quiet-0');
  const read = await pages.next();
  t.equal(read.done === true ? undefined : read.value.position, opening);

  // Heard: an append nobody announced waits for the safety net's poll, up to a second.
  const next = pages.next();
  const first = await appendElsewhere('quiet-1');
  t.equal(await Promise.race([next, setTimeout(300, 'not yet' as const)]), 'not yet', 'not read within 300 ms');
  const late = await Promise.race([next, setTimeout(2_000, 'not yet' as const)]);
  t.not(late, 'not yet', 'read at the next poll, within the second');
  t.equal(late !== 'not yet' && late.done !== true ? late.value.position : undefined, first.position);

  // Not heard (NATS away): its next rest is 50 ms again.
  heard = false;
  const second = await appendElsewhere('quiet-2');
  const started = performance.now();
  const quick = await Promise.race([pages.next(), setTimeout(1_000, 'not yet' as const)]);
  const took = performance.now() - started;
  t.ok(quick !== 'not yet' && took < 700, `read after ${took.toFixed(0)} ms`);
  t.equal(quick !== 'not yet' && quick.done !== true ? quick.value.position : undefined, second.position, 'quiet-2: read at its position');
});
