/**
 * Rebuild throughput of the projections on MariaDB: a booking-flow history appended to the event
 * store, then every projection rebuilt blue/green at once (shadow tables filled from position 0,
 * swapped in), next to a raw baseline measured in the same run on the same server: multi-row
 * INSERTs of read-model-sized rows, as many connections as there are projections, no reading,
 * no folding, no checkpoint.
 */
import { randomUUID } from 'node:crypto';
import knex from 'knex';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { Projectors } from '../projectors/projectors.ts';
import { openReadModels } from '../read-models/database.ts';
import { InProcessPositions } from '../read-models/positions.ts';
import { appendBookingFlow } from '../test/support/booking-flow.ts';
import { watchMachine } from './cpu-time.ts';
import { withDatabase } from './database.ts';

export interface RebuildFigures {
  readonly bookings: number;
  readonly events: number;
  readonly rows: number;
  readonly appendSeconds: number;
  readonly ours: { readonly seconds: number; readonly eventsPerSecond: number; readonly perProjection: Record<string, number>; readonly stealPercent: number };
  readonly baseline: { readonly rows: number; readonly connections: number; readonly seconds: number; readonly rowsPerSecond: number; readonly stealPercent: number };
}

const ROWS_PER_INSERT = 1_000;

export async function benchRebuild(serverUrl: string, options: { bookings: number; log: (line: string) => void }): Promise<RebuildFigures> {
  return withDatabase(serverUrl, async (url) => {
    const store = await SqlEventStore.open({ client: 'mysql2', url });
    const db = await openReadModels({ client: 'mysql2', url });
    try {
      const appendStart = performance.now();
      let told = 0;
      const flow = await appendBookingFlow(store, {
        users: 20_000, concerts: 20, classSeats: [7_000, 28_000], bookings: options.bookings, chunk: 500,
        onProgress: (appended) => {
          if (appended - told >= 100_000) options.log(`  appended ${(told = appended).toLocaleString('en-US')} events`);
        },
      });
      const appendSeconds = (performance.now() - appendStart) / 1000;
      options.log(`  ${flow.events.toLocaleString('en-US')} events appended in ${appendSeconds.toFixed(1)} s`);

      const projectors = await Projectors.open({ db, store, positions: new InProcessPositions(), onError: (error) => options.log(`  error: ${String(error)}`) });
      const perProjection: Record<string, number> = {};
      const machine = await watchMachine([]);
      const start = performance.now();
      await projectors.rebuildMany([...projectors.projections.values()].filter((projection) => projection.tables.length > 0).map((projection) => projection.name), (progress) => {
        if (progress.phase === 'done') perProjection[progress.projection] = (performance.now() - start) / 1000;
      });
      const seconds = (performance.now() - start) / 1000;
      const { stealPercent: steal } = await machine.stop();
      const rows = await countRows(db);
      options.log(`  rebuilt ${flow.head.toLocaleString('en-US')} events into ${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s`);

      const baseline = await rawInserts(url, flow.head, projectors.projections.size);
      options.log(`  raw: ${baseline.rows.toLocaleString('en-US')} rows in ${baseline.seconds.toFixed(1)} s`);
      return {
        bookings: options.bookings,
        events: flow.head,
        rows,
        appendSeconds,
        ours: { seconds, eventsPerSecond: flow.head / seconds, perProjection, stealPercent: steal },
        baseline,
      };
    } finally {
      await db.destroy();
      await store.close();
    }
  });
}

async function countRows(db: knex.Knex): Promise<number> {
  let total = 0;
  for (const table of ['users', 'concerts', 'ticket_classes', 'seats', 'bookings', 'booking_seats', 'buyers', 'ticket_holders', 'payments']) {
    const [row] = await db(table).count<{ n: number }[]>({ n: '*' });
    total += Number(row?.n ?? 0);
  }
  return total;
}

/** As many rows as there were events, read-model-shaped, over `connections` connections at once. */
async function rawInserts(url: string, rows: number, connections: number): Promise<RebuildFigures['baseline']> {
  const db = knex({ client: 'mysql2', connection: url, pool: { min: 0, max: connections } });
  try {
    await db.schema.createTable('raw_rows', (table) => {
      table.string('id', 36).primary();
      table.string('owner_id', 36).notNullable().index();
      table.string('status', 16).notNullable();
      table.bigInteger('amount').notNullable();
      table.string('created_at', 24).notNullable();
      table.bigInteger('position').notNullable();
    });
    const at = new Date().toISOString();
    const perConnection = Math.ceil(rows / connections);
    const machine = await watchMachine([]);
    const start = performance.now();
    await Promise.all(Array.from({ length: connections }, async (_, c) => {
      for (let done = 0; done < perConnection; done += ROWS_PER_INSERT) {
        const batch = Array.from({ length: Math.min(ROWS_PER_INSERT, perConnection - done) }, (_, i) => ({
          id: randomUUID(), owner_id: randomUUID(), status: 'pending', amount: 500_000, created_at: at, position: c * perConnection + done + i,
        }));
        await db('raw_rows').insert(batch);
      }
    }));
    const seconds = (performance.now() - start) / 1000;
    const { stealPercent: steal } = await machine.stop();
    return { rows: perConnection * connections, connections, seconds, rowsPerSecond: (perConnection * connections) / seconds, stealPercent: steal };
  } finally {
    await db.schema.dropTableIfExists('raw_rows');
    await db.destroy();
  }
}
