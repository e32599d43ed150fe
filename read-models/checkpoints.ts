/**
 * projection_checkpoints: one row per projection (and per rebuild in progress, named
 * `<name>#shadow`). A batch locks its row, checks the position it started from and moves it, all
 * in the batch's own transaction: two runners never both apply a batch (compare-and-set).
 * This module is the only code that reads or writes the table (a spec checks it).
 */
import type { Knex } from 'knex';
import type { SqlDialect } from '../lib/db/dialect.ts';
import type { AsRead, ProjectionCheckpointRow, ProjectionStatus } from './tables.ts';

export type { ProjectionStatus } from './tables.ts';

/** A checkpoint row with its numbers read as numbers. */
export interface Checkpoint {
  readonly name: string;
  readonly position: number;
  readonly status: ProjectionStatus;
  readonly generation: number;
  readonly rebuiltAt: string | null;
  readonly swapPosition: number | null;
  /** When a rebuild of it last showed it is alive (epoch ms), or null. */
  readonly heartbeatAt: number | null;
  readonly lastError: string | null;
}

type Row = AsRead<ProjectionCheckpointRow>;

const TABLE = 'projection_checkpoints';

export function shadowCheckpoint(name: string): string {
  return `${name}#shadow`;
}

function toCheckpoint(row: Row): Checkpoint {
  return {
    name: row.name,
    position: Number(row.position),
    status: row.status,
    generation: Number(row.generation),
    rebuiltAt: row.rebuilt_at,
    swapPosition: row.swap_position === null ? null : Number(row.swap_position),
    heartbeatAt: row.heartbeat_at === null ? null : Number(row.heartbeat_at),
    lastError: row.last_error,
  };
}

/** Where every projection stands, by name. */
export async function readCheckpointPositions(db: Knex): Promise<Map<string, number>> {
  const rows = await db(TABLE).select<Pick<Row, 'name' | 'position'>[]>('name', 'position');
  return new Map(rows.map((row) => [row.name, Number(row.position)]));
}

/**
 * A subquery for a projection's position, to select in the same statement as its tables (the
 * answer and the position then come from one snapshot).
 */
export function checkpointPositionQuery(db: Knex, name: string): Knex.QueryBuilder {
  return db(TABLE).where({ name }).select('position');
}

/** Several projections' positions, to read in the same transaction as their tables. */
export function checkpointPositionsQuery(db: Knex, names: readonly string[]): Knex.QueryBuilder {
  return db(TABLE).whereIn('name', [...names]).select('name', 'position');
}

export class Checkpoints {
  constructor(private readonly db: Knex, private readonly dialect: SqlDialect) {}

  /** Creates the row if it is missing; an existing row is left as it is. */
  async ensure(name: string, initial: { position?: number; generation?: number } = {}): Promise<void> {
    await this.db(TABLE)
      .insert({ name, position: initial.position ?? 0, generation: initial.generation ?? 1, status: 'live' })
      .onConflict('name').ignore();
  }

  async get(name: string, db: Knex = this.db): Promise<Checkpoint | undefined> {
    const row = await db(TABLE).where({ name }).first<Row | undefined>();
    return row === undefined ? undefined : toCheckpoint(row);
  }

  async all(): Promise<Checkpoint[]> {
    const rows = await this.db(TABLE).orderBy('name').select<Row[]>();
    return rows.map(toCheckpoint);
  }

  /** Reads the row inside a batch's transaction and keeps other writers of it waiting until commit. */
  async lock(trx: Knex.Transaction, name: string): Promise<Checkpoint | undefined> {
    let query = trx(TABLE).where({ name });
    // SQLite has one writer at a time already; MySQL needs the row lock.
    if (this.dialect === 'mysql') query = query.forUpdate();
    const row = await query.first<Row | undefined>();
    return row === undefined ? undefined : toCheckpoint(row);
  }

  /** Moves a locked row from `from` to `to`; false when someone else moved it first. */
  async advance(trx: Knex.Transaction, name: string, from: number, to: number): Promise<boolean> {
    const updated = await trx(TABLE).where({ name, position: from }).update({ position: to });
    return updated === 1;
  }

  /**
   * Marks every named projection 'rebuilding' (with a first heartbeat) and returns their
   * generations; undefined when one of them is not live or failed (the caller's transaction
   * then rolls back, so none is marked).
   */
  async claimForRebuild(trx: Knex.Transaction, names: readonly string[], heartbeatAt: number): Promise<Map<string, number> | undefined> {
    const updated = await trx(TABLE).whereIn('name', names).whereIn('status', ['live', 'failed'])
      .update({ status: 'rebuilding', heartbeat_at: heartbeatAt });
    if (updated !== names.length) return undefined;
    const rows = await trx(TABLE).whereIn('name', names).select<Pick<Row, 'name' | 'generation'>[]>('name', 'generation');
    return new Map(rows.map((row) => [row.name, Number(row.generation)]));
  }

  /** A live projection whose batches fail shows as failed (a rebuilding one keeps its status). */
  async markFailed(name: string, error: string): Promise<void> {
    await this.db(TABLE).where({ name, status: 'live' }).update({ status: 'failed', last_error: error.slice(0, 1000) });
  }

  async clearFailure(name: string): Promise<void> {
    await this.db(TABLE).where({ name, status: 'failed' }).update({ status: 'live', last_error: null });
  }

  async update(
    name: string,
    values: Partial<Omit<ProjectionCheckpointRow, 'name'>>,
    db: Knex = this.db,
  ): Promise<void> {
    await db(TABLE).where({ name }).update(values);
  }

  async remove(name: string, db: Knex = this.db): Promise<void> {
    await db(TABLE).where({ name }).delete();
  }
}

/** Where a projection stands (0 before its first batch): what read-your-writes waits on. */
export async function readCheckpointPosition(db: Knex, name: string): Promise<number> {
  const row = await db(TABLE).where({ name }).first<{ position: number | string } | undefined>('position');
  return Number(row?.position ?? 0);
}

/**
 * Rebuilds asked for by one process and run by another: the admin route leaves the request on
 * the checkpoint row, a projector takes it. Both are single statements, so two projectors never
 * take the same request.
 */
export class RebuildRequests {
  constructor(private readonly db: Knex) {}

  /** 'requested', or 'rebuilding' when the projection is rebuilding or a request already waits. */
  async request(name: string, at: string): Promise<'requested' | 'rebuilding'> {
    const updated = await this.db(TABLE).where({ name }).whereIn('status', ['live', 'failed']).whereNull('rebuild_requested_at')
      .update({ rebuild_requested_at: at });
    return updated === 1 ? 'requested' : 'rebuilding';
  }

  /** The projections with a request no projector has taken yet. */
  async waiting(): Promise<Set<string>> {
    const rows = await this.db(TABLE).whereNotNull('rebuild_requested_at').select<{ name: string }[]>('name');
    return new Set(rows.map((row) => row.name));
  }

  /** The requests this caller took (each is taken by one caller only). */
  async take(): Promise<string[]> {
    const waiting = await this.db(TABLE).whereNotNull('rebuild_requested_at').select<{ name: string; rebuild_requested_at: string }[]>('name', 'rebuild_requested_at');
    const taken: string[] = [];
    for (const { name, rebuild_requested_at: at } of waiting) {
      const updated = await this.db(TABLE).where({ name, rebuild_requested_at: at }).update({ rebuild_requested_at: null });
      if (updated === 1) taken.push(name);
    }
    return taken;
  }
}

