/** knex writes a multi-row INSERT on SQLite as a compound SELECT, and SQLite takes at most 500 terms in one. */
export const SQLITE_MAX_INSERT_ROWS = 500;

/** The items in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
