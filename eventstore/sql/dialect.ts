import type { Knex } from 'knex';
import type { AppendResult, StreamWrite } from '../port.ts';
import { appendOnMysql } from './mysql-append.ts';
import { codeOf } from './rows.ts';
import { appendOnSqlite } from './sqlite-append.ts';

/** What MariaDB/MySQL and SQLite do differently; everything else is one code path. */
export interface Dialect {
  /**
   * One transaction for one or several streams: move each stream's revision as expected (else
   * throw RevisionMismatch), take the next positions from es_head, insert the events, commit;
   * no request longer than `maxRequestBytes`.
   */
  append(db: Knex, writes: readonly StreamWrite[], maxRequestBytes: number): Promise<AppendResult[]>;
  /** A unique or primary key refused a row. */
  isUniqueViolation(error: unknown): boolean;
  /** The database gave up on the transaction for lock reasons; running it again is safe. */
  isTransient(error: unknown): boolean;
}

const mysql: Dialect = {
  append: appendOnMysql,
  isUniqueViolation: (error) => codeOf(error) === 'ER_DUP_ENTRY',
  isTransient: (error) => ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(codeOf(error)),
};

const sqlite: Dialect = {
  append: appendOnSqlite,
  isUniqueViolation: (error) => /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(codeOf(error)),
  isTransient: (error) => /^SQLITE_BUSY/.test(codeOf(error)),
};

/** The driver a knex instance was built for ('mysql2', 'better-sqlite3', …). */
export function clientOf(db: Knex): string {
  return (db.client as { config: { client: string } }).config.client;
}

/** How the SQL event store appends and reads errors on the database `db` was built for. */
export function eventStoreDialectOf(db: Knex): Dialect {
  const client = clientOf(db);
  if (client === 'mysql2') return mysql;
  if (client === 'better-sqlite3') return sqlite;
  throw new Error(`the SQL event store runs on mysql2 or better-sqlite3, not ${client}`);
}
