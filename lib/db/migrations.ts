import type { Knex } from 'knex';
import { sqlDialectOf } from './dialect.ts';

/**
 * Runs in-code knex migrations under their own history table. Several instances may start at
 * once. On MySQL they take turns under a named lock (GET_LOCK) first: knex creates its lock
 * table and lock row before it takes its own lock, and two processes doing that at once could
 * insert two lock rows, after which knex finds itself "already locked" forever. A named lock
 * belongs to its connection, so a process that dies releases it. Inside, knex's own lock still
 * guards against anything else.
 */
export async function runMigrations(db: Knex, tableName: string, migrations: Readonly<Record<string, Knex.Migration>>): Promise<void> {
  if (sqlDialectOf(db) !== 'mysql') return migrate(db, tableName, migrations);
  const pool = db.client as { acquireConnection(): Promise<unknown>; releaseConnection(connection: unknown): Promise<void> };
  const connection = await pool.acquireConnection();
  const lock = `boxoffice:${tableName}`;
  try {
    const [[row]] = (await db.raw('SELECT GET_LOCK(?, 120) AS got', [lock]).connection(connection)) as [[{ got: number | null }]];
    if (Number(row.got) !== 1) throw new Error(`${tableName}: another process has been migrating for two minutes`);
    try {
      await migrate(db, tableName, migrations);
    } finally {
      await db.raw('SELECT RELEASE_LOCK(?)', [lock]).connection(connection);
    }
  } finally {
    await pool.releaseConnection(connection);
  }
}

async function migrate(db: Knex, tableName: string, migrations: Readonly<Record<string, Knex.Migration>>): Promise<void> {
  const migrationSource: Knex.MigrationSource<string> = {
    getMigrations: async () => Object.keys(migrations).sort(),
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const migration = migrations[name];
      if (migration === undefined) throw new Error(`unknown migration ${name}`);
      return migration;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      // knex takes its lock even when there is nothing to do; a start with nothing pending
      // (every start but the first after an upgrade) does not need it.
      const [, pending] = (await db.migrate.list({ migrationSource, tableName })) as [unknown[], unknown[]];
      if (pending.length === 0) return;
      await db.migrate.latest({ migrationSource, tableName });
      return;
    } catch (error) {
      if (!anotherProcessMigrating(error)) throw error;
      if (Date.now() > deadline) {
        throw new Error(`${tableName}: another process has held the migration lock for a minute; if none is running, clear ${tableName}_lock`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Knex creates its history tables before it takes its lock, so a second process can trip on them too. */
function anotherProcessMigrating(error: unknown): boolean {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  return name === 'MigrationLocked'
    || code === 'ER_TABLE_EXISTS_ERROR'
    || code === 'ER_DUP_ENTRY'
    || /already exists|UNIQUE constraint failed/.test(message ?? '');
}
