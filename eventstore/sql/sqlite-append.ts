/**
 * The append transaction on SQLite. SQLite has one writer at a time, so commit order is append
 * order; the head row is still what hands out positions, as on MySQL, so both read the same way.
 * Nothing here crosses a network, so plain knex statements cost nothing worth saving.
 */
import type { Knex } from 'knex';
import type { AppendResult, EventToAppend, ExpectedRevision } from '../port.ts';
import { RevisionMismatch, eventRow } from './rows.ts';

export async function appendOnSqlite(
  db: Knex,
  stream: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const count = events.length;
  return db.transaction(async (trx) => {
    const last = await advanceStream(trx, stream, expected, count);
    const lastPosition = await increment(trx, 'es_head', 'position', 'id', 1, count);
    if (lastPosition === null) throw new Error('es_head has no row: the event store migration did not run');
    const recordedAt = Date.now();
    await trx('es_events').insert(events.map((event, i) => ({
      position: lastPosition - count + 1 + i,
      ...eventRow(stream, event, last - count + 1 + i, recordedAt),
    })));
    return { nextExpectedRevision: last, position: lastPosition };
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
