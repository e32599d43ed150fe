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
 * other indexes (unique ones included), to run once the copy is filled. That step reads the
 * table's indexes when it runs, not when the copy was made: a migration that dropped or added
 * one meanwhile (a rebuild takes minutes) is not undone by the swap.
 */
export async function copyTableShape(db: Knex, dialect: SqlDialect, table: string, copy: string, generation: number): Promise<() => Promise<void>> {
  await db.schema.dropTableIfExists(copy);
  if (dialect === 'mysql') {
    await db.raw('CREATE TABLE ?? LIKE ??', [copy, table]);
    const made = await mysqlIndexes(db, copy);
    if (made.size > 0) await db.raw(`ALTER TABLE ?? ${[...made.keys()].map(() => 'DROP INDEX ??').join(', ')}`, [copy, ...made.keys()]);
    return async () => {
      const indexes = await mysqlIndexes(db, table);
      if (indexes.size === 0) return;
      const clauses = [...indexes.values()].map((index) => `ADD ${index.unique ? 'UNIQUE ' : ''}INDEX ?? (${index.columns.map(() => '??').join(', ')})`);
      await db.raw(`ALTER TABLE ?? ${clauses.join(', ')}`, [copy, ...[...indexes].flatMap(([name, index]) => [name, ...index.columns])]);
    };
  }
  // SQLite has no CREATE TABLE … LIKE: replay the table's own DDL under the new name. Index names
  // are global in SQLite, so the copy's carry the generation that will own them.
  const [entry] = await sqliteSchema(db, table, 'table');
  if (entry === undefined) throw new Error(`cannot copy table ${table}: it does not exist`);
  const sql = entry.sql.replace(new RegExp(String.raw`^CREATE TABLE\s+${quotedName(table)}`, 'i'), `CREATE TABLE "${copy}"`);
  if (sql === entry.sql) throw new Error(`cannot copy table ${table}: unexpected DDL`);
  await db.raw(sql);
  return async () => {
    for (const index of await sqliteSchema(db, table, 'index')) {
      const indexSql = index.sql.replace(
        new RegExp(String.raw`^CREATE (UNIQUE )?INDEX\s+[\`"\[]?(\w+?)(?:__g\d+)?[\`"\]]?\s+ON\s+${quotedName(table)}`, 'i'),
        (_match, unique: string | undefined, name: string) => `CREATE ${unique ?? ''}INDEX "${name}__g${generation}" ON "${copy}"`,
      );
      if (indexSql === index.sql) throw new Error(`cannot copy index ${index.name} of ${table}: unexpected DDL`);
      await db.raw(indexSql);
    }
  };
}

/** A MySQL table's indexes but its primary key, by name: unique or not, their columns in order. */
async function mysqlIndexes(db: Knex, table: string): Promise<Map<string, { unique: boolean; columns: string[] }>> {
  const [rows] = await db.raw<[{ Key_name: string; Non_unique: number | string; Column_name: string; Seq_in_index: number | string }[]]>('SHOW INDEX FROM ??', [table]);
  const indexes = new Map<string, { unique: boolean; columns: string[] }>();
  for (const row of [...(rows ?? [])].sort((a, b) => Number(a.Seq_in_index) - Number(b.Seq_in_index))) {
    if (row.Key_name === 'PRIMARY') continue;
    const index = indexes.get(row.Key_name) ?? { unique: Number(row.Non_unique) === 0, columns: [] };
    index.columns.push(row.Column_name);
    indexes.set(row.Key_name, index);
  }
  return indexes;
}

/** A SQLite table's own DDL, or its indexes' (those it did not get from a constraint). */
async function sqliteSchema(db: Knex, table: string, type: 'table' | 'index'): Promise<{ name: string; sql: string }[]> {
  return db.raw<{ name: string; sql: string }[]>('SELECT name, sql FROM sqlite_master WHERE tbl_name = ? AND type = ? AND sql IS NOT NULL', [table, type]);
}

/** The table's name as SQLite's DDL may quote it. */
const quotedName = (table: string): string => String.raw`[\`"\[]?${table}[\`"\]]?`;

export async function renameTables(db: Knex, dialect: SqlDialect, renames: readonly [string, string][]): Promise<void> {
  if (dialect === 'mysql') {
    await db.raw(`RENAME TABLE ${renames.map(() => '?? TO ??').join(', ')}`, renames.flat());
    return;
  }
  await db.transaction(async (trx) => {
    for (const [from, to] of renames) await trx.raw('ALTER TABLE ?? RENAME TO ??', [from, to]);
  });
}
