/**
 * The append transaction on MariaDB/MySQL, in two round trips instead of five.
 *
 * Positions commit in order because the head row stays locked from the moment an append takes
 * its positions until it commits. Whatever happens inside that window is paid by every append
 * in turn, so the window must not contain a network round trip: the head update, the insert
 * and the COMMIT go to the server as one multi-statement request. The insert computes its
 * positions on the server from LAST_INSERT_ID(), so the client does not need them first.
 *
 *   1. START TRANSACTION; move the stream's revision (locks the stream row: concurrency check)
 *   2. UPDATE es_head … LAST_INSERT_ID(position + n); INSERT events; COMMIT
 */
import type { Knex } from 'knex';
import type { AppendResult, EventToAppend, ExpectedRevision } from '../port.ts';
import { RevisionMismatch, eventRow } from './rows.ts';

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

function query<T>(connection: MysqlConnection, sql: string, values: readonly unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    connection.query(sql, values, (error, results) => (error ? reject(error) : resolve(results as T)));
  });
}

export async function appendOnMysql(
  db: Knex,
  stream: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const lender = db.client as ConnectionLender;
  const connection = (await lender.acquireConnection()) as MysqlConnection;
  try {
    const count = events.length;
    const last = await advanceStream(connection, stream, expected, count);
    const firstRevision = last - count + 1;
    const recordedAt = Date.now();
    const values: unknown[] = [count];
    const tuples = events.map((event, i) => {
      const row = eventRow(stream, event, firstRevision + i, recordedAt);
      values.push(count - 1 - i, row.stream_id, row.revision, row.event_id, row.type, row.data, row.metadata, row.recorded_at);
      return '(LAST_INSERT_ID() - ?, ?, ?, ?, ?, ?, ?, ?)';
    });
    const [allocated] = await query<[OkPacket, ...unknown[]]>(connection, [
      'UPDATE es_head SET position = LAST_INSERT_ID(position + ?) WHERE id = 1;',
      `INSERT INTO es_events (position, stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ${tuples.join(', ')};`,
      'COMMIT',
    ].join('\n'), values);
    return { nextExpectedRevision: last, position: Number(allocated.insertId) };
  } catch (error) {
    await query(connection, 'ROLLBACK', []).catch(() => connection.destroy());
    throw error;
  } finally {
    await lender.releaseConnection(connection);
  }
}

/** Opens the transaction and moves the stream's revision on by `count`; returns the new revision. */
async function advanceStream(connection: MysqlConnection, stream: string, expected: ExpectedRevision, count: number): Promise<number> {
  if (expected === 'no_stream') {
    // A second writer creating the same stream fails on the primary key.
    await query(connection, 'START TRANSACTION; INSERT INTO es_streams (stream_id, revision) VALUES (?, ?)', [stream, count - 1]);
    return count - 1;
  }
  if (typeof expected === 'number') {
    const [, moved] = await query<[unknown, OkPacket]>(connection,
      'START TRANSACTION; UPDATE es_streams SET revision = ? WHERE stream_id = ? AND revision = ?',
      [expected + count, stream, expected]);
    if (moved.affectedRows !== 1) throw new RevisionMismatch();
    return expected + count;
  }
  const [, moved] = await query<[unknown, OkPacket]>(connection,
    'START TRANSACTION; UPDATE es_streams SET revision = LAST_INSERT_ID(revision + ?) WHERE stream_id = ?',
    [count, stream]);
  if (moved.affectedRows === 1) return Number(moved.insertId);
  await query(connection, 'INSERT INTO es_streams (stream_id, revision) VALUES (?, ?)', [stream, count - 1]);
  return count - 1;
}
