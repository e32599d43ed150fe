import knex, { type Knex } from 'knex';
import { runMigrations } from './migrations.ts';
import { mysqlSession } from './mysql-session.ts';

/** Where a store's tables live: MySQL/MariaDB (shared with other stores) or a SQLite file of its own. */
export type DatabaseOptions =
  | { readonly client: 'mysql2'; readonly url: string }
  | { readonly client: 'better-sqlite3'; readonly filename: string };

/**
 * A knex instance with the store's migrations applied. SQLite files run in WAL mode (readers and
 * a writer side by side, also across processes) and wait for a busy writer instead of failing.
 */
export async function openDatabase(
  options: DatabaseOptions,
  schema: {
    readonly migrationsTable: string;
    readonly migrations: Readonly<Record<string, Knex.Migration>>;
    readonly sqlitePragmas?: readonly string[];
    /** MySQL connections at most (default 5). */
    readonly poolSize?: number;
  },
): Promise<Knex> {
  const db = options.client === 'mysql2'
    ? knex({ client: 'mysql2', connection: options.url, pool: { min: 0, max: schema.poolSize ?? 5, afterCreate: mysqlSession() } })
    : knex({
        client: 'better-sqlite3',
        connection: { filename: options.filename },
        useNullAsDefault: true,
        pool: {
          afterCreate: (connection: { pragma(source: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
            for (const pragma of ['journal_mode = WAL', 'busy_timeout = 5000', ...(schema.sqlitePragmas ?? [])]) connection.pragma(pragma);
            done(null, connection);
          },
        },
      });
  try {
    await runMigrations(db, schema.migrationsTable, schema.migrations);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
