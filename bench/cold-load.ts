/**
 * Cold load of a concert's inventory: how long a command-api instance that has never seen the
 * concert takes before it can decide its first command, for a stream of 1,000 events and one of
 * 1,000,000. Both streams are written by the real batching writer with the production snapshot
 * policy (holds of one seat and their cancellations, as a long sale with much coming and going
 * would leave); a cold writer loads the newest snapshot and folds the tail. Also measured: the
 * full replay a store without snapshots would need, and the snapshot's size (its JSON, and as
 * stored: gzipped when big).
 */
import { randomUUID } from 'node:crypto';
import { concertDecider, concertEvents, concertStream, type ConcertCommand } from '../domain/concert/index.ts';
import type { CommandContext } from '../domain/index.ts';
import knex from 'knex';
import { ConcertWriter, DEFAULT_SNAPSHOT_EVERY } from '../command-api/concerts/concert-writer.ts';
import { decode } from '../eventstore/decode.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import type { EventStore } from '../eventstore/port.ts';
import { withDatabase } from './database.ts';
import { ascending, quantile } from './quantile.ts';

export interface ColdLoadFigures {
  readonly events: number;
  /** Median of the cold loads, ms. */
  readonly loadMs: number;
  readonly loadsMs: readonly number[];
  /** The same stream folded from its first event, ms (median). */
  readonly replayMs: number;
  readonly snapshotRevision: number;
  /** The snapshot's JSON. */
  readonly snapshotBytes: number;
  /** The snapshot as the store keeps it (gzipped and base64 when big). */
  readonly storedBytes: number;
  /** Events after the snapshot, folded by every cold load. */
  readonly tail: number;
}

const SEATS = 1_000;
const WAVE = 500;

function context(): CommandContext {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actorId: null, occurredAt: new Date().toISOString() };
}

function median(values: readonly number[]): number {
  return quantile(ascending(values), 0.5);
}

/** A concert whose stream has about `events` events, written through the batching writer. */
async function writeConcert(store: EventStore, events: number, log: (line: string) => void): Promise<string> {
  const writer = new ConcertWriter(store, { queueLimit: 1_000_000, maxBatch: 500, snapshotEvery: DEFAULT_SNAPSHOT_EVERY, onBackgroundError: (error) => log(`  background: ${String(error)}`) });
  const concertId = randomUUID();
  const classId = randomUUID();
  const submit = (command: ConcertCommand) => writer.submit(concertId, command, context());
  const now = () => new Date().toISOString();
  await submit({
    type: 'ScheduleConcert', concert_id: concertId, name: 'Cold Load', artist: 'Bench', date: '2099-03-01T12:00:00.000Z', venue: 'GBK',
    description: null, image_url: null, max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null,
    ticket_classes: [{ ticket_class_id: classId, name: 'Festival', price: 500_000, seat_count: SEATS }], publish: true, now: now(),
  });
  let written = 2;
  let reported = 0;
  while (written < events) {
    const wave = Math.min(WAVE, Math.ceil((events - written) / 2));
    const bookings = Array.from({ length: wave }, () => randomUUID());
    const expiresAt = new Date(Date.now() + 900_000).toISOString();
    await Promise.all(bookings.map((bookingId) => submit({
      type: 'HoldSeats', booking_id: bookingId, user_id: randomUUID(), selection: { by: 'class', tickets: [{ ticket_class_id: classId, quantity: 1 }] },
      ktp_fingerprints: [randomUUID()], personal_data: null, expires_at: expiresAt, now: now(), never_held: true,
    })));
    await Promise.all(bookings.map((bookingId) => submit({ type: 'ReleaseHold', booking_id: bookingId, reason: 'cancelled', now: now() })));
    written += wave * 2;
    if (written - reported >= 100_000) {
      reported = written;
      log(`  ${written.toLocaleString('en-US')} events written`);
    }
  }
  await writer.drain();
  return concertId;
}

async function coldLoad(store: EventStore, concertId: string): Promise<number> {
  const writer = new ConcertWriter(store, { queueLimit: 10, maxBatch: 1, snapshotEvery: DEFAULT_SNAPSHOT_EVERY, onBackgroundError: () => undefined });
  const started = performance.now();
  await writer.read(concertId, (state) => state.status);
  const elapsed = performance.now() - started;
  await writer.drain();
  return elapsed;
}

async function fullReplay(store: EventStore, concertId: string): Promise<number> {
  const started = performance.now();
  let state = concertDecider.initialState();
  for (const recorded of await store.readStream(concertStream(concertId))) state = concertDecider.evolve(state, decode(recorded, concertEvents));
  return performance.now() - started;
}

export async function benchColdLoad(mysqlServerUrl: string, options: { sizes: readonly number[]; loads: number; log: (line: string) => void }): Promise<ColdLoadFigures[]> {
  return withDatabase(mysqlServerUrl, async (url) => {
    const store = await SqlEventStore.open({ client: 'mysql2', url });
    const db = knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
    try {
      const figures: ColdLoadFigures[] = [];
      for (const size of options.sizes) {
        options.log(`  writing a concert of ${size.toLocaleString('en-US')} events`);
        const concertId = await writeConcert(store, size, options.log);
        const events = (await store.readStream(concertStream(concertId), { direction: 'backward', maxCount: 1 }))[0]?.revision ?? -1;
        const snapshot = await store.loadSnapshot(concertStream(concertId));
        // A snapshot too long for one statement is stored in pieces (sql-event-store.ts): counted with them.
        const [stored] = (await db.raw(
          'SELECT LENGTH(s.data) + COALESCE((SELECT SUM(LENGTH(p.data)) FROM es_snapshot_pieces p WHERE p.stream_id = s.stream_id AND p.revision = s.revision), 0) AS bytes FROM es_snapshots s WHERE s.stream_id = ?',
          [concertStream(concertId)],
        ) as [{ bytes: number | string }[]])[0];
        const loadsMs: number[] = [];
        for (let i = 0; i < options.loads; i++) loadsMs.push(await coldLoad(store, concertId));
        const replays: number[] = [];
        for (let i = 0; i < Math.min(3, options.loads); i++) replays.push(await fullReplay(store, concertId));
        figures.push({
          events: events + 1,
          loadMs: median(loadsMs),
          loadsMs,
          replayMs: median(replays),
          snapshotRevision: snapshot?.revision ?? -1,
          snapshotBytes: snapshot === null ? 0 : Buffer.byteLength(JSON.stringify(snapshot.data)),
          storedBytes: Number(stored?.bytes ?? 0),
          tail: events - (snapshot?.revision ?? -1),
        });
        options.log(`  ${(events + 1).toLocaleString('en-US')} events: cold load ${median(loadsMs).toFixed(1)} ms (snapshot at ${snapshot?.revision ?? 'none'}, tail ${events - (snapshot?.revision ?? -1)}), full replay ${median(replays).toFixed(0)} ms`);
      }
      return figures;
    } finally {
      await db.destroy();
      await store.close();
    }
  });
}
