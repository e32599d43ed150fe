/**
 * The read-model database: MySQL/MariaDB (shared with the other stores) or, in the embedded
 * default, a SQLite file of its own. Opening it runs the read models' migrations.
 */
import type { Knex } from 'knex';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../migrations/index.ts';
import { openDatabase, type DatabaseOptions } from '../lib/db/database.ts';

export async function openReadModels(options: DatabaseOptions): Promise<Knex> {
  // A rebuild writes each batch's tables side by side, several projections at once.
  return openDatabase(options, { migrationsTable: READ_MODEL_MIGRATIONS_TABLE, migrations: readModelMigrations, poolSize: 20 });
}
