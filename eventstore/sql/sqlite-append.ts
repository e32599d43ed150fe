/**
 * The append transaction on SQLite, for one or several streams. SQLite has one writer at a
 * time, so commit order is append order; the head row still hands out the positions, as on
 * MySQL, so both read the same way. Nothing here crosses a network, so plain knex statements
 * cost nothing worth saving.
 */
import type { Knex } from 'knex';
import type { AppendResult, ExpectedRevision, StreamWrite } from '../port.ts';
import { RevisionMismatch, eventRow } from './rows.ts';

/** SQLite's default limit on the terms of one compound SELECT (SQLITE_MAX_COMPOUND_SELECT). */
const SQLITE_MAX_COMPOUND_SELECT = 500;

export async function appendOnSqlite(db: Knex, writes: readonly StreamWrite[]): Promise<AppendResult[]> {
  return db.transaction(async (trx) => {
    const lastRevisions: number[] = [];
    for (const { stream, events, expected } of writes) lastRevisions.push(await advanceStream(trx, stream, expected, events.length));
    const total = writes.reduce((sum, write) => sum + write.events.length, 0);
    const lastPosition = await increment(trx, 'es_head', 'position', 'id', 1, total);
    if (lastPosition === null) throw new Error('es_head has no row: the event store migration did not run');
    const recordedAt = Date.now();
    let position = lastPosition - total;
    const rows = [];
    const results: AppendResult[] = [];
    for (const [w, write] of writes.entries()) {
      const last = lastRevisions[w] as number;
      for (const [i, event] of write.events.entries()) {
        rows.push({ position: ++position, ...eventRow(write.stream, event, last - write.events.length + 1 + i, recordedAt) });
      }
      results.push({ nextExpectedRevision: last, position });
    }
    // knex writes a multi-row INSERT on SQLite as one compound SELECT, and SQLite takes at most
    // 500 terms in one: insert in slices.
    for (let i = 0; i < rows.length; i += SQLITE_MAX_COMPOUND_SELECT) await trx('es_events').insert(rows.slice(i, i + SQLITE_MAX_COMPOUND_SELECT));
    return results;
  });
}

async function advanceStream(trx: Knex.Transaction, stream: string, expected: ExpectedRevision, count: number): Promise<number> {
  if (expected === 'no_stream') {
    await trx('es_streams').insert({ stream_id: stream, revision: count - 1 });
    return count - 1;
  }
  if (typeof expected === 'number') {
    const updated = await trx('es_streams').where({ stream_id: stream, revision: expected }).update({ revision: expected + count });
    if (updated !== 1) throw new RevisionMismatch();
    return expected + count;
  }
  const revision = await increment(trx, 'es_streams', 'revision', 'stream_id', stream, count);
  if (revision !== null) return revision;
  await trx('es_streams').insert({ stream_id: stream, revision: count - 1 });
  return count - 1;
}

/** `column = column + by` on one row, returning the new value; null when there is no such row. */
async function increment(trx: Knex.Transaction, table: string, column: string, key: string, value: string | number, by: number): Promise<number | null> {
  const rows = await trx.raw<{ value: number | string }[]>('UPDATE ?? SET ?? = ?? + ? WHERE ?? = ? RETURNING ?? AS value', [
    table, column, column, by, key, value, column,
  ]);
  const row = rows[0];
  return row === undefined ? null : Number(row.value);
}
