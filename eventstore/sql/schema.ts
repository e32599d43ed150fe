import type { Knex } from 'knex';
import { runMigrations } from '../../lib/db/migrations.ts';
import { clientOf } from './dialect.ts';

/**
 * The SQL event store's own tables, created by its own migrations (table `es_migrations`), so
 * they can share a database with the read models without sharing their migration history.
 *
 * - es_events: every event, keyed by its global position; unique per (stream, revision) and per id.
 * - es_streams: one row per stream holding its current revision: the row an append locks.
 * - es_head: one row holding the last allocated position: the lock that makes positions commit
 *   in order (see sql-event-store.ts).
 * - es_snapshots: the newest snapshot per stream.
 * - es_snapshot_pieces: a snapshot too big for one statement, in pieces (see sql-event-store.ts).
 */
const migrations: Record<string, Knex.Migration> = {
  '001_event_store': {
    async up(knex) {
      const mysql = clientOf(knex) === 'mysql2';
      // Names, ids and types compare byte for byte: 'user-A' and 'user-a' are two streams.
      const binary = (column: Knex.ColumnBuilder) => (mysql ? column.collate('utf8mb4_bin') : column);
      await knex.schema.createTable('es_events', (table) => {
        table.bigInteger('position').unsigned().notNullable().primary();
        binary(table.string('stream_id', 255).notNullable());
        table.bigInteger('revision').unsigned().notNullable();
        binary(table.string('event_id', 36).notNullable());
        binary(table.string('type', 255).notNullable());
        table.text('data', 'longtext').notNullable();
        table.text('metadata', 'longtext').notNullable();
        table.bigInteger('recorded_at').notNullable();
        table.unique(['stream_id', 'revision'], { indexName: 'es_events_stream_revision' });
        table.unique(['event_id'], { indexName: 'es_events_event_id' });
      });
      await knex.schema.createTable('es_streams', (table) => {
        binary(table.string('stream_id', 255).notNullable()).primary();
        table.bigInteger('revision').unsigned().notNullable();
      });
      await knex.schema.createTable('es_head', (table) => {
        table.integer('id').notNullable().primary();
        table.bigInteger('position').unsigned().notNullable();
      });
      await knex('es_head').insert({ id: 1, position: 0 });
      await knex.schema.createTable('es_snapshots', (table) => {
        binary(table.string('stream_id', 255).notNullable()).primary();
        table.bigInteger('revision').unsigned().notNullable();
        table.text('data', 'longtext').notNullable();
        table.bigInteger('saved_at').notNullable();
      });
    },
    async down(knex) {
      for (const table of ['es_snapshots', 'es_head', 'es_streams', 'es_events']) await knex.schema.dropTableIfExists(table);
    },
  },
  '002_snapshot_pieces': {
    async up(knex) {
      const mysql = clientOf(knex) === 'mysql2';
      await knex.schema.createTable('es_snapshot_pieces', (table) => {
        const stream = table.string('stream_id', 255).notNullable();
        if (mysql) stream.collate('utf8mb4_bin');
        /** The snapshot's revision: a reader that finds pieces of another one read while it was replaced. */
        table.bigInteger('revision').unsigned().notNullable();
        table.integer('seq').unsigned().notNullable();
        table.text('data', 'longtext').notNullable();
        table.primary(['stream_id', 'seq']);
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('es_snapshot_pieces');
    },
  },
};

export async function migrateEventStore(knex: Knex): Promise<void> {
  await runMigrations(knex, 'es_migrations', migrations);
}
