/**
 * Bulk reads and writes for projections: a batch touches many rows, and each table is read once
 * and written once, in multi-row statements sized to stay under the drivers' placeholder limits.
 */
import type { Knex } from 'knex';
import { toCanonicalInstant } from '../domain/index.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';

/** Under SQLite's 32,766 and MySQL's 65,535 bound parameters per statement. */
const MAX_PARAMETERS = 30_000;
/** knex writes a multi-row INSERT on SQLite as a compound SELECT of at most 500 terms. */
const SQLITE_MAX_ROWS = 500;

function rowsPerStatement(trx: Knex.Transaction, row: object): number {
  const byParameters = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(row).length));
  return sqlDialectOf(trx) === 'sqlite' ? Math.min(SQLITE_MAX_ROWS, byParameters) : byParameters;
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

/** A big write in up to `parts` pieces of at least `minRows` rows: pieces a rebuild runs side by side. */
export function inParts<T>(rows: readonly T[], write: (trx: Knex.Transaction, part: readonly T[]) => Promise<void>, parts = 4, minRows = 5_000): ((trx: Knex.Transaction) => Promise<void>)[] {
  if (rows.length === 0) return [];
  const size = Math.max(minRows, Math.ceil(rows.length / parts));
  return chunks(rows, size).map((part) => (trx: Knex.Transaction) => write(trx, part));
}

/** INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT DO UPDATE (SQLite), many rows at once. */
export async function upsert(
  trx: Knex.Transaction,
  table: string,
  rows: readonly object[],
  key: readonly string[],
  update: readonly string[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  for (const part of chunks(rows, rowsPerStatement(trx, first))) {
    await trx(table).insert(part as Record<string, unknown>[]).onConflict([...key]).merge([...update]);
  }
}

/** Plain multi-row INSERT, for rows that cannot exist yet. */
export async function insertMany(trx: Knex.Transaction, table: string, rows: readonly object[]): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  for (const part of chunks(rows, rowsPerStatement(trx, first))) await trx(table).insert(part);
}

const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** ISO-8601 UTC in one fixed form, so stored instants compare as strings. */
export function instant(value: string): string {
  // What this system writes (and decode gives) is in that form already; anything else is normalized by the one parser of times.
  return CANONICAL_INSTANT.test(value) ? value : toCanonicalInstant(value);
}
