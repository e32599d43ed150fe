/**
 * The session every MySQL/MariaDB connection of ours runs in, whatever the server's own
 * sql_mode says. Our SQL is written for one dialect: strings in '…' with backslash escapes (the
 * driver's escaping of bound values and mysqlString both write `\\` and `\'`), identifiers in
 * backticks. A server whose sql_mode holds NO_BACKSLASH_ESCAPES would read a value with a
 * backslash as something else, or fail the statement; ANSI_QUOTES, PIPES_AS_CONCAT or the ANSI
 * mode would change the meaning of other text.
 *
 * The mode is an explicit list rather than "the server's mode minus NO_BACKSLASH_ESCAPES and
 * ANSI_QUOTES": that would keep whatever else an operator set (ANSI's parts, ONLY_FULL_GROUP_BY,
 * NO_ZERO_DATE…), so the same statements could mean or refuse different things on two servers.
 * The list is MariaDB's default (10.2.4 and later) without NO_AUTO_CREATE_USER, which only
 * concerns GRANT and which MySQL 8 no longer accepts: strict writes (a value that does not fit
 * its column is an error, not a warning), division by zero an error, and no silent change of
 * storage engine. Every spec runs on that mode, so production runs on what the specs tried.
 */

export const SESSION_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** A mysql2 connection as knex's pool hands it to afterCreate. */
interface MysqlConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
}

/**
 * knex's `pool.afterCreate` for a mysql2 pool: sets the session's sql_mode (SESSION_SQL_MODE)
 * before the connection is lent out. `more` are the pool's own session statements, sent in the
 * same request (one round trip): given any, the connection must be opened with
 * `multipleStatements: true`.
 */
export function mysqlSession(...more: readonly string[]): (connection: MysqlConnection, done: (error: Error | null, connection: MysqlConnection) => void) => void {
  const sql = [`SET SESSION sql_mode = '${SESSION_SQL_MODE}'`, ...more].join('; ');
  return (connection, done) => connection.query(sql, (error) => done(error, connection));
}
