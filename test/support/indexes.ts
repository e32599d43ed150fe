/** The secondary indexes of tables (unique ones included, primary keys not), for specs of migrations and rebuilds. */
import type { Knex } from 'knex';
import { sqlDialectOf } from '../../lib/db/dialect.ts';

export async function indexNames(db: Knex, ...tables: string[]): Promise<string[]> {
  if (sqlDialectOf(db) === 'sqlite') {
    const rows = await db.raw<{ name: string }[]>(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${tables.map(() => '?').join(', ')})`, tables);
    return rows.map((row) => row.name).sort();
  }
  const [rows = []] = await db.raw<[{ name: string }[]]>(
    `SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' AND TABLE_NAME IN (${tables.map(() => '?').join(', ')})`, tables);
  return rows.map((row) => row.name).sort();
}
