/**
 * The append transaction on MariaDB/MySQL: one or several streams, in one round trip.
 *
 * Positions commit in order because the head row stays locked from the moment an append takes
 * its positions until it commits. Whatever happens inside that window is paid by every append
 * in turn, so the window must not contain a network round trip: the head update, the insert
 * and the COMMIT go to the server as one multi-statement request. The insert computes its
 * positions on the server from LAST_INSERT_ID(), so the client does not need them first.
 *
 * When every write's expected revision is known (a revision or 'no_stream': every append of the
 * domain), its events' revisions are known before anything is sent, and the whole transaction is
 * one request:
 *
 *   START TRANSACTION; move each stream's revision (UPDATE … WHERE revision = expected, counted in
 *   @es_moved); fail unless every one moved; create the new streams in one INSERT (one that exists
 *   fails it on the primary key); UPDATE es_head … LAST_INSERT_ID(position + n); INSERT every
 *   event; COMMIT
 *
 * A revision that did not hold fails the request before the head is touched (a scalar subquery of
 * two rows, an error in any sql_mode): the server runs none of the statements after an error,
 * the transaction is rolled back, and nothing was written. A batch of holds used to wait for two
 * round trips, and in a busy server each answer waits its turn in the event loop behind the HTTP
 * requests read meanwhile.
 *
 * A write with 'any' learns its stream's revision from the server first, in a request of its own
 * (the revision comes back through LAST_INSERT_ID), then sends the rest as above.
 *
 * A request longer than the server takes (max_allowed_packet) makes it drop the connection. An
 * append too long for one (a batch of hundreds of holds, each with its sealed holders, on a server
 * with a small max_allowed_packet) inserts its events in several requests instead, in the same
 * transaction and under the same head lock: still atomic, but every other append waits for its
 * round trips. A server with the default max_allowed_packet (16 MiB) never splits the concert
 * writer's batches: 500 holds of five tickets with their booking streams are about 3 MB.
 */
import type { Knex } from 'knex';
import { AppendTooLarge, type AppendResult, type StreamWrite } from '../port.ts';
import { mysqlString, wholeStatement } from '../../lib/db/mysql-literal.ts';
import { RevisionMismatch, codeOf, eventRow } from './rows.ts';

interface MysqlConnection {
  query(sql: string, values: readonly unknown[], callback: (error: Error | null, results: unknown) => void): void;
  destroy(): void;
}

/** The part of knex's client that lends out a driver connection. */
interface ConnectionLender {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

interface OkPacket {
  affectedRows: number;
  insertId: number;
}

/** Sends a request whose values are written in it already (mysqlString): the driver formats nothing. */
function query<T>(connection: MysqlConnection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => {
    connection.query('?', [wholeStatement(sql)], (error, results) => (error ? reject(error) : resolve(results as T)));
  });
}

export async function appendOnMysql(db: Knex, writes: readonly StreamWrite[], maxRequestBytes: number): Promise<AppendResult[]> {
  const lender = db.client as ConnectionLender;
  const connection = (await lender.acquireConnection()) as MysqlConnection;
  try {
    const learned = writes.some((write) => write.expected === 'any') ? await revisionsOfAny(connection, writes) : null;
    const opening = movesOf(writes, learned === null);
    const lastRevisions = writes.map(({ stream, events, expected }) => (expected === 'any' ? learned?.get(stream) as number : (expected === 'no_stream' ? -1 : expected) + events.length));
    const total = writes.reduce((sum, write) => sum + write.events.length, 0);
    const recordedAt = Date.now();
    const tuples: string[] = [];
    let offset = 0;
    const lastOffsets = writes.map((write, w) => {
      const firstRevision = (lastRevisions[w] as number) - write.events.length + 1;
      const stream = mysqlString(write.stream);
      write.events.forEach((event, i) => {
        const row = eventRow(write.stream, event, firstRevision + i, recordedAt);
        tuples.push(`(LAST_INSERT_ID() - ${total - 1 - offset}, ${stream}, ${row.revision}, ${mysqlString(row.event_id)}, ${mysqlString(row.type)}, ${mysqlString(row.data)}, ${mysqlString(row.metadata)}, ${row.recorded_at})`);
        offset++;
      });
      return offset - 1;
    });
    const head = `UPDATE es_head SET position = LAST_INSERT_ID(position + ${total}) WHERE id = 1`;
    const inserts = insertsWithin(tuples, maxRequestBytes - REQUEST_ROOM - opening.bytes, maxRequestBytes);
    let lastPosition = 0;
    for (const [i, insert] of inserts.entries()) {
      const first = i === 0 ? [...opening.statements, head] : [];
      const results = await query<OkPacket | OkPacket[]>(connection, concatenated([...first, insert, ...(i === inserts.length - 1 ? ['COMMIT'] : [])], ';\n'));
      // The head's update answers after the streams' statements: its insertId is the LAST_INSERT_ID it set, the append's last position.
      if (i === 0) lastPosition = Number((Array.isArray(results) ? results[opening.statements.length] : results)?.insertId);
    }
    if (!Number.isSafeInteger(lastPosition) || lastPosition < total) throw new Error(`an append was committed but its position was not answered (${lastPosition})`);
    return writes.map((_, w) => ({
      nextExpectedRevision: lastRevisions[w] as number,
      position: lastPosition - (total - 1 - (lastOffsets[w] as number)),
    }));
  } catch (error) {
    await query(connection, 'ROLLBACK').catch(() => connection.destroy());
    // The streams' guard: one was not at its expected revision.
    throw codeOf(error) === 'ER_SUBQUERY_NO_1_ROW' ? new RevisionMismatch() : error;
  } finally {
    await lender.releaseConnection(connection);
  }
}

const INSERT_EVENTS = 'INSERT INTO es_events (position, stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ';

/** What a request holds besides its events' values: the head's update, the INSERT's start, COMMIT. */
const REQUEST_ROOM = 1024;

/**
 * The INSERT statements of the events' values, each at most `maxBytes` long: one, unless the
 * values are too long for one request. Sizes are counted in bytes only when the characters could
 * be: at most 3 bytes of UTF-8 each (a surrogate pair is 2 characters for 4 bytes).
 */
function insertsWithin(tuples: readonly string[], maxBytes: number, maxRequestBytes: number): string[] {
  let characters = INSERT_EVENTS.length;
  for (const tuple of tuples) characters += tuple.length + 2;
  if (characters * 3 <= maxBytes) return [INSERT_EVENTS + concatenated(tuples, ', ')];
  const inserts: string[] = [];
  let part: string[] = [];
  let bytes = INSERT_EVENTS.length;
  for (const tuple of tuples) {
    const size = Buffer.byteLength(tuple) + 2;
    if (INSERT_EVENTS.length + size > maxBytes) {
      throw new AppendTooLarge(`an event of ${size} bytes does not fit in a statement of this database (max_allowed_packet ${maxRequestBytes} bytes)`, maxRequestBytes);
    }
    if (bytes + size > maxBytes) {
      inserts.push(INSERT_EVENTS + concatenated(part, ', '));
      part = [];
      bytes = INSERT_EVENTS.length;
    }
    part.push(tuple);
    bytes += size;
  }
  inserts.push(INSERT_EVENTS + concatenated(part, ', '));
  return inserts;
}

/**
 * The parts with the separator between them. Added, not joined: an added string only points at
 * its parts until the driver writes the request into its packet and reads it whole, once, while
 * a join copies every character. A batch's request is tens of kilobytes of events' JSON: in the
 * flash sale the append allocated 15.1 KB a booking with two joins, 12.8 KB with this, all of it
 * garbage for the young generation's collector.
 */
function concatenated(parts: readonly string[], separator: string): string {
  let text = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) text += separator + (parts[i] as string);
  return text;
}

/**
 * The statements that move the revision of every stream with a known expected revision on by its
 * event count (and open the transaction, unless revisionsOfAny did): the streams that exist move
 * only from their expected revision, each one that does counted in @es_moved, and the request
 * fails unless all did; the new streams are one multi-row INSERT (one that exists fails it on the
 * primary key). Their length in bytes is what an insert sent with them has less room for.
 */
function movesOf(writes: readonly StreamWrite[], open: boolean): { statements: string[]; bytes: number } {
  const statements = [...(open ? ['START TRANSACTION'] : []), 'SET @es_moved = 0'];
  const created: string[] = [];
  let moved = 0;
  for (const { stream, events, expected } of writes) {
    if (expected === 'any') continue;
    if (expected === 'no_stream') {
      created.push(`(${mysqlString(stream)}, ${events.length - 1})`);
      continue;
    }
    statements.push(`UPDATE es_streams SET revision = ${expected + events.length} WHERE stream_id = ${mysqlString(stream)} AND revision = ${expected}`, 'SET @es_moved = @es_moved + ROW_COUNT()');
    moved++;
  }
  // Every stream moved, or the request fails here, before the head's lock: the subquery's second
  // row is an error (ER_SUBQUERY_NO_1_ROW) in any sql_mode, and it is read only when one did not.
  if (moved > 0) statements.push(`SET @es_moved = IF(@es_moved = ${moved}, @es_moved, (SELECT 1 UNION ALL SELECT 2))`);
  if (created.length > 0) statements.push(`INSERT INTO es_streams (stream_id, revision) VALUES ${created.join(', ')}`);
  let bytes = 0;
  for (const statement of statements) bytes += Buffer.byteLength(statement) + 2;
  return { statements, bytes };
}

/**
 * Opens the transaction and learns the revision of each stream written with 'any', in one request
 * (the rest of the streams go in the next): created, or moved on by its event count, the new
 * revision coming back through LAST_INSERT_ID when it moved. Returns the last revisions by stream.
 */
async function revisionsOfAny(connection: MysqlConnection, writes: readonly StreamWrite[]): Promise<Map<string, number>> {
  const any = writes.filter((write) => write.expected === 'any');
  const statements = any.map(({ stream, events }) => `INSERT INTO es_streams (stream_id, revision) VALUES (${mysqlString(stream)}, ${events.length - 1}) ON DUPLICATE KEY UPDATE revision = LAST_INSERT_ID(revision + ${events.length})`);
  const results = await query<OkPacket[]>(connection, ['START TRANSACTION', ...statements].join(';\n'));
  // affectedRows: 1 inserted, 2 updated.
  return new Map(any.map(({ stream, events }, i) => {
    const result = results[i + 1] as OkPacket;
    return [stream, result.affectedRows === 1 ? events.length - 1 : Number(result.insertId)];
  }));
}
