/**
 * What the SQL adapter promises beyond the contract: gap-free positions, several processes on
 * one database (a subscriber finds other processes' appends by polling), reopening a store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { event } from '../contract.ts';
import { SqlEventStore, type SqlEventStoreOptions } from './sql-event-store.ts';

type Database = (t: Test) => Promise<SqlEventStoreOptions>;

const databases: Record<string, Database> = {
  MariaDB: async (t) => ({ client: 'mysql2', url: await freshMysqlDatabase(t) }),
  SQLite: async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'boxoffice-es-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    return { client: 'better-sqlite3', filename: join(dir, 'events.sqlite') };
  },
};

async function open(t: Test, options: SqlEventStoreOptions): Promise<SqlEventStore> {
  const store = await SqlEventStore.open(options);
  t.teardown(() => store.close());
  return store;
}

for (const [name, database] of Object.entries(databases)) {
  t.test(name, async (t) => {
    t.test('positions are gap-free, whatever fails along the way', async (t) => {
      const store = await open(t, await database(t));
      const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) =>
        // Every fourth append expects a revision that cannot hold, and must not use up a position.
        store.append(`concert-${i % 5}`, [event('Tick'), event('Tick')], i % 4 === 3 ? 99 : 'any')));
      const appended = outcomes.filter((o) => o.status === 'fulfilled').length;
      t.equal(appended, 30);
      const positions = (await store.readAll({ maxCount: 1_000 })).events.map((e) => e.position);
      t.strictSame(positions, Array.from({ length: 60 }, (_, i) => i + 1), 'exactly 1..60');
    });

    t.test('a second process sees the first one\'s appends: by reading, and by subscription', async (t) => {
      const options = await database(t);
      const writer = await open(t, options);
      const reader = await open(t, { ...options, pollIntervalMs: 20 });
      const subscription = reader.subscribe();
      t.teardown(() => subscription.close());
      const written = await writer.append('booking-1', [event('BookingPlaced'), event('BookingConfirmed')], 'no_stream');
      t.equal(await reader.headPosition(), written.position);
      const started = Date.now();
      const seen: string[] = [];
      for await (const page of subscription) {
        seen.push(...page.events.map((e) => e.type));
        if (seen.length >= 2) break;
      }
      t.strictSame(seen, ['BookingPlaced', 'BookingConfirmed']);
      t.ok(Date.now() - started < 5_000, 'found by polling, without a wake-up from the writer');
    });

    t.test('a reopened store has its events, and opening runs the migration only once', async (t) => {
      const options = await database(t);
      const first = await SqlEventStore.open(options);
      await first.append('user-1', [event('UserRegistered')], 'no_stream');
      await first.close();
      const again = await open(t, options);
      t.equal((await again.readStream('user-1')).length, 1);
      t.equal((await again.append('user-1', [event('EmailVerified')], 0)).position, 2);
    });
  });
}
