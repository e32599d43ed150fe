/**
 * The append transaction on MariaDB/MySQL: one or several streams, in two round trips.
 *
 * Positions commit in order because the head row stays locked from the moment an append takes
 * its positions until it commits. Whatever happens inside that window is paid by every append
 * in turn, so the window must not contain a network round trip: the head update, the insert
 * and the COMMIT go to the server as one multi-statement request. The insert computes its
 * positions on the server from LAST_INSERT_ID(), so the client does not need them first.
 *
 *   1. START TRANSACTION; move each stream's revision, new streams in one INSERT (locks the stream rows: the concurrency check)
 *   2. UPDATE es_head … LAST_INSERT_ID(position + n); INSERT every event; COMMIT
 */
import type { Knex } from 'knex';
import type { AppendResult, StreamWrite } from '../port.ts';
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

export async function appendOnMysql(db: Knex, writes: readonly StreamWrite[]): Promise<AppendResult[]> {
  const lender = db.client as ConnectionLender;
  const connection = (await lender.acquireConnection()) as MysqlConnection;
  try {
    const lastRevisions = await advanceStreams(connection, writes);
    const total = writes.reduce((sum, write) => sum + write.events.length, 0);
    const recordedAt = Date.now();
    const values: unknown[] = [total];
    const tuples: string[] = [];
    let offset = 0;
    const lastOffsets = writes.map((write, w) => {
      const firstRevision = (lastRevisions[w] as number) - write.events.length + 1;
      write.events.forEach((event, i) => {
        const row = eventRow(write.stream, event, firstRevision + i, recordedAt);
        values.push(total - 1 - offset, row.stream_id, row.revision, row.event_id, row.type, row.data, row.metadata, row.recorded_at);
        tuples.push('(LAST_INSERT_ID() - ?, ?, ?, ?, ?, ?, ?, ?)');
        offset++;
      });
      return offset - 1;
    });
    const [allocated] = await query<[OkPacket, ...unknown[]]>(connection, [
      'UPDATE es_head SET position = LAST_INSERT_ID(position + ?) WHERE id = 1;',
      `INSERT INTO es_events (position, stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ${tuples.join(', ')};`,
      'COMMIT',
    ].join('\n'), values);
    const lastPosition = Number(allocated.insertId);
    return writes.map((_, w) => ({
      nextExpectedRevision: lastRevisions[w] as number,
      position: lastPosition - (total - 1 - (lastOffsets[w] as number)),
    }));
  } catch (error) {
    await query(connection, 'ROLLBACK', []).catch(() => connection.destroy());
    throw error;
  } finally {
    await lender.releaseConnection(connection);
  }
}

/**
 * Opens the transaction and moves every stream's revision on by its event count, in one
 * request; returns the new revisions. New streams are one multi-row INSERT (a rush writes a
 * booking stream per booking): one that exists fails it on the primary key. A revision that
 * does not hold changes no row.
 */
async function advanceStreams(connection: MysqlConnection, writes: readonly StreamWrite[]): Promise<number[]> {
  const statements = ['START TRANSACTION'];
  const values: unknown[] = [];
  /** Each write's statement, by its index in the results; new streams have none of their own. */
  const statementOf: (number | null)[] = [];
  const created: unknown[] = [];
  for (const { stream, events, expected } of writes) {
    const count = events.length;
    if (expected === 'no_stream') {
      statementOf.push(null);
      created.push(stream, count - 1);
      continue;
    }
    statementOf.push(statements.length);
    if (typeof expected === 'number') {
      statements.push('UPDATE es_streams SET revision = ? WHERE stream_id = ? AND revision = ?');
      values.push(expected + count, stream, expected);
    } else {
      // Created, or moved on: LAST_INSERT_ID carries the new revision back when it moved.
      statements.push('INSERT INTO es_streams (stream_id, revision) VALUES (?, ?) ON DUPLICATE KEY UPDATE revision = LAST_INSERT_ID(revision + ?)');
      values.push(stream, count - 1, count);
    }
  }
  if (created.length > 0) {
    statements.push(`INSERT INTO es_streams (stream_id, revision) VALUES ${Array<string>(created.length / 2).fill('(?, ?)').join(', ')}`);
    values.push(...created);
  }
  const results = await query<OkPacket[]>(connection, statements.join(';\n'), values);
  return writes.map(({ events, expected }, w) => {
    const count = events.length;
    const index = statementOf[w];
    if (expected === 'no_stream' || index === null || index === undefined) return count - 1;
    const result = results[index] as OkPacket;
    if (typeof expected === 'number') {
      if (result.affectedRows !== 1) throw new RevisionMismatch();
      return expected + count;
    }
    // affectedRows: 1 inserted, 2 updated.
    return result.affectedRows === 1 ? count - 1 : Number(result.insertId);
  });
}
