/**
 * Append throughput of the SQL event store on MariaDB, next to a raw baseline measured in the
 * same run on the same server: plain INSERTs of the same rows into a table with the same columns
 * and unique indexes, but an auto-increment key and no ordering guarantee, no expected-revision
 * check and no stream table. The difference is the price of gap-free, commit-ordered positions
 * and optimistic concurrency.
 *
 * 8 concurrent writers, each appending to streams of its own, 1 and then 20 events per append.
 * Ours and the baseline alternate in rounds so that drift on the machine hits both alike.
 */
import { randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { withDatabase } from './database.ts';
import type { EventToAppend } from '../eventstore/port.ts';
import { ascending, quantile } from './quantile.ts';

export interface AppendFigures {
  readonly eventsPerAppend: number;
  readonly ours: Measurement;
  readonly baseline: Measurement;
}

export interface Measurement {
  /** Median over rounds. */
  readonly eventsPerSecond: number;
  readonly appendP50Ms: number;
  readonly appendP99Ms: number;
  readonly rounds: readonly number[];
}

const WRITERS = 8;
const STREAMS_PER_WRITER = 16;

/** A SeatsHeld-sized event: what the hot concert stream carries. */
function payload(writer: number, n: number): EventToAppend {
  const id = randomUUID();
  return {
    id,
    type: 'SeatsHeld',
    data: {
      concert_id: '2f0c5a8e-6a1b-4c1e-9d0a-7b3e5f1c2d4a',
      booking_id: randomUUID(),
      user_id: `user-${writer}-${n}`,
      seats: [{ seat_id: '7f3e2d1c-0b9a-4876-a543-000000000005', ticket_class_id: '7f3e2d1c-0b9a-4876-a543-210fedcba987', seat_number: 5, price: 500_000 }],
      total_price: 500_000,
      ktp_fingerprints: ['5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'],
      held_at: '2026-12-01T10:00:00.000Z',
      expires_at: '2026-12-01T10:15:00.000Z',
    },
    metadata: {
      event_id: id,
      correlation_id: randomUUID(),
      causation_id: randomUUID(),
      actor_id: `user-${writer}-${n}`,
      schema_version: 1,
      occurred_at: '2026-12-01T10:00:00.000Z',
    },
  };
}

interface Round {
  events: number;
  latenciesMs: number[];
  seconds: number;
}

/** Runs `appendOnce` from 8 writers for `seconds` and counts what got appended. */
async function drive(seconds: number, appendOnce: (writer: number, round: number) => Promise<number>): Promise<Round> {
  const latenciesMs: number[] = [];
  let events = 0;
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  await Promise.all(Array.from({ length: WRITERS }, async (_, writer) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const before = performance.now();
      // Not `events += await …`: that reads `events` before the await and loses other writers' counts.
      const appended = await appendOnce(writer, n);
      events += appended;
      latenciesMs.push(performance.now() - before);
    }
  }));
  return { events, latenciesMs, seconds: (performance.now() - started) / 1_000 };
}

function summarize(rounds: Round[]): Measurement {
  const rates = ascending(rounds.map((round) => round.events / round.seconds));
  const latencies = ascending(rounds.flatMap((round) => round.latenciesMs));
  return {
    eventsPerSecond: quantile(rates, 0.5),
    appendP50Ms: quantile(latencies, 0.5),
    appendP99Ms: quantile(latencies, 0.99),
    rounds: rates.map(Math.round),
  };
}

async function oursRound(serverUrl: string, eventsPerAppend: number, seconds: number): Promise<Round> {
  return withDatabase(serverUrl, async (url) => {
    const store = await SqlEventStore.open({ client: 'mysql2', url, poolSize: WRITERS });
    try {
      const revisions = new Map<string, number>();
      return await drive(seconds, async (writer, n) => {
        const stream = `concert-${writer}-${n % STREAMS_PER_WRITER}`;
        const expected = revisions.get(stream) ?? 'no_stream';
        const events = Array.from({ length: eventsPerAppend }, (_, i) => payload(writer, n * eventsPerAppend + i));
        const result = await store.append(stream, events, expected);
        revisions.set(stream, result.nextExpectedRevision);
        return eventsPerAppend;
      });
    } finally {
      await store.close();
    }
  });
}

async function baselineRound(serverUrl: string, eventsPerAppend: number, seconds: number): Promise<Round> {
  return withDatabase(serverUrl, async (url) => {
    const db: Knex = knex({ client: 'mysql2', connection: url, pool: { min: 0, max: WRITERS } });
    try {
      await db.schema.createTable('raw_events', (table) => {
        table.bigIncrements('position');
        table.string('stream_id', 255).collate('utf8mb4_bin').notNullable();
        table.bigInteger('revision').unsigned().notNullable();
        table.string('event_id', 36).collate('utf8mb4_bin').notNullable();
        table.string('type', 255).collate('utf8mb4_bin').notNullable();
        table.text('data', 'longtext').notNullable();
        table.text('metadata', 'longtext').notNullable();
        table.bigInteger('recorded_at').notNullable();
        table.unique(['stream_id', 'revision']);
        table.unique(['event_id']);
      });
      const next = new Map<string, number>();
      return await drive(seconds, async (writer, n) => {
        const stream = `concert-${writer}-${n % STREAMS_PER_WRITER}`;
        const first = next.get(stream) ?? 0;
        next.set(stream, first + eventsPerAppend);
        const recordedAt = Date.now();
        await db('raw_events').insert(Array.from({ length: eventsPerAppend }, (_, i) => {
          const event = payload(writer, n * eventsPerAppend + i);
          return {
            stream_id: stream,
            revision: first + i,
            event_id: event.id,
            type: event.type,
            data: JSON.stringify(event.data),
            metadata: JSON.stringify(event.metadata),
            recorded_at: recordedAt,
          };
        }));
        return eventsPerAppend;
      });
    } finally {
      await db.destroy();
    }
  });
}

export async function benchAppends(serverUrl: string, options: { rounds: number; seconds: number }): Promise<AppendFigures[]> {
  const figures: AppendFigures[] = [];
  for (const eventsPerAppend of [1, 20]) {
    // A short unmeasured round of each warms the server and the JIT.
    await baselineRound(serverUrl, eventsPerAppend, 1);
    await oursRound(serverUrl, eventsPerAppend, 1);
    const ours: Round[] = [];
    const baseline: Round[] = [];
    for (let round = 0; round < options.rounds; round++) {
      baseline.push(await baselineRound(serverUrl, eventsPerAppend, options.seconds));
      ours.push(await oursRound(serverUrl, eventsPerAppend, options.seconds));
    }
    figures.push({ eventsPerAppend, ours: summarize(ours), baseline: summarize(baseline) });
  }
  return figures;
}
