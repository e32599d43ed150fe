/**
 * What the reactors keep outside the event store: how far each has read ($all checkpoints), and
 * the due-time index of unpaid holds. MySQL/MariaDB, or a SQLite file in the data dir.
 */
import knex, { type Knex } from 'knex';
import { runMigrations } from '../../src/db/migrations.ts';

export type ReactorStoreOptions =
  | { readonly client: 'mysql2'; readonly url: string }
  | { readonly client: 'better-sqlite3'; readonly filename: string };

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
  private constructor(readonly db: Knex) {}

  static async open(options: ReactorStoreOptions): Promise<ReactorStore> {
    const db = options.client === 'mysql2'
      ? knex({ client: 'mysql2', connection: options.url, pool: { min: 0, max: 5 } })
      : knex({
          client: 'better-sqlite3',
          connection: { filename: options.filename },
          useNullAsDefault: true,
          pool: {
            afterCreate: (connection: { pragma(source: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
              connection.pragma('journal_mode = WAL');
              connection.pragma('busy_timeout = 5000');
              done(null, connection);
            },
          },
        });
    try {
      await runMigrations(db, 'reactor_migrations', migrations);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new ReactorStore(db);
  }

  async checkpoint(name: string): Promise<number> {
    const row = await this.db('reactor_checkpoints').where({ name }).first<{ position: number | string } | undefined>('position');
    return Number(row?.position ?? 0);
  }

  /** Moves a checkpoint forward (never back: two instances may run the same reactor), with `work` in the same transaction. */
  async advance(name: string, position: number, work?: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
    await this.db.transaction(async (trx) => {
      if (work) await work(trx);
      const updated = await trx('reactor_checkpoints').where({ name }).andWhere('position', '<', position).update({ position });
      if (updated === 0) {
        const exists = await trx('reactor_checkpoints').where({ name }).first<{ name: string } | undefined>('name');
        if (exists === undefined) await trx('reactor_checkpoints').insert({ name, position });
      }
    });
  }

  async addDeadlines(trx: Knex.Transaction, deadlines: readonly Deadline[]): Promise<void> {
    if (deadlines.length === 0) return;
    await trx('hold_deadlines')
      .insert(deadlines.map((d) => ({ booking_id: d.bookingId, concert_id: d.concertId, expires_at: d.expiresAt })))
      .onConflict('booking_id').ignore();
  }

  async removeDeadlines(trx: Knex.Transaction | Knex, bookingIds: readonly string[]): Promise<void> {
    if (bookingIds.length > 0) await trx('hold_deadlines').whereIn('booking_id', bookingIds).delete();
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
