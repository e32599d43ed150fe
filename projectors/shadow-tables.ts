/**
 * The tables of a rebuild: empty copies of a projection's tables (its shadows), and the rename
 * that swaps them in. MySQL copies with CREATE TABLE … LIKE and renames several tables in one
 * atomic RENAME TABLE; SQLite replays the table's DDL and renames inside one transaction.
 */
import type { Knex } from 'knex';
import type { SqlDialect } from '../lib/db/dialect.ts';

export const shadowTable = (table: string): string => `${table}__shadow`;
export const oldTable = (table: string): string => `${table}__old`;

/**
 * An empty copy of a table with its columns and primary key; answers the step that adds its
 * other indexes (unique ones included), to run once the copy is filled.
 */
export async function copyTableShape(db: Knex, dialect: SqlDialect, table: string, copy: string, generation: number): Promise<() => Promise<void>> {
  await db.schema.dropTableIfExists(copy);
  if (dialect === 'mysql') {
    await db.raw('CREATE TABLE ?? LIKE ??', [copy, table]);
    const [indexRows] = await db.raw<[{ Key_name: string; Non_unique: number | string; Column_name: string; Seq_in_index: number | string }[]]>('SHOW INDEX FROM ??', [copy]);
    const indexes = new Map<string, { unique: boolean; columns: string[] }>();
    for (const row of [...(indexRows ?? [])].sort((a, b) => Number(a.Seq_in_index) - Number(b.Seq_in_index))) {
      if (row.Key_name === 'PRIMARY') continue;
      const index = indexes.get(row.Key_name) ?? { unique: Number(row.Non_unique) === 0, columns: [] };
      index.columns.push(row.Column_name);
      indexes.set(row.Key_name, index);
    }
    if (indexes.size === 0) return async () => undefined;
    await db.raw(`ALTER TABLE ?? ${[...indexes.keys()].map(() => 'DROP INDEX ??').join(', ')}`, [copy, ...indexes.keys()]);
    return async () => {
      const clauses = [...indexes.values()].map((index) => `ADD ${index.unique ? 'UNIQUE ' : ''}INDEX ?? (${index.columns.map(() => '??').join(', ')})`);
      await db.raw(`ALTER TABLE ?? ${clauses.join(', ')}`, [copy, ...[...indexes].flatMap(([name, index]) => [name, ...index.columns])]);
    };
  }
  // SQLite has no CREATE TABLE … LIKE: replay the table's own DDL under the new name. Index names
  // are global in SQLite, so the copy's carry the generation that will own them.
  const entries = await db.raw<{ type: string; name: string; sql: string }[]>(
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'table' DESC", [table]);
  const quotedTable = String.raw`[\`"\[]?${table}[\`"\]]?`;
  const indexes: string[] = [];
  for (const entry of entries) {
    const sql = entry.type === 'table'
      ? entry.sql.replace(new RegExp(String.raw`^CREATE TABLE\s+${quotedTable}`, 'i'), `CREATE TABLE "${copy}"`)
      : entry.sql.replace(
          new RegExp(String.raw`^CREATE (UNIQUE )?INDEX\s+[\`"\[]?(\w+?)(?:__g\d+)?[\`"\]]?\s+ON\s+${quotedTable}`, 'i'),
          (_match, unique: string | undefined, index: string) => `CREATE ${unique ?? ''}INDEX "${index}__g${generation}" ON "${copy}"`,
        );
    if (sql === entry.sql) throw new Error(`cannot copy ${entry.type} ${entry.name} of ${table}: unexpected DDL`);
    if (entry.type === 'table') await db.raw(sql);
    else indexes.push(sql);
  }
  return async () => {
    for (const sql of indexes) await db.raw(sql);
  };
}

export async function renameTables(db: Knex, dialect: SqlDialect, renames: readonly [string, string][]): Promise<void> {
  if (dialect === 'mysql') {
    await db.raw(`RENAME TABLE ${renames.map(() => '?? TO ??').join(', ')}`, renames.flat());
    return;
  }
  await db.transaction(async (trx) => {
    for (const [from, to] of renames) await trx.raw('ALTER TABLE ?? RENAME TO ??', [from, to]);
  });
}
