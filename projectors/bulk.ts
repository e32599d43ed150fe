/**
 * Bulk reads and writes for projections: a batch touches many rows, and each table is read once
 * and written once, in multi-row statements sized to stay under the drivers' placeholder limits.
 */
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { toCanonicalInstant } from '../domain/index.ts';
import { chunks, SQLITE_MAX_INSERT_ROWS } from '../lib/db/chunks.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';
import { mysqlString, wholeStatement } from '../lib/db/mysql-literal.ts';

/** Under SQLite's 32,766 and MySQL's 65,535 bound parameters per statement. */
const MAX_PARAMETERS = 30_000;

function rowsPerStatement(trx: Knex.Transaction, row: object): number {
  const byParameters = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(row).length));
  return sqlDialectOf(trx) === 'sqlite' ? Math.min(SQLITE_MAX_INSERT_ROWS, byParameters) : byParameters;
}

export { chunks };

/** Rows whose `column` is one of `values`, in as few queries as the parameter limit allows. */
export async function selectIn<R>(trx: Knex.Transaction, table: string, column: string, values: readonly string[]): Promise<R[]> {
  const rows: R[] = [];
  for (const part of chunks([...new Set(values)], MAX_PARAMETERS)) {
    rows.push(...((await trx(table).whereIn(column, part).select()) as R[]));
  }
  return rows;
}

/**
 * The rows in the order of their primary key (`key`, its columns in order), for the big writes of
 * a batch: rows inserted or updated in key order go to the B-tree's pages one after another; in the
 * random order of their UUIDs, a rebuild's hundreds of thousands land all over the table (MariaDB
 * spent a fifth less CPU inserting the same rows sorted). A new concert's seats need no sorting:
 * a class's seat ids are its prefix and the seat's number. Code-unit order: for ids (hex and
 * dashes) that is the collation's, and for anything else it only costs locality, never a row.
 */
export function inKeyOrder<T extends object>(rows: readonly T[], ...key: readonly (keyof T & string)[]): T[] {
  return [...rows].sort((a, b) => {
    for (const column of key) {
      const x = a[column] as unknown as string | number, y = b[column] as unknown as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/**
 * A big write in up to `parts` pieces of at least `minRows` rows: pieces a rebuild runs side by
 * side. Two, not more: a rebuild already writes every table of every projection at once, and more
 * writers into one table only wait on each other's latches in InnoDB (a quarter of MariaDB's CPU
 * went to the kernel and futexes; with two pieces instead of four a full rebuild took 46.6-52.3 s
 * against 56.7-62.6 s in alternating runs).
 */
export function inParts<T>(rows: readonly T[], write: (trx: Knex.Transaction, part: readonly T[]) => Promise<void>, parts = 2, minRows = 5_000): ((trx: Knex.Transaction) => Promise<void>)[] {
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
    const sql = sqlDialectOf(trx) === 'mysql' ? mysqlInsert(table, part, update) : undefined;
    if (sql !== undefined) await trx.raw('?', [wholeStatement(sql)]);
    else await trx(table).insert(part as Record<string, unknown>[]).onConflict([...key]).merge([...update]);
  }
}

/**
 * What one read-model database has shown of LOAD DATA LOCAL INFILE: once it refused (local_infile
 * off), writes to it are INSERTs. Held by the owner of that database's pool (Projectors, handed
 * to its runners and rebuilds through ApplyContext), so each database learns it for itself.
 */
export class LocalInfile {
  #refused = false;

  get refused(): boolean {
    return this.#refused;
  }

  refuse(): void {
    this.#refused = true;
  }
}

/**
 * Plain multi-row INSERT, for rows that cannot exist yet. On MySQL the rows are streamed with
 * LOAD DATA LOCAL INFILE when the server allows it (see loadRows; `localInfile` is what this
 * database has shown of that): the server then reads each value as it is, without parsing a
 * statement of hundreds of thousands of literals.
 */
export async function insertMany(trx: Knex.Transaction, table: string, rows: readonly object[], localInfile: LocalInfile): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  if (sqlDialectOf(trx) === 'mysql' && await loadRows(trx, table, rows, localInfile)) return;
  for (const part of chunks(rows, rowsPerStatement(trx, first))) {
    const sql = sqlDialectOf(trx) === 'mysql' ? mysqlInsert(table, part) : undefined;
    if (sql !== undefined) await trx.raw('?', [wholeStatement(sql)]);
    else await trx(table).insert(part);
  }
}

/** The server's or client's "local infile is disabled" (MySQL 8, MariaDB, older servers). */
const LOCAL_INFILE_DISABLED = new Set([1148, 3948, 4166]);

/** Bytes of rows per packet the driver sends (a packet holds at most 16 MiB). */
const LOAD_PACKET = 1 << 20;

/** What a knex transaction's mysql2 connection offers for LOAD DATA LOCAL INFILE. */
interface LoadingConnection {
  query(options: { sql: string; infileStreamFactory?: (path: string) => Readable }, callback: (error: (Error & { errno?: number }) | null, result?: unknown) => void): void;
}

/**
 * Inserts the rows with one LOAD DATA LOCAL INFILE on the transaction's connection: false (nothing
 * written) when a row has other columns than the first or a value of another type than string,
 * number, boolean or null, or when the server does not allow it. LOCAL turns errors into
 * warnings (a duplicate key is skipped, a value too long cut), so any warning, or a row count
 * short of the rows, fails the write as an INSERT's error would. Whatever file the server asks
 * for, the driver is handed these rows only: no file of this machine is ever read.
 */
async function loadRows(trx: Knex.Transaction, table: string, rows: readonly object[], localInfile: LocalInfile): Promise<boolean> {
  if (localInfile.refused) return false;
  const columns = Object.keys(rows[0] as object);
  const packets = loadText(rows, columns);
  if (packets === undefined) return false;
  // A transaction's client hands out the transaction's own connection (knex's makeTxClient).
  const connection = await (trx.client as { acquireConnection(): Promise<LoadingConnection> }).acquireConnection();
  const sql = `load data local infile 'rows.tsv' into table ${quoteName(table)} character set utf8mb4`
    + ` fields terminated by '\\t' escaped by '\\\\' lines terminated by '\\n' (${columns.map(quoteName).join(', ')})`;
  try {
    const result = await new Promise<{ affectedRows?: number; warningStatus?: number }>((resolve, reject) => {
      connection.query({ sql, infileStreamFactory: () => Readable.from(packets) }, (error, loaded) => (error ? reject(error) : resolve(loaded ?? {})));
    });
    if ((result.warningStatus ?? 0) > 0 || result.affectedRows !== rows.length) {
      const warnings = await firstWarnings(connection);
      throw new Error(`load into ${table}: ${result.affectedRows ?? 0} of ${rows.length} rows stored, ${result.warningStatus ?? 0} warnings (${warnings || 'a duplicate key, or a value that does not fit its column'})`);
    }
    return true;
  } catch (error) {
    const errno = (error as { errno?: unknown }).errno;
    if (typeof errno === 'number' && LOCAL_INFILE_DISABLED.has(errno)) {
      localInfile.refuse();
      return false;
    }
    throw error;
  }
}

/**
 * What the server warned of, at most three, without the values it quotes (a duplicate entry's value
 * may be someone's name or address): "Duplicate entry for key 'PRIMARY'", "Data too long for column 'name'".
 */
async function firstWarnings(connection: LoadingConnection): Promise<string> {
  const rows = await new Promise<unknown>((resolve) => {
    connection.query({ sql: 'show warnings limit 3' }, (error, result) => resolve(error ? [] : result));
  });
  return (Array.isArray(rows) ? rows as { Message?: unknown }[] : [])
    .map((row) => (typeof row.Message === 'string' ? row.Message : '').replace(/ '.*' for (key|column)/, ' for $1').replace(/ at row \d+$/, ''))
    .join('; ');
}

/**
 * The rows as LOAD DATA's default text: tab between values, a line each, backslash escapes, \\N for
 * null; in packets of about LOAD_PACKET bytes. Each value is written as UTF-8 straight into the
 * packet, escaped as it goes (putLoadString): a rebuild loads hundreds of megabytes, and growing
 * one string to encode it afterwards costs about twice as much (V8 flattens the string's millions
 * of pieces first), as did an escaped copy of each value handed to Buffer.write.
 */
function loadText(rows: readonly object[], columns: readonly string[]): Buffer[] | undefined {
  const packets: Buffer[] = [];
  // A live batch loads a few rows: its first packet is sized for them, not a whole LOAD_PACKET.
  let packet = Buffer.allocUnsafe(Math.min(LOAD_PACKET, Math.max(16_384, rows.length * 256)));
  let at = 0;
  for (const item of rows) {
    const row = item as Record<string, unknown>;
    if (Object.keys(row).length !== columns.length) return undefined;
    for (let c = 0; c < columns.length; c++) {
      const value = row[columns[c] as string];
      let field: string;
      if (value === null) field = NULL_FIELD;
      else if (typeof value === 'string') field = value;
      else if (typeof value === 'number' && Number.isFinite(value)) field = String(value);
      else if (typeof value === 'boolean') field = value ? '1' : '0';
      else return undefined;
      // At most 3 bytes of UTF-8 per UTF-16 unit (an escaped one takes 2), and the separator: a value never splits.
      const room = field.length * 3 + 2;
      if (at + room > packet.length) {
        if (at > 0) packets.push(packet.subarray(0, at));
        packet = Buffer.allocUnsafe(Math.max(LOAD_PACKET, room));
        at = 0;
      }
      if (c > 0) packet[at++] = TAB;
      if (value === null) {
        packet[at++] = BACKSLASH;
        packet[at++] = 0x4e; // N
      } else at = putLoadString(packet, at, field);
    }
    if (at + 1 > packet.length) {
      packets.push(packet.subarray(0, at));
      packet = Buffer.allocUnsafe(LOAD_PACKET);
      at = 0;
    }
    packet[at++] = NEWLINE;
  }
  if (at > 0) packets.push(packet.subarray(0, at));
  return packets;
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const NULL_FIELD = '\\N';

/** The letter after the backslash that LOAD DATA reads back as the character, by character code: its separators, NUL and the escape itself. */
const LOAD_ESCAPES: readonly (number | undefined)[] = Object.assign(new Array<number | undefined>(93).fill(undefined),
  { 0: 0x30, 9: 0x74, 10: 0x6e, 13: 0x72, 26: 0x5a, 92: BACKSLASH });

/**
 * Writes the value at `at` as LOAD DATA reads it back: UTF-8, with its separators, NUL and the
 * escape character escaped; answers where it ends. The packet has room for 3 bytes a UTF-16 unit.
 * A lone surrogate is written as U+FFFD, as Buffer.write writes it.
 */
function putLoadString(packet: Buffer, at: number, value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) {
      const escaped = LOAD_ESCAPES[code]; // undefined past 92 too
      if (escaped !== undefined) {
        packet[at++] = BACKSLASH;
        packet[at++] = escaped;
      } else packet[at++] = code;
    } else if (code < 0x800) {
      packet[at++] = 0xc0 | (code >> 6);
      packet[at++] = 0x80 | (code & 0x3f);
    } else {
      const low = code >= 0xd800 && code < 0xdc00 && i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low < 0xe000) {
        const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        packet[at++] = 0xf0 | (point >> 18);
        packet[at++] = 0x80 | ((point >> 12) & 0x3f);
        packet[at++] = 0x80 | ((point >> 6) & 0x3f);
        packet[at++] = 0x80 | (point & 0x3f);
        i++;
      } else {
        const unit = code >= 0xd800 && code < 0xe000 ? 0xfffd : code;
        packet[at++] = 0xe0 | (unit >> 12);
        packet[at++] = 0x80 | ((unit >> 6) & 0x3f);
        packet[at++] = 0x80 | (unit & 0x3f);
      }
    }
  }
  return at;
}

/** A value as mysql2 writes a bound value of its type into the statement; undefined for any other type. */
function mysqlLiteral(value: unknown): string | undefined {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return mysqlString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

/**
 * The multi-row INSERT (… ON DUPLICATE KEY UPDATE `update` = VALUES(…)) knex and mysql2 would
 * send for these rows, written in one pass: a rebuild writes millions of rows, and knex's
 * compiler and the driver's placeholder substitution cost more than the server's insert.
 * Undefined when a row has other columns than the first, or a value of another type than
 * string, number, boolean or null: knex writes those.
 */
function mysqlInsert(table: string, rows: readonly object[], update?: readonly string[]): string | undefined {
  const columns = Object.keys(rows[0] as object);
  // One string grown value by value (V8 joins the pieces once, when the driver writes it out):
  // cheaper than joining each row's text, or knex's placeholders and the driver's substitution.
  let values = '';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Record<string, unknown>;
    if (Object.keys(row).length !== columns.length) return undefined;
    values += r === 0 ? '(' : ', (';
    for (let c = 0; c < columns.length; c++) {
      const literal = mysqlLiteral(row[columns[c] as string]);
      if (literal === undefined) return undefined;
      values += c === 0 ? literal : `, ${literal}`;
    }
    values += ')';
  }
  const merge = update === undefined || update.length === 0 ? '' : ` on duplicate key update ${update.map((column) => `${quoteName(column)} = values(${quoteName(column)})`).join(', ')}`;
  return `insert into ${quoteName(table)} (${columns.map(quoteName).join(', ')}) values ${values}${merge}`;
}

function quoteName(identifier: string): string {
  return `\`${identifier.replaceAll('`', '``')}\``;
}

const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** ISO-8601 UTC in one fixed form, so stored instants compare as strings. */
export function instant(value: string): string {
  // What this system writes (and decode gives) is in that form already; anything else is normalized by the one parser of times.
  return CANONICAL_INSTANT.test(value) ? value : toCanonicalInstant(value);
}
