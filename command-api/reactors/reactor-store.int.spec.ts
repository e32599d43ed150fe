import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import t, { type Test } from 'tap';
import { eventAndReactorStores, freshMysqlDatabase } from '../../test/support/services.ts';
import { ReactorStore } from './reactor-store.ts';

async function open(t: Test, client: 'mysql2' | 'better-sqlite3'): Promise<ReactorStore> {
  let store: ReactorStore;
  if (client === 'mysql2') {
    store = await ReactorStore.open({ client, url: await freshMysqlDatabase(t) });
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'boxoffice-reactors-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    store = await ReactorStore.open({ client, filename: join(dir, 'reactors.sqlite') });
  }
  t.teardown(() => store.close());
  return store;
}

/** `index.column` of every secondary index of hold_deadlines, in each index's column order. */
async function secondaryIndexColumns(db: Knex, client: 'mysql2' | 'better-sqlite3'): Promise<string[]> {
  if (client === 'mysql2') {
    const [rows = []] = await db.raw<[{ name: string; col: string }[]]>("SELECT index_name AS name, column_name AS col FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'hold_deadlines' AND index_name <> 'PRIMARY' ORDER BY index_name, seq_in_index");
    return rows.map((row) => `${row.name}.${row.col}`);
  }
  const columns: string[] = [];
  for (const index of await db.raw<{ name: string; origin: string }[]>("PRAGMA index_list('hold_deadlines')")) {
    if (index.origin !== 'c') continue; // the primary key's own index
    for (const column of await db.raw<{ name: string }[]>(`PRAGMA index_info('${index.name}')`)) columns.push(`${index.name}.${column.name}`);
  }
  return columns;
}

for (const client of ['mysql2', 'better-sqlite3'] as const) {
  t.test(`${client}: due times are indexed by time, then concert: a round that leaves concerts out reads them from the index`, async (t) => {
    const { reactors: connection } = await eventAndReactorStores(t, client);
    await (await ReactorStore.open(connection)).close();
    const db = knex(connection.client === 'mysql2' ? { client: 'mysql2', connection: connection.url } : { client: 'better-sqlite3', connection: { filename: connection.filename }, useNullAsDefault: true });
    t.teardown(() => db.destroy());
    const columns = await secondaryIndexColumns(db, connection.client);
    t.strictSame(columns, ['hold_deadlines_expires_at_concert.expires_at', 'hold_deadlines_expires_at_concert.concert_id']);
  });

  t.test(`${client}: a checkpoint only moves forward, and many first writes at once all succeed`, async (t) => {
    const store = await open(t, client);
    t.equal(await store.checkpoint('bookings'), 0);
    // Twenty instances write their first checkpoint at the same moment (it deadlocked on MySQL).
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.advance('bookings', 100 + i)));
    t.equal(await store.checkpoint('bookings'), 119, 'the furthest wins');
    await store.advance('bookings', 50);
    t.equal(await store.checkpoint('bookings'), 119, 'never back');
    await store.advance('bookings', 500);
    t.equal(await store.checkpoint('bookings'), 500);
    t.equal(await store.checkpoint('payments'), 0, 'each reactor its own');
  });

  t.test(`${client}: a parked event is one row per reactor and event, its tries added up and its reason the newest`, async (t) => {
    const store = await open(t, client);
    const event = { id: '5f0c6f0e-8a3c-4b0e-9a51-0d6f1c2b3a4d', position: 42, stream: 'payment-p1', type: 'PaymentSucceeded' };
    // Two instances of the reactor park the same event at once.
    await Promise.all([store.park('payments', event, 'Error: first', 5, 1_000), store.park('payments', event, 'Error: first', 5, 1_000)]);
    await store.park('payments', event, 'Error: second', 1, 2_000);
    await store.park('bookings', { ...event, id: 'b3a4d5f0-8a3c-4b0e-9a51-0d6f1c2b3a4d', position: 40 }, 'x'.repeat(900), 5, 1_500);
    t.match(await store.parked('payments'), [{
      reactor: 'payments', eventId: event.id, position: 42, stream: 'payment-p1', type: 'PaymentSucceeded', reason: 'Error: second',
      tries: 11, firstFailedAt: new Date(1_000).toISOString(), lastFailedAt: new Date(2_000).toISOString(),
    }]);
    t.equal((await store.parked('bookings'))[0]?.reason.length, 500, 'a long reason is trimmed to its column');
    t.strictSame([await store.parkedCount('bookings'), await store.parkedCount('payments'), await store.parkedCount('refunds')], [1, 1, 0]);
    t.equal(await store.unpark('payments', event.id), true);
    t.equal(await store.unpark('payments', event.id), false, 'once');
    t.strictSame((await store.parked()).map((row) => row.reactor), ['bookings']);
  });

  t.test(`${client}: due times and tickets by the thousand, in one call each`, async (t) => {
    const store = await open(t, client);
    // More than SQLite takes in one multi-row INSERT (500 rows): two full batches of holds written at once.
    const many = Array.from({ length: 1_200 }, (_, i) => ({ bookingId: `booking-${i}`, concertId: 'concert-1', expiresAt: 1_000 + i }));
    await store.addDeadlines(many);
    await store.addDeadlines(many.slice(0, 600));
    t.strictSame(await store.due(Number.MAX_SAFE_INTEGER, 2_000), many, 'every due time once, oldest first');
    await store.addTickets(many.map((deadline) => ({ ticketId: `ticket-${deadline.bookingId}`, concertId: deadline.concertId })));
    t.strictSame(await Promise.all(['ticket-booking-0', 'ticket-booking-1199', 'ticket-booking-1200'].map((ticket) => store.concertOfTicket(ticket))), ['concert-1', 'concert-1', null]);
  });
}
