import type { Knex } from 'knex';

export type SqlDialect = 'mysql' | 'sqlite';

/** Which SQL a knex instance speaks: MySQL/MariaDB, or SQLite (the embedded default). */
export function sqlDialectOf(db: Knex): SqlDialect {
  const client = String((db.client as { config: { client: unknown } }).config.client);
  return client === 'better-sqlite3' || client === 'sqlite3' ? 'sqlite' : 'mysql';
}
