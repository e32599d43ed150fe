/**
 * Blue/green rebuild of one projection. Its tables are copied empty as shadows, the shadows are
 * filled from position 0 (with the next generation's cache keys) while the live tables keep
 * serving and following, then the two are swapped:
 *
 *   1. the live checkpoint goes to 'swapping' under its row lock: the live runner's batch in
 *      flight commits first, and no other batch starts (runners pause on 'swapping');
 *   2. the shadows catch up to the head one last time, and the position they reached is written
 *      on the live row (swap_position) before anything is renamed;
 *   3. RENAME TABLE live → old, shadow → live, all tables in one statement (MySQL) or one
 *      transaction (SQLite): readers see the old set or the new set, never a mix;
 *   4. the live row takes the shadow's position and generation, and goes back to 'live'.
 *
 * A crash between 3 and 4 is finished at the next start (recoverSwap): no shadow table left
 * means the rename happened, and swap_position says where the new tables stand.
 */
import type { Knex } from 'knex';
import type { EventStore } from '../eventstore/port.ts';
import { dialectOf, type SqlDialect } from '../src/read-models/database.ts';
import type { ProjectionPositions } from '../src/read-models/positions.ts';
import type { RebuildProgress } from '../src/read-models/projection-status.ts';
import { shadowCheckpoint, type Checkpoints } from './checkpoints.ts';
import type { Projection } from './projection.ts';
import { ProjectionRunner } from './runner.ts';

export interface RebuildOptions {
  readonly db: Knex;
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly projection: Projection;
  readonly positions?: ProjectionPositions;
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Called once the projection is marked rebuilding (a second rebuild would now be refused). */
  readonly onStarted?: () => void;
  readonly onError: (error: unknown, projection: string) => void;
  readonly now?: () => Date;
}

export class RebuildInProgress extends Error {
  override readonly name = 'RebuildInProgress';
}

export const shadowTable = (table: string): string => `${table}__shadow`;
const oldTable = (table: string): string => `${table}__old`;

export async function rebuild(options: RebuildOptions): Promise<RebuildProgress> {
  const { db, store, checkpoints, projection } = options;
  const now = options.now ?? (() => new Date());
  const name = projection.name;
  const dialect = dialectOf(db);
  const startedAt = now();
  const started = await db('projection_checkpoints').where({ name }).whereIn('status', ['live', 'failed']).update({ status: 'rebuilding' });
  if (started !== 1) throw new RebuildInProgress(`projection ${name} is already rebuilding`);
  options.onStarted?.();
  const live = await checkpoints.get(name);
  if (live === undefined) throw new Error(`projection ${name} has no checkpoint row`);
  const generation = live.generation + 1;

  let progress: RebuildProgress = {
    projection: name, phase: 'copying', done: 0, total: await store.headPosition(), eventsPerSecond: 0, etaSeconds: null, startedAt: startedAt.toISOString(),
  };
  const report = (update: Partial<RebuildProgress>): void => {
    progress = { ...progress, ...update };
    const seconds = (now().getTime() - startedAt.getTime()) / 1000;
    const eventsPerSecond = seconds > 0 ? Math.round(progress.done / seconds) : 0;
    const remaining = Math.max(0, progress.total - progress.done);
    progress = { ...progress, eventsPerSecond, etaSeconds: eventsPerSecond > 0 ? Math.ceil(remaining / eventsPerSecond) : null };
    options.onProgress?.(progress);
  };

  const shadowName = shadowCheckpoint(name);
  let renamed = false;
  try {
    for (const table of projection.tables) await copyTableShape(db, dialect, table, shadowTable(table), generation);
    await checkpoints.remove(shadowName);
    await checkpoints.ensure(shadowName, { position: 0, generation });
    const shadow = new ProjectionRunner({
      db, store, checkpoints, projection, checkpoint: shadowName, table: shadowTable, onError: options.onError,
    });
    const batchSize = options.batchSize ?? 5_000;
    const catchUp = async (): Promise<number> => {
      let after = (await checkpoints.get(shadowName))?.position ?? 0;
      let next = store.readAll({ after, maxCount: batchSize, filter: { eventTypes: projection.eventTypes } });
      for (;;) {
        const page = await next;
        if (page.position <= after) return after;
        const full = page.events.length === batchSize;
        // Read the next page while this one is written.
        if (full) next = store.readAll({ after: page.position, maxCount: batchSize, filter: { eventTypes: projection.eventTypes } });
        const outcome = await shadow.applyPage(after, page);
        if (outcome !== 'applied') throw new Error(`rebuild of ${name}: its shadow checkpoint moved (${outcome})`);
        after = page.position;
        report({ done: after, total: Math.max(progress.total, after) });
        if (!full) return after;
      }
    };

    await catchUp();
    report({ phase: 'swapping', total: await store.headPosition() });
    await db.transaction(async (trx) => {
      await checkpoints.lock(trx, name);
      await trx('projection_checkpoints').where({ name }).update({ status: 'swapping' });
    });
    const position = await catchUp();
    await checkpoints.update(name, { swap_position: position });
    await renameTables(db, dialect, projection.tables.flatMap((table) => [[table, oldTable(table)], [shadowTable(table), table]] as [string, string][]));
    renamed = true;
    await finishSwap(db, checkpoints, projection, position, generation, now().toISOString());
    for (const table of projection.tables) await db.schema.dropTableIfExists(oldTable(table));
    await projection.activated?.(generation);
    options.positions?.publish(name, position);
    report({ phase: 'done', done: position, total: position });
    return progress;
  } catch (error) {
    if (!renamed) {
      await checkpoints.update(name, { status: 'live', swap_position: null }).catch(() => undefined);
      await checkpoints.remove(shadowName).catch(() => undefined);
      for (const table of projection.tables) await db.schema.dropTableIfExists(shadowTable(table)).catch(() => undefined);
    }
    report({ phase: 'failed', error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

async function finishSwap(db: Knex, checkpoints: Checkpoints, projection: Projection, position: number, generation: number, at: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('projection_checkpoints').where({ name: projection.name })
      .update({ position, generation, status: 'live', rebuilt_at: at, swap_position: null, last_error: null });
    await checkpoints.remove(shadowCheckpoint(projection.name), trx);
  });
}

/**
 * Finishes or abandons a swap a crash interrupted, and abandons a rebuild that was copying.
 * Runs before the projection's runner starts.
 */
export async function recoverSwap(db: Knex, checkpoints: Checkpoints, projection: Projection, now: () => Date = () => new Date()): Promise<'finished' | 'abandoned' | 'none'> {
  const live = await checkpoints.get(projection.name);
  if (live === undefined || live.status === 'live' || live.status === 'failed') return 'none';
  const shadowsLeft = await Promise.all(projection.tables.map((table) => db.schema.hasTable(shadowTable(table))));
  if (live.status === 'swapping' && live.swapPosition !== null && !shadowsLeft.some(Boolean)) {
    const shadow = await checkpoints.get(shadowCheckpoint(projection.name));
    const generation = shadow?.generation ?? live.generation + 1;
    await finishSwap(db, checkpoints, projection, live.swapPosition, generation, now().toISOString());
    for (const table of projection.tables) await db.schema.dropTableIfExists(oldTable(table));
    await projection.activated?.(generation);
    return 'finished';
  }
  await checkpoints.update(projection.name, { status: 'live', swap_position: null });
  await checkpoints.remove(shadowCheckpoint(projection.name));
  for (const table of projection.tables) await db.schema.dropTableIfExists(shadowTable(table));
  return 'abandoned';
}

/** An empty copy of a table with its columns and indexes. */
async function copyTableShape(db: Knex, dialect: SqlDialect, table: string, copy: string, generation: number): Promise<void> {
  await db.schema.dropTableIfExists(copy);
  if (dialect === 'mysql') {
    await db.raw('CREATE TABLE ?? LIKE ??', [copy, table]);
    return;
  }
  // SQLite has no CREATE TABLE … LIKE: replay the table's own DDL under the new name. Index names
  // are global in SQLite, so the copy's carry the generation that will own them.
  const entries = await db.raw<{ type: string; name: string; sql: string }[]>(
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'table' DESC", [table]);
  const quotedTable = String.raw`[\`"\[]?${table}[\`"\]]?`;
  for (const entry of entries) {
    const sql = entry.type === 'table'
      ? entry.sql.replace(new RegExp(String.raw`^CREATE TABLE\s+${quotedTable}`, 'i'), `CREATE TABLE "${copy}"`)
      : entry.sql.replace(
          new RegExp(String.raw`^CREATE (UNIQUE )?INDEX\s+[\`"\[]?(\w+?)(?:__g\d+)?[\`"\]]?\s+ON\s+${quotedTable}`, 'i'),
          (_match, unique: string | undefined, index: string) => `CREATE ${unique ?? ''}INDEX "${index}__g${generation}" ON "${copy}"`,
        );
    if (sql === entry.sql) throw new Error(`cannot copy ${entry.type} ${entry.name} of ${table}: unexpected DDL`);
    await db.raw(sql);
  }
}

async function renameTables(db: Knex, dialect: SqlDialect, renames: readonly [string, string][]): Promise<void> {
  if (dialect === 'mysql') {
    await db.raw(`RENAME TABLE ${renames.map(() => '?? TO ??').join(', ')}`, renames.flat());
    return;
  }
  await db.transaction(async (trx) => {
    for (const [from, to] of renames) await trx.raw('ALTER TABLE ?? RENAME TO ??', [from, to]);
  });
}
