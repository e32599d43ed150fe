/**
 * What the reactors keep outside the event store: how far each has read ($all checkpoints), and
 * the due-time index of unpaid holds. MySQL/MariaDB, or a SQLite file in the data dir.
 */
import type { Knex } from 'knex';
import { openDatabase, type DatabaseOptions } from '../../lib/db/database.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';

export type ReactorStoreOptions = DatabaseOptions;

const migrations: Record<string, Knex.Migration> = {
  '001_reactors': {
    async up(db) {
      await db.schema.createTable('reactor_checkpoints', (table) => {
        table.string('name', 100).notNullable().primary();
        table.bigInteger('position').unsigned().notNullable();
      });
      await db.schema.createTable('hold_deadlines', (table) => {
        table.string('booking_id', 64).notNullable().primary();
        table.string('concert_id', 64).notNullable();
        table.bigInteger('expires_at').notNullable().index('hold_deadlines_expires_at');
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('hold_deadlines');
      await db.schema.dropTableIfExists('reactor_checkpoints');
    },
  },
};

export interface Deadline {
  readonly bookingId: string;
  readonly concertId: string;
  readonly expiresAt: number;
}

export class ReactorStore {
  private constructor(private readonly db: Knex) {}

  static async open(options: ReactorStoreOptions): Promise<ReactorStore> {
    return new ReactorStore(await openDatabase(options, { migrationsTable: 'reactor_migrations', migrations }));
  }

  async checkpoint(name: string): Promise<number> {
    const row = await this.db('reactor_checkpoints').where({ name }).first<{ position: number | string } | undefined>('position');
    return Number(row?.position ?? 0);
  }

  /**
   * Moves a checkpoint forward, never back: two instances may run the same reactor. One upsert
   * statement: an update-then-insert transaction deadlocked on MySQL's gap locks when two of them
   * wrote the first checkpoint at once (the load test's server logged it).
   */
  async advance(name: string, position: number): Promise<void> {
    const larger = sqlDialectOf(this.db) === 'sqlite' ? 'MAX(position, excluded.position)' : 'GREATEST(position, VALUES(position))';
    await this.db('reactor_checkpoints').insert({ name, position }).onConflict('name').merge({ position: this.db.raw(larger) });
  }

  async addDeadlines(deadlines: readonly Deadline[]): Promise<void> {
    if (deadlines.length === 0) return;
    await this.db('hold_deadlines')
      .insert(deadlines.map((d) => ({ booking_id: d.bookingId, concert_id: d.concertId, expires_at: d.expiresAt })))
      .onConflict('booking_id').ignore();
  }

  async removeDeadlines(bookingIds: readonly string[]): Promise<void> {
    if (bookingIds.length > 0) await this.db('hold_deadlines').whereIn('booking_id', bookingIds).delete();
  }

  /** Holds whose time is up, oldest first. */
  async due(nowMs: number, limit: number): Promise<Deadline[]> {
    const rows = await this.db('hold_deadlines').where('expires_at', '<=', nowMs).orderBy('expires_at').limit(limit)
      .select<{ booking_id: string; concert_id: string; expires_at: number | string }[]>('booking_id', 'concert_id', 'expires_at');
    return rows.map((row) => ({ bookingId: row.booking_id, concertId: row.concert_id, expiresAt: Number(row.expires_at) }));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
