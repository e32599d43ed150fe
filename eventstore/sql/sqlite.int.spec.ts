import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
