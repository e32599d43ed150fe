/**
 * SQL text with its values written in, for MySQL/MariaDB, where statements are too big for the
 * driver's placeholders to pay: an append carries every event's JSON, a rebuild millions of
 * rows. The driver's formatting scans the text for placeholders character by character and
 * escapes every double quote of the JSON; these write what the server needs and no more.
 */

const ESCAPED = /[\0'\\]/;

/**
 * A string as a MySQL string literal. Inside '…' only the quote, the backslash (the escape
 * character: every session runs without NO_BACKSLASH_ESCAPES, pinned by mysql-session.ts, as the
 * driver's own escaping also needs) and NUL are written escaped; the rest, double quotes, newlines, tabs and multi-byte
 * characters included, is read back as it is.
 */
export function mysqlString(value: string): string {
  if (!ESCAPED.test(value)) return `'${value}'`;
  return `'${value.replace(/[\0'\\]/g, (c) => (c === '\0' ? '\\0' : `\\${c}`))}'`;
}

/**
 * A finished statement as the one value of the statement `?`: the driver writes an object's
 * toSqlString() as it is, so neither knex nor the driver scans megabytes of values for
 * placeholders (a value may hold a `?`; written this way it is never taken for one).
 */
export function wholeStatement(sql: string): { toSqlString(): string } {
  return { toSqlString: () => sql };
}
