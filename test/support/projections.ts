/**
 * A projector rig for specs: an event store and read models on a fresh MariaDB database (or
 * SQLite files), Redis with key names of the spec's own, and the projectors over them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Test } from 'tap';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { Projectors } from '../../projectors/projectors.ts';
import type { DatabaseOptions } from '../../lib/db/database.ts';
import { openReadModels } from '../../read-models/database.ts';
import { InProcessPositions, type ProjectionPositions } from '../../read-models/positions.ts';
import { eventually } from './eventually.ts';
import { freshMysqlDatabase, serviceUrl, uniqueName } from './services.ts';

export interface Rig {
  readonly store: SqlEventStore;
  readonly db: Knex;
  readonly redis: Redis;
  readonly positions: ProjectionPositions;
  readonly projectors: Projectors;
  readonly cachePrefix: string;
  readonly errors: unknown[];
  readonly databaseUrl: string | undefined;
}

export async function databaseFor(t: Test, kind: 'mysql' | 'sqlite'): Promise<{ options: DatabaseOptions; url: string | undefined }> {
  if (kind === 'mysql') {
    const url = await freshMysqlDatabase(t);
    return { options: { client: 'mysql2', url }, url };
  }
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-projections-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { options: { client: 'better-sqlite3', filename: join(dir, 'read-models.sqlite') }, url: undefined };
}

export async function projectionRig(t: Test, options: { kind?: 'mysql' | 'sqlite'; batchSize?: number; rebuildBatchSize?: number; positions?: ProjectionPositions; pollIntervalMs?: number } = {}): Promise<Rig> {
  const { options: database, url } = await databaseFor(t, options.kind ?? 'mysql');
  const pollIntervalMs = options.pollIntervalMs ?? 20;
  const store = await SqlEventStore.open(database.client === 'mysql2'
    ? { client: 'mysql2', url: database.url, pollIntervalMs }
    : { client: 'better-sqlite3', filename: database.filename.replace('read-models', 'events'), pollIntervalMs });
  t.teardown(() => store.close());
  const db = await openReadModels(database);
  t.teardown(() => db.destroy());
  const redis = new Redis(serviceUrl('REDIS_URL'), { maxRetriesPerRequest: 1 });
  t.teardown(() => redis.disconnect());
  const positions = options.positions ?? new InProcessPositions();
  const errors: unknown[] = [];
  const cachePrefix = uniqueName('seats');
  const projectors = await Projectors.open({
    db, store, positions, redis, cachePrefix,
    batchSize: options.batchSize, rebuildBatchSize: options.rebuildBatchSize,
    onError: (error) => errors.push(error),
  });
  t.teardown(() => projectors.stop());
  return { store, db, redis, positions, projectors, cachePrefix, errors, databaseUrl: url };
}

/** Waits until every projection has reached the store's head. */
export async function caughtUp(projectors: Projectors, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => (await projectors.status()).every((view) => view.lag === 0 && view.status === 'live'), 'projections caught up', timeoutMs);
}

const PRIMARY_KEYS: Readonly<Record<string, readonly string[]>> = {
  users: ['id'], concerts: ['id'], ticket_classes: ['id'], seats: ['id'], bookings: ['id'],
  booking_seats: ['booking_id', 'seat_id'], buyers: ['booking_id'], ticket_holders: ['booking_id', 'seq'], payments: ['id'],
  tickets: ['id'], ticket_holds: ['booking_id'], ticket_admissions: ['concert_id', 'ticket_class_id', 'gate'],
  legacy_ids: ['kind', 'id'], legacy_seat_ranges: ['ticket_class_id'], legacy_id_high: ['kind'], legacy_id_refusals: ['position', 'kind', 'legacy_id', 'id'],
};
export const READ_TABLES = Object.keys(PRIMARY_KEYS);

/** Row count and a sha256 of every row, in primary-key order, values normalized across drivers. */
export async function tableChecksums(db: Knex, tables: readonly string[] = READ_TABLES): Promise<Record<string, { rows: number; sha256: string }>> {
  const result: Record<string, { rows: number; sha256: string }> = {};
  for (const table of tables) {
    const hash = createHash('sha256');
    let rows = 0;
    const key = PRIMARY_KEYS[table] ?? ['id'];
    const stream = db(table).orderBy(key.map((column) => ({ column }))).select().stream();
    for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
      const normalized = Object.keys(row).sort().map((column) => {
        const value = row[column];
        return [column, typeof value === 'bigint' || typeof value === 'boolean' ? Number(value) : value];
      });
      hash.update(JSON.stringify(normalized));
      hash.update('\n');
      rows++;
    }
    result[table] = { rows, sha256: hash.digest('hex') };
  }
  return result;
}
