/**
 * Bulk reads and writes for projections: a batch touches many rows, and each table is read once
 * and written once, in multi-row statements sized to stay under the drivers' placeholder limits.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../src/read-models/database.ts';

/** Under SQLite's 32,766 and MySQL's 65,535 bound parameters per statement. */
const MAX_PARAMETERS = 30_000;
/** knex writes a multi-row INSERT on SQLite as a compound SELECT of at most 500 terms. */
const SQLITE_MAX_ROWS = 500;

function rowsPerStatement(trx: Knex.Transaction, row: Record<string, unknown>): number {
  const byParameters = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(row).length));
  return dialectOf(trx) === 'sqlite' ? Math.min(SQLITE_MAX_ROWS, byParameters) : byParameters;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Rows whose `column` is one of `values`, in as few queries as the parameter limit allows. */
export async function selectIn<R>(trx: Knex.Transaction, table: string, column: string, values: readonly string[]): Promise<R[]> {
  const rows: R[] = [];
  for (const part of chunks([...new Set(values)], MAX_PARAMETERS)) {
    rows.push(...((await trx(table).whereIn(column, part).select()) as R[]));
  }
  return rows;
}

/** INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT DO UPDATE (SQLite), many rows at once. */
export async function upsert(
  trx: Knex.Transaction,
  table: string,
  rows: readonly Record<string, unknown>[],
  key: readonly string[],
  update: readonly string[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  for (const part of chunks(rows, rowsPerStatement(trx, first))) {
    await trx(table).insert(part).onConflict([...key]).merge([...update]);
  }
}

/** Plain multi-row INSERT, for rows that cannot exist yet. */
export async function insertMany(trx: Knex.Transaction, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  for (const part of chunks(rows, rowsPerStatement(trx, first))) await trx(table).insert(part);
}

/** ISO-8601 UTC in one fixed form, so stored instants compare as strings. */
export function instant(value: string): string {
  return new Date(value).toISOString();
}
