/**
 * The holds this process writes with their booking streams get their due times from
 * HoldsIndexedHere, and the bookings reactor moves past them without reading them back, but only
 * once those due times are stored: anything else, or a failure, is read back and handled as before.
 * The real concert writer, reactor and runner on MariaDB.
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { bookingStream } from '../../domain/booking/index.ts';
import { concertStream, type ConcertEvent, type HoldSeats } from '../../domain/concert/index.ts';
import type { RecordedEvent, StreamWrite } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { CONCERT, HOLD_END, REGULAR, T0, holdByClass, regularSeat, scheduleConcert } from '../../test/support/concert-fixtures.ts';
import { eventually } from '../../test/support/eventually.ts';
import { sealed } from '../../test/support/sealed.ts';
import { eventAndReactorStores } from '../../test/support/services.ts';
import { bookingStreamsOf } from '../bookings/placement.ts';
import { BookingPlacer } from '../bookings/placer.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { ReactorStore } from './reactor-store.ts';
import { bookingsReactor, HoldsIndexedHere } from './reactors.ts';
import { ReactorRunner } from './runner.ts';

const context: CommandContext = { correlationId: 'req-1', causationId: 'req-1', actorId: null, occurredAt: T0 };

/** A hold of one regular seat with its buyer's details (a booking stream can be made from it). */
const hold = (bookingId: string, overrides: Partial<HoldSeats> = {}): HoldSeats => holdByClass(bookingId, randomUUID(), [{ ticket_class_id: REGULAR, quantity: 1 }], {
  personal_data: { buyer: sealed('buyer'), ticket_holders: [sealed('holder')] },
  ...overrides,
});

/**
 * A concert on sale, its writer telling `indexedHere` its batches, and the bookings reactor's
 * runner (not started) whose pages are recorded. `dueTimes`: what HoldsIndexedHere writes through
 * (the reactor store's addDeadlines by default).
 */
async function rig(t: Test, options: { dueTimes?: (reactors: ReactorStore) => ReactorStore['addDeadlines']; timeoutMs?: number; client?: 'mysql2' | 'better-sqlite3' } = {}) {
  const at = await eventAndReactorStores(t, options.client ?? 'mysql2');
  // No polls: between an append's commit and its telling, a poll would read what it commits.
  const store = await SqlEventStore.open({ ...at.events, pollIntervalMs: 3_600_000 });
  t.teardown(() => store.close());
  const reactors = await ReactorStore.open(at.reactors);
  t.teardown(() => reactors.close());
  const failures: unknown[] = [];
  const through = options.dueTimes?.(reactors);
  const indexedHere = new HoldsIndexedHere(through === undefined ? reactors : { addDeadlines: through }, { flushMs: 20, timeoutMs: options.timeoutMs ?? 5_000, onError: (error) => failures.push(error) });
  t.teardown(() => indexedHere.close());
  const writer = new ConcertWriter(store, {
    queueLimit: 100, maxBatch: 100, snapshotEvery: 1_000, onBackgroundError: (error) => t.fail(String(error)),
    companionsOf: bookingStreamsOf,
    writingTogether: (writes, events) => indexedHere.writing(writes, events),
  });
  await writer.submit(CONCERT, scheduleConcert(), context);
  const commands = new CommandHandler(store);
  const now = () => new Date(Date.parse(T0) + 3_600_000);
  const reactor = bookingsReactor({ store, commands, writer, placer: new BookingPlacer(store, commands), reactors, now, indexedHere });
  /** The events the reactor was handed: what it read back. */
  const readBack: RecordedEvent[] = [];
  const runner = new ReactorRunner(store, reactors, { ...reactor, handle: async (events) => {
    readBack.push(...events);
    await reactor.handle(events);
  } }, (error) => failures.push(error));
  t.teardown(() => runner.stop());
  /** Holds `count` seats at once (one batch, or a few), each with its booking stream; the position of the last append. */
  const holdSeats = async (bookingIds: readonly string[]): Promise<number> => {
    const written = await Promise.all(bookingIds.map((bookingId) => writer.submit(CONCERT, hold(bookingId), context)));
    return Math.max(...written.map((result) => Math.max(result.position, ...(result.companions ?? []))));
  };
  /** Starts the reactor and waits until it has passed everything before (its first read would otherwise read what is held meanwhile). */
  const start = async (): Promise<void> => {
    runner.start();
    const head = await store.headPosition();
    await eventually(async () => (await reactors.checkpoint('bookings')) >= head, 'the reactor caught up', 5_000);
  };
  const heldReadBack = () => readBack.filter((event) => event.type === 'SeatsHeld').length;
  const dueBookings = async () => (await reactors.due(Number.MAX_SAFE_INTEGER, 1_000)).map((deadline) => deadline.bookingId).sort();
  return { store, reactors, indexedHere, writer, runner, start, holdSeats, heldReadBack, dueBookings, failures };
}

for (const client of ['mysql2', 'better-sqlite3'] as const) {
  t.test(`${client}: holds written here with their booking streams are indexed as they are written and never read back`, async (t) => {
    await indexedAsWritten(t, await rig(t, { client }));
  });
}

async function indexedAsWritten(t: Test, r: Awaited<ReturnType<typeof rig>>): Promise<void> {
  await r.start();
  const bookingIds = Array.from({ length: 5 }, () => randomUUID());
  const position = await r.holdSeats(bookingIds);
  t.strictSame(await eventually(async () => (await r.dueBookings()).length === 5 && r.dueBookings(), 'the due times of the five holds'), [...bookingIds].sort(), 'every hold has its due time');
  t.strictSame((await r.reactors.due(Number.MAX_SAFE_INTEGER, 10)).map((deadline) => deadline.expiresAt), Array(5).fill(Date.parse(HOLD_END)), 'at its expires_at');
  // Past positions with nothing read, the checkpoint is stored at most a second later.
  await eventually(async () => (await r.reactors.checkpoint('bookings')) >= position, 'the reactor\'s checkpoint past the holds', 5_000);
  t.equal(r.heldReadBack(), 0, 'the reactor read none of them back');
  const placed = await r.store.streamRevisions(bookingIds.map(bookingStream));
  t.equal(placed.size, 5, 'and each booking stream is there, written with its hold');
  t.strictSame(r.failures, [], 'nothing failed');
}

t.test('the reactor moves past them only once their due times are stored: a crash before that leaves them to be read back', async (t) => {
  // The due times' write hangs (a database gone quiet): the reactor must neither read nor pass them meanwhile.
  const r = await rig(t, { dueTimes: () => () => new Promise<void>(() => undefined), timeoutMs: 4_000 });
  await r.start();
  const bookingIds = [randomUUID(), randomUUID()];
  const position = await r.holdSeats(bookingIds);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.ok(await r.reactors.checkpoint('bookings') < position, 'after 1.5 s the checkpoint is still before the holds');
  t.equal(r.heldReadBack(), 0, 'which were not read either');
  t.strictSame(await r.dueBookings(), [], 'and have no due time');
  // The process dies; the next one's reactor starts from the checkpoint.
  await r.runner.stop();
  const next = new ReactorRunner(r.store, r.reactors, bookingsReactor({
    store: r.store, commands: new CommandHandler(r.store), writer: r.writer, placer: new BookingPlacer(r.store, new CommandHandler(r.store)), reactors: r.reactors, now: () => new Date(Date.parse(T0) + 3_600_000),
  }), (error) => t.fail(String(error)));
  next.start();
  t.teardown(() => next.stop());
  t.strictSame(await eventually(async () => (await r.dueBookings()).length === 2 && r.dueBookings(), 'the holds indexed after the restart'), [...bookingIds].sort(), 'the next process reads them back and indexes them');
});

t.test('when their due times cannot be written, the holds are read back and indexed by the reactor', async (t) => {
  let refused = 0;
  const r = await rig(t, {
    dueTimes: () => async () => {
      refused++;
      throw new Error('the reactor store refused the due times');
    },
  });
  await r.start();
  const bookingIds = [randomUUID(), randomUUID(), randomUUID()];
  await r.holdSeats(bookingIds);
  t.strictSame(await eventually(async () => (await r.dueBookings()).length === 3 && r.dueBookings(), 'the due times, from the reactor'), [...bookingIds].sort(), 'every hold is indexed');
  t.equal(r.heldReadBack(), 3, 'by the reactor, which read them back');
  t.ok(refused >= 1, 'after the write here failed');
  t.match(r.failures, [{ message: /refused the due times/ }], 'which was reported');
});

t.test('a write of due times that takes too long is given up: its holds are read back', async (t) => {
  const r = await rig(t, { dueTimes: () => () => new Promise<void>(() => undefined), timeoutMs: 200 });
  await r.start();
  const bookingId = randomUUID();
  await r.holdSeats([bookingId]);
  t.strictSame(await eventually(async () => (await r.dueBookings()).length === 1 && r.dueBookings(), 'the due time, from the reactor'), [bookingId], 'the hold is indexed');
  t.equal(r.heldReadBack(), 1, 'by the reactor');
  t.match(r.failures, [{ message: /did not answer within 200 ms/ }], 'the given-up write was reported');
});

t.test('a batch is taken on only when the reactor would do nothing else with it', async (t) => {
  const r = await rig(t);
  const [first, second] = [randomUUID(), randomUUID()];
  const held = (bookingId: string, passId?: string): ConcertEvent => ({
    type: 'SeatsHeld',
    data: {
      concert_id: CONCERT, booking_id: bookingId, user_id: randomUUID(), seats: [{ seat_id: regularSeat(1), ticket_class_id: REGULAR, seat_number: 1, price: 500_000 }],
      total_price: 500_000, ktp_fingerprints: [], personal_data: null, held_at: T0, expires_at: HOLD_END, ...(passId === undefined ? {} : { pass_id: passId }),
    },
  });
  const writesOf = (bookingIds: readonly string[]): StreamWrite[] => [
    { stream: concertStream(CONCERT), events: [], expected: 1 },
    ...bookingIds.map((bookingId): StreamWrite => ({ stream: bookingStream(bookingId), events: [], expected: 'no_stream' })),
  ];
  const offered = (writes: readonly StreamWrite[], events: readonly ConcertEvent[]) => {
    r.indexedHere.writing(writes, events);
    return r.indexedHere.handled(writes);
  };
  t.equal(offered(writesOf([first]), [held(first, randomUUID())]), undefined, 'not a hold made with a waiting-room pass (the reactor spends it)');
  t.equal(offered(writesOf([]), [held(first)]), undefined, 'not a hold whose booking stream is not in the same writes (the reactor repairs it)');
  const released: ConcertEvent = { type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: randomUUID(), seat_ids: [regularSeat(2)], reason: 'cancelled', released_at: T0 } };
  t.equal(offered(writesOf([first]), [held(first), released]), undefined, 'not a batch with a release in it (the reactor acts on it)');
  const writes = writesOf([first, second]);
  const taken = offered(writes, [held(first), held(second)]);
  t.ok(taken !== undefined, 'holds with their booking streams and nothing else: taken on');
  t.equal(r.indexedHere.handled(writes), undefined, 'once');
  await taken;
  t.strictSame(await r.dueBookings(), [first, second].sort(), 'settled once both due times are stored');
});
