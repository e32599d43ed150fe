/**
 * The per-concert batching writer on a real (SQLite) event store: a batch is decided against the
 * state each command leaves for the next, appended in one write, answered only once committed,
 * decided again after another writer appended first, and refused when the queue is full.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import t, { type Test } from 'tap';
import {
  concertDecider,
  concertEvents,
  concertStream,
  fromSnapshot,
  SEAT_SOLD,
  toSnapshot,
  type ConcertCommand,
  type ConcertEvent,
  type ConcertState,
} from '../../domain/concert/index.ts';
import { type CommandContext, type Owned, type OwningDecider } from '../../domain/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { AppendTooLarge, type EventStore, type EventToAppend } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { isRefusal } from '../../lib/errors.ts';
import { overriding } from '../../test/support/overriding.ts';
import { randomSealed } from '../../test/support/sealed.ts';
import { CONCERT, holdByClass, holdBySeat, REGULAR, regularSeat, release, scheduleConcert, sell, T0 } from '../../test/support/concert-fixtures.ts';
import { bookingStreamsOf, ensureBookingPlaced, storedWithItsBooking } from '../bookings/placement.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter, type ConcertWriterOptions, type Written } from './concert-writer.ts';

const context: CommandContext = { correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: T0 };
const STREAM = concertStream(CONCERT);

async function openStore(t: Test): Promise<SqlEventStore> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-writer-'));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

function writer(t: Test, store: EventStore, options: Partial<ConcertWriterOptions> = {}): ConcertWriter {
  const concerts = new ConcertWriter(store, {
    queueLimit: 100,
    maxBatch: 100,
    snapshotEvery: 1_000,
    onBackgroundError: (error) => t.fail(`background error: ${String(error)}`),
    ...options,
  });
  t.teardown(() => concerts.drain());
  return concerts;
}

/** A concert on sale (3 VIP and 10 regular seats), scheduled by a writer of its own. */
async function concertOnSale(t: Test, store: EventStore): Promise<void> {
  await writer(t, store).submit(CONCERT, scheduleConcert(), context);
}

/** The store, each append first waiting for `gate` (which may also refuse it). */
function gated(store: EventStore, gate: (events: readonly EventToAppend[]) => Promise<void>): EventStore {
  return overriding(store, {
    append: async (...args: Parameters<EventStore['append']>) => {
      await gate(args[1]);
      return store.append(...args);
    },
  });
}

/** A gate that holds every append until `open()`; `reached` resolves when the first one waits at it. */
function turnstile() {
  let arrive = (): void => undefined;
  let open = (): void => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const appends: (readonly EventToAppend[])[] = [];
  return {
    appends,
    reached,
    open,
    gate: async (events: readonly EventToAppend[]): Promise<void> => {
      appends.push(events);
      arrive();
      await opened;
    },
  };
}

async function outcome(written: Promise<Written>): Promise<string> {
  try {
    return (await written).events.map((event) => event.type).join(',') || 'nothing';
  } catch (error) {
    if (isRefusal(error)) return error.code;
    throw error;
  }
}

/** Who holds which seats, from the committed stream. */
async function holdsInStream(store: EventStore): Promise<{ booking: unknown; seats: unknown[] }[]> {
  const events = (await store.readStream(STREAM)).map((recorded) => decode(recorded, concertEvents));
  return events.flatMap((event) => (event.type === 'SeatsHeld' ? [{ booking: event.data.booking_id, seats: event.data.seats.map((seat) => seat.seat_id) }] : []));
}

/** What of the buyer's details the stored hold of a booking carries: the keys of its personal_data. */
async function storedDetails(store: EventStore, booking: string): Promise<string[] | null> {
  const events = (await store.readStream(STREAM)).map((recorded) => decode(recorded, concertEvents));
  const held = events.find((event) => event.type === 'SeatsHeld' && event.data.booking_id === booking);
  return held?.type === 'SeatsHeld' && held.data.personal_data !== null ? Object.keys(held.data.personal_data).sort() : null;
}

const EVERY_DETAIL = ['buyer', 'buyer_email_digest', 'ticket_holders'];

/** An evolve that leaves the state it is given as it was, as a pure one does: a valid owning evolve. */
const copying: OwningDecider<ConcertCommand, ConcertEvent, ConcertState> = {
  ...concertDecider,
  evolve: (state, event) => concertDecider.evolve(fromSnapshot(toSnapshot(state)), event),
};

/** An evolve that spoils the state it is given once it has taken it over: only what it returns may be read. */
const consuming: OwningDecider<ConcertCommand, ConcertEvent, ConcertState> = {
  ...concertDecider,
  evolve: (state, event) => {
    const next = concertDecider.evolve(fromSnapshot(toSnapshot(state)), event);
    spoil(state);
    return next;
  },
};

function spoil(state: Owned<ConcertState>): void {
  state.seatStatus.fill(SEAT_SOLD);
  for (const ticketClass of state.classes) ticketClass.available = 0;
}

for (const [name, decider] of [['in place', concertDecider], ['copying, as a pure evolve does', copying]] as const) {
  t.test(`two holds of one seat in one batch: one is held, the other refused (evolve ${name})`, async (t) => {
    const store = await openStore(t);
    await concertOnSale(t, store);
    const batches: number[] = [];
    const concerts = writer(t, store, { decider, onBatch: (commands) => batches.push(commands) });

    const first = concerts.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context);
    const second = concerts.submit(CONCERT, holdBySeat('b2', 'u2', [regularSeat(1)]), context);
    t.same([await outcome(first), await outcome(second)], ['SeatsHeld', 'SEAT_UNAVAILABLE']);
    t.same(batches, [2], 'both were decided in one batch');
    t.same(await holdsInStream(store), [{ booking: 'b1', seats: [regularSeat(1)] }], 'one SeatsHeld appended');

    // The next batch is decided against what this one committed.
    t.equal(await outcome(concerts.submit(CONCERT, holdBySeat('b3', 'u3', [regularSeat(1)]), context)), 'SEAT_UNAVAILABLE', 'a later batch sees the hold');
    t.same(await holdsInStream(store), [{ booking: 'b1', seats: [regularSeat(1)] }]);
  });
}

t.test('a batch decides each command against the state the one before it left, never the state it gave away', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const concerts = writer(t, store, { decider: consuming });
  const first = concerts.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context);
  const second = concerts.submit(CONCERT, holdBySeat('b2', 'u2', [regularSeat(2)]), context);
  t.same([await outcome(first), await outcome(second)], ['SeatsHeld', 'SeatsHeld']);
  t.same(await holdsInStream(store), [{ booking: 'b1', seats: [regularSeat(1)] }, { booking: 'b2', seats: [regularSeat(2)] }]);
});

t.test('a refusal is not decided on a stale state: a batch with nothing to append still checks the stream has not moved', async (t) => {
  const store = await openStore(t);
  const concerts = writer(t, store);
  await concerts.submit(CONCERT, scheduleConcert(), context); // this writer now holds the concert in memory

  // Another instance holds a seat; this writer has not seen it, and appending nothing would not tell it.
  const other = writer(t, store);
  t.equal(await outcome(other.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context)), 'SeatsHeld');
  const sell: ConcertCommand = { type: 'SellSeats', booking_id: 'b1', transaction_id: 'tx-b1', now: T0 };
  t.equal(await outcome(concerts.submit(CONCERT, sell, context)), 'SeatsSold', 'sold, not HOLD_NOT_FOUND from the stale state');
  t.equal(await outcome(concerts.submit(CONCERT, { type: 'SellSeats', booking_id: 'nobody', transaction_id: 'tx-0', now: T0 }, context)), 'HOLD_NOT_FOUND', 'a real refusal still answers');
});

t.test('another writer appended first: the batch is decided again on the reloaded state', async (t) => {
  const store = await openStore(t);
  const attempts: (readonly EventToAppend[])[] = [];
  const concerts = writer(t, gated(store, async (events) => void attempts.push(events)));
  await concerts.submit(CONCERT, scheduleConcert(), context); // this writer now holds the concert in memory

  const other = writer(t, store);
  t.equal(await outcome(other.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context)), 'SeatsHeld');

  const taken = concerts.submit(CONCERT, holdBySeat('b2', 'u2', [regularSeat(1)]), context);
  const free = concerts.submit(CONCERT, holdBySeat('b3', 'u3', [regularSeat(2)]), context);
  t.same([await outcome(taken), await outcome(free)], ['SEAT_UNAVAILABLE', 'SeatsHeld']);
  t.same(await holdsInStream(store), [{ booking: 'b1', seats: [regularSeat(1)] }, { booking: 'b3', seats: [regularSeat(2)] }]);
  const bookingOf = (data: unknown): string => (typeof data === 'object' && data !== null && 'booking_id' in data ? String(data.booking_id) : '');
  const tried = attempts.map((events) => events.map((event) => `${event.type} ${bookingOf(event.data)}`.trim()));
  t.same(tried, [['ConcertScheduled', 'ConcertPublished'], ['SeatsHeld b2'], ['SeatsHeld b3']], 'the stale hold was refused by the store, then the batch decided again');
});

t.test('a batch is answered only once it is committed', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const door = turnstile();
  const concerts = writer(t, gated(store, door.gate));
  let answered = false;
  const written = concerts.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context).finally(() => (answered = true));
  await door.reached;
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(answered, 'no answer while the append is under way');
  t.same(await holdsInStream(store), []);
  door.open();
  const { events, position } = await written;
  t.same(events.map((event) => event.type), ['SeatsHeld']);
  t.equal(position, (await store.readStream(STREAM)).at(-1)?.position, 'with the position of its event');
});

t.test('an append that fails refuses its batch and leaves no trace of its decisions', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  let failures = 1;
  const concerts = writer(t, gated(store, async () => {
    if (failures-- > 0) throw new Error('disk full');
  }));
  await t.rejects(concerts.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context), { message: 'disk full' });
  t.equal(await outcome(concerts.submit(CONCERT, holdBySeat('b2', 'u2', [regularSeat(1)]), context)), 'SeatsHeld', 'the seat the failed batch decided on is free');
  t.same(await holdsInStream(store), [{ booking: 'b2', seats: [regularSeat(1)] }]);
});

t.test('a full queue refuses at once with OVERLOADED', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const door = turnstile();
  const concerts = writer(t, gated(store, door.gate), { queueLimit: 2 });
  const inFlight = concerts.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context);
  await door.reached;
  const queued = [2, 3].map((n) => concerts.submit(CONCERT, holdBySeat(`b${n}`, `u${n}`, [regularSeat(n)]), context));
  t.equal(concerts.queueDepth(), 2);
  const refused = concerts.submit(CONCERT, holdBySeat('b4', 'u4', [regularSeat(4)]), context);
  await t.rejects(refused, { code: 'OVERLOADED' });
  door.open();
  t.same(await Promise.all([inFlight, ...queued].map(outcome)), ['SeatsHeld', 'SeatsHeld', 'SeatsHeld']);
  t.same((await holdsInStream(store)).map((hold) => hold.booking), ['b1', 'b2', 'b3']);
});

t.test('a snapshot of an older version is passed over: the stream is folded from its first event', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const first = writer(t, store);
  await first.submit(CONCERT, holdBySeat('b1', 'u1', [regularSeat(1)]), context);
  // A version-2 snapshot at the last revision that (wrongly, for this check) says every seat is free.
  const [last] = await store.readStream(STREAM, { direction: 'backward', maxCount: 1 });
  const stale = { ...toSnapshot(concertDecider.initialState()), version: 2 };
  await store.saveSnapshot(STREAM, { revision: last?.revision ?? 0, data: { position: last?.position ?? 0, concert: stale } });
  const fresh = writer(t, store);
  t.equal(await outcome(fresh.submit(CONCERT, holdBySeat('b2', 'u2', [regularSeat(1)]), context)), 'SEAT_UNAVAILABLE', 'the hold of b1 was folded from the stream');
});

t.test("a sale's snapshot too long for one statement is saved in pieces, and a new writer restores the concert from it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-writer-'));
  // Statements of 1 MiB at most (as a server's max_allowed_packet would say): the snapshot below, of holds with sealed holders, is longer.
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite'), maxStatementBytes: 1024 * 1024 });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const selling = writer(t, store, { snapshotEvery: 500 });
  await selling.submit(CONCERT, scheduleConcert({ ticket_classes: [{ ticket_class_id: REGULAR, name: 'Festival', price: 750_000, seat_count: 8_000 }] }), context);
  // 1,500 holds of four seats, 100 at a time (the writer's queue here holds 100), then 600 of them released:
  // a snapshot is saved once as many events followed the last as the state has holds, so one falls among the releases.
  const held: { booking: string; seat: string }[] = [];
  for (let wave = 0; wave < 15; wave++) {
    held.push(...await Promise.all(Array.from({ length: 100 }, async () => {
      const booking = randomUUID();
      const written = await selling.submit(CONCERT, holdByClass(booking, randomUUID(), [{ ticket_class_id: REGULAR, quantity: 4 }], {
        ktp_fingerprints: Array.from({ length: 4 }, () => randomBytes(32).toString('base64url')),
        personal_data: { buyer: randomSealed(), ticket_holders: Array.from({ length: 4 }, randomSealed), buyer_email_digest: randomBytes(32).toString('hex') },
      }), context);
      const [event] = written.events;
      if (event?.type !== 'SeatsHeld') throw new Error('no SeatsHeld');
      return { booking, seat: event.data.seats[0]?.seat_id ?? '' };
    })));
  }
  // The first snapshot (at 500 holds) is saved while the holds pour in; the next one waits for it.
  while ((await store.loadSnapshot(STREAM)) === null) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 10));
  const released = held.slice(0, 600);
  for (let wave = 0; wave < 6; wave++) {
    await Promise.all(released.slice(wave * 100, wave * 100 + 100).map(({ booking }) => selling.submit(CONCERT, release(booking, 'cancelled'), context)));
  }
  await selling.drain();

  const snapshot = await store.loadSnapshot(STREAM);
  t.ok(snapshot !== null && snapshot.revision > 1_500, `a snapshot was saved among the releases (revision ${snapshot?.revision})`);
  const db = knex({ client: 'better-sqlite3', connection: { filename: join(dir, 'events.sqlite') }, useNullAsDefault: true });
  t.teardown(() => db.destroy());
  const [pieces] = await db('es_snapshot_pieces').where({ stream_id: STREAM, revision: snapshot?.revision ?? -1 }).count<{ n: number }[]>({ n: '*' });
  t.ok(Number(pieces?.n) > 1, `in pieces (${pieces?.n})`);

  // A writer that never saw the concert loads it from that snapshot and the tail: it knows every hold and every release.
  const tailRead: number[] = [];
  const watched = overriding<EventStore>(store, {
    async readStream(...args) {
      const events = await store.readStream(...args);
      tailRead.push(events.length);
      return events;
    },
  });
  const fresh = writer(t, watched);
  const kept = held[held.length - 1]?.seat ?? '';
  const freed = released[0]?.seat ?? '';
  t.equal(await outcome(fresh.submit(CONCERT, holdBySeat('late-1', 'u-late-1', [kept]), context)), 'SEAT_UNAVAILABLE', 'a seat still held is known as held');
  t.equal(await outcome(fresh.submit(CONCERT, holdBySeat('late-2', 'u-late-2', [freed]), context)), 'SeatsHeld', 'a released one as free');
  t.ok(tailRead.length > 0 && Math.max(...tailRead) < 1_500, `the load folded a tail of ${tailRead.join(', ')} events, not the stream's 2,100`);
});

t.test('drain waits for a snapshot being saved, but not for ever: a hung save is reported and left behind', async (t) => {
  const store = await openStore(t);
  const hung = overriding(store, { saveSnapshot: () => new Promise<void>(() => undefined) });
  const errors: string[] = [];
  const concerts = new ConcertWriter(hung, {
    queueLimit: 10, maxBatch: 10, snapshotEvery: 1, drainSnapshotWaitMs: 50,
    onBackgroundError: (error, what) => errors.push(`${what}: ${String(error)}`),
  });
  await concerts.submit(CONCERT, scheduleConcert(), context);
  const started = Date.now();
  await concerts.drain();
  t.ok(Date.now() - started < 2_000, 'drained');
  t.match(errors, [/^snapshots at drain: .*still running/], 'the hung save reported');
});

/** A hold with a sealed buyer (opaque here: nothing opens it), as the booking service submits one. */
function sealedHold(booking: string, user: string, seat: number): ConcertCommand {
  const sealed = { key_id: randomUUID(), alg: 'A256GCM' as const, iv: 'aXY', ciphertext: 'Y2lwaGVy', tag: 'dGFn' };
  return holdBySeat(booking, user, [regularSeat(seat)], { personal_data: { buyer: sealed, ticket_holders: [sealed], buyer_email_digest: 'a'.repeat(64) } });
}

/** The store, with every appendAll and append counted (`appendAll` may be replaced). */
function counted(store: EventStore, appendAll?: EventStore['appendAll']): { store: EventStore; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    store: overriding(store, {
      append: (...args: Parameters<EventStore['append']>) => (calls.push(`append ${args[0]}`), store.append(...args)),
      appendAll: (writes: Parameters<EventStore['appendAll']>[0]) => (calls.push(`appendAll ${writes.map((w) => w.stream.split('-')[0]).join(',')}`), (appendAll ?? store.appendAll.bind(store))(writes)),
    }),
  };
}

t.test("each hold's booking stream is committed in the batch's own append, and each answer names its booking's position", async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: watched, calls } = counted(store);
  const concerts = writer(t, watched, { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking });
  const [b1, b2] = [randomUUID(), randomUUID()];
  const [first, second] = await Promise.all([concerts.submit(CONCERT, sealedHold(b1, randomUUID(), 1), context), concerts.submit(CONCERT, sealedHold(b2, randomUUID(), 2), context)]);
  t.same(calls, ['appendAll concert,booking,booking'], 'one append for the batch and both booking streams');
  for (const [bookingId, written] of [[b1, first], [b2, second]] as const) {
    const booking = await store.readStream(`booking-${bookingId}`);
    t.same(booking.map((e) => e.type), ['BookingPlaced'], `booking-${bookingId} was placed`);
    t.same(written.companions, [booking[0]?.position], 'the answer names its BookingPlaced');
    t.ok((booking[0]?.position ?? 0) > written.position, 'after the holds');
    // The buyer is stored once: in the booking stream committed with the hold.
    t.match(booking[0]?.data, { buyer: { ciphertext: 'Y2lwaGVy' }, buyer_email_digest: 'a'.repeat(64), ticket_holders: [{ ciphertext: 'Y2lwaGVy' }] }, 'the booking has the buyer');
    t.same(await storedDetails(store, bookingId), ['ticket_holders'], 'the hold keeps its holders only');
    const [held] = written.events;
    t.same(held?.type === 'SeatsHeld' && Object.keys(held.data.personal_data ?? {}).sort(), EVERY_DETAIL, 'the answer is the hold as decided');
  }
  t.same((await holdsInStream(store)).map((hold) => hold.booking), [b1, b2]);
  // A writer that loads the concert from the store gives the sold seat's ticket its holder, as the one that decided does.
  for (const concertWriter of [concerts, writer(t, store)]) {
    await concertWriter.submit(CONCERT, sell(b1, randomUUID()), context).catch(() => undefined);
    t.same(await concertWriter.read(CONCERT, (state) => [...state.tickets.values()].map((ticket) => ticket.holder?.ciphertext)), ['Y2lwaGVy'], 'the ticket has its holder');
  }
});

t.test('a booking stream that exists already: the hold is committed alone, and its booking left to the caller', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const b1 = randomUUID();
  await store.append(`booking-${b1}`, [{ id: randomUUID(), type: 'Marker', data: {}, metadata: {} }], 'no_stream');
  const { store: watched, calls } = counted(store);
  const concerts = writer(t, watched, { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking });
  const written = await concerts.submit(CONCERT, sealedHold(b1, randomUUID(), 1), context);
  t.same(calls, ['appendAll concert,booking', `append ${STREAM}`], 'tried together, then the hold alone');
  t.equal(written.companions, undefined, 'no booking position: the caller places it');
  t.same((await holdsInStream(store)).map((hold) => hold.booking), [b1]);
  t.same(await storedDetails(store, b1), EVERY_DETAIL, 'the hold alone keeps the buyer');
  t.same((await store.readStream(`booking-${b1}`)).map((e) => e.type), ['Marker'], 'the stream that was there is untouched');
});

t.test('a store that cannot commit streams together: the hold is committed alone', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: watched, calls } = counted(store, async () => null);
  const concerts = writer(t, watched, { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking });
  const b1 = randomUUID();
  const written = await concerts.submit(CONCERT, sealedHold(b1, randomUUID(), 1), context);
  t.same(calls, ['appendAll concert,booking', `append ${STREAM}`]);
  t.equal(written.companions, undefined);
  t.same((await holdsInStream(store)).map((hold) => hold.booking), [b1]);
  t.same(await storedDetails(store, b1), EVERY_DETAIL, 'the hold keeps the buyer: its booking stream is written apart');
  t.same(await store.streamRevisions([`booking-${b1}`]), new Map(), 'no booking stream: the caller writes it');
});

t.test('a joint append that commits but loses its answer: the hold alone finds itself stored without the buyer, and its booking stream is there', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: watched, calls } = counted(store, async (writes) => {
    await store.appendAll(writes);
    throw new Error('connection lost after COMMIT');
  });
  const reported: string[] = [];
  const concerts = writer(t, watched, { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking, onBackgroundError: (_error, what) => reported.push(what) });
  const b1 = randomUUID();
  const written = await concerts.submit(CONCERT, sealedHold(b1, randomUUID(), 1), context);
  t.same(calls, ['appendAll concert,booking', `append ${STREAM}`], 'tried together, then alone');
  t.same(reported, ['a batch written with its companions (written apart instead)']);
  t.equal(written.companions, undefined, 'the caller places the booking');
  t.same(await storedDetails(store, b1), ['ticket_holders'], 'the append alone found the stored hold, without the buyer');
  const booking = await store.readStream(`booking-${b1}`);
  t.match(booking.map((e) => [e.type, e.data]), [['BookingPlaced', { buyer: { ciphertext: 'Y2lwaGVy' } }]], 'the booking stream committed with it has the buyer');
  // What the request does next: its placement finds the booking stream there.
  const [held] = written.events;
  const position = held?.type === 'SeatsHeld' ? await ensureBookingPlaced(store, new CommandHandler(store), held.data, context) : undefined;
  t.equal(position, booking[0]?.position, "placed at the stored BookingPlaced's position");
  t.equal((await store.readStream(`booking-${b1}`)).length, 1, 'nothing appended to it');
});

t.test('a batch that lost the race writes no booking stream for the decision that lost', async (t) => {
  const store = await openStore(t);
  const concerts = writer(t, store, { companionsOf: bookingStreamsOf });
  await concerts.submit(CONCERT, scheduleConcert(), context); // this writer now holds the concert in memory
  const [b1, b2] = [randomUUID(), randomUUID()];
  t.equal(await outcome(writer(t, store).submit(CONCERT, sealedHold(b1, randomUUID(), 1), context)), 'SeatsHeld', 'another writer holds seat 1');
  t.equal(await outcome(concerts.submit(CONCERT, sealedHold(b2, randomUUID(), 1), context)), 'SEAT_UNAVAILABLE', 'decided again on the caught-up state');
  t.same(await store.streamRevisions([`booking-${b1}`, `booking-${b2}`]), new Map(), 'no booking stream for either (the other writer commits holds alone)');
  const b3 = randomUUID();
  const written = await concerts.submit(CONCERT, sealedHold(b3, randomUUID(), 2), context);
  t.same((await store.readStream(`booking-${b3}`)).map((e) => [e.type, e.position]), [['BookingPlaced', written.companions?.[0]]], 'and together again once caught up');
});

t.test('a batch that cannot be written with its booking streams for another reason than a conflict is written apart, and says so', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: watched, calls } = counted(store, async () => {
    throw new Error('packet too big');
  });
  const reported: string[] = [];
  const concerts = writer(t, watched, { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking, onBackgroundError: (error, what) => reported.push(`${what}: ${String(error)}`) });
  const b1 = randomUUID();
  const written = await concerts.submit(CONCERT, sealedHold(b1, randomUUID(), 1), context);
  t.same(calls, ['appendAll concert,booking', `append ${STREAM}`]);
  t.equal(written.companions, undefined, 'the booking is left to the caller');
  t.same((await holdsInStream(store)).map((hold) => hold.booking), [b1]);
  t.same(await storedDetails(store, b1), EVERY_DETAIL, 'written apart, the hold keeps the buyer');
  t.same(reported, ['a batch written with its companions (written apart instead): Error: packet too big'], 'reported once');
});

/**
 * The store as EventStoreDB is for an append: one stream per transaction (appendAll: null), and
 * no more than `limit` bytes of events in one append, or it refuses the whole append
 * (MaxAppendSizeExceeded, 1 MiB by default); `sizes` has the bytes of every append tried.
 */
function appendSizeLimited(store: EventStore, limit: number): { store: EventStore; sizes: { bytes: number; written: boolean }[] } {
  const sizes: { bytes: number; written: boolean }[] = [];
  return {
    sizes,
    store: overriding(store, {
      appendAll: async () => null,
      append: async (stream, events, expected) => {
        const bytes = events.reduce((sum, event) => sum + JSON.stringify(event.data).length + JSON.stringify(event.metadata).length, 0);
        sizes.push({ bytes, written: bytes <= limit });
        if (bytes > limit) throw new AppendTooLarge(`${events.length} events are more than ${limit} bytes`, limit);
        return store.append(stream, events, expected);
      },
    }),
  };
}

t.test('a batch longer than the store takes in one append goes again in smaller batches: every command decided as before, none refused', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: limited, sizes } = appendSizeLimited(store, 2_500);
  const batches: number[] = [];
  const concerts = writer(t, limited, { onBatch: (commands) => batches.push(commands) });
  const bookings = Array.from({ length: 10 }, () => randomUUID());
  // Ten holds queued at once (one batch), then two more for seats they took.
  const answers = bookings.map((booking, i) => outcome(concerts.submit(CONCERT, sealedHold(booking, randomUUID(), i + 1), context)));
  const late = [1, 10].map((seat) => outcome(concerts.submit(CONCERT, sealedHold(randomUUID(), randomUUID(), seat), context)));
  t.same(await Promise.all(answers), bookings.map(() => 'SeatsHeld'), 'every hold is held');
  t.same(await Promise.all(late), ['SEAT_UNAVAILABLE', 'SEAT_UNAVAILABLE'], 'and the seats they took are taken');
  t.same((await holdsInStream(store)).map((hold) => hold.booking), bookings, 'in the order they came');
  t.same((await holdsInStream(store)).map((hold) => hold.seats), bookings.map((_, i) => [regularSeat(i + 1)]));
  t.equal(batches[0], 12, 'the twelve were decided as one batch first');
  t.same(sizes.map((size) => size.written), [false, ...sizes.slice(1).map(() => true)], `refused as one append, and only that one: ${sizes.map((size) => `${size.bytes}${size.written ? '' : ' (refused)'}`).join(', ')}`);
  t.ok(batches.length > 2 && batches.slice(1).every((commands) => commands > 1 && commands < 12), `then in batches of what the store takes: ${batches.join(', ')}`);
});

t.test('a command the store can never take, behind one that appends nothing, is refused alone; the holds after it still go in batches', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  await writer(t, store).submit(CONCERT, sealedHold(randomUUID(), randomUUID(), 1), context);
  const { store: limited, sizes } = appendSizeLimited(store, 2_500);
  const batches: number[] = [];
  const concerts = writer(t, limited, { onBatch: (commands) => batches.push(commands) });
  const sealed = { key_id: randomUUID(), alg: 'A256GCM' as const, iv: 'aXY', ciphertext: 'x'.repeat(6_000), tag: 'dGFn' };
  const huge = holdBySeat(randomUUID(), randomUUID(), [regularSeat(2)], { personal_data: { buyer: sealed, ticket_holders: [sealed], buyer_email_digest: 'a'.repeat(64) } });
  const taken = outcome(concerts.submit(CONCERT, sealedHold(randomUUID(), randomUUID(), 1), context));
  const tooLong = concerts.submit(CONCERT, huge, context);
  const holds = [3, 4, 5, 6, 7, 8].map((seat) => outcome(concerts.submit(CONCERT, sealedHold(randomUUID(), randomUUID(), seat), context)));
  t.equal(await taken, 'SEAT_UNAVAILABLE', 'the hold of a taken seat is refused');
  await t.rejects(tooLong, AppendTooLarge, 'the hold too long for the store is refused with that');
  t.same(await Promise.all(holds), holds.map(() => 'SeatsHeld'), 'the holds after it are held');
  const refused = sizes.filter((size) => !size.written).length;
  t.ok(refused <= 4, `${refused} appends refused: the batch halves each time, so the long one is alone within a few`);
  t.ok(sizes.filter((size) => size.written).some((size) => size.bytes > 2_000), `and later batches still carry two holds: ${sizes.map((size) => `${size.bytes}${size.written ? '' : ' (refused)'}`).join(', ')}`);
  t.same((await holdsInStream(store)).flatMap((hold) => hold.seats), [1, 3, 4, 5, 6, 7, 8].map(regularSeat), 'seat 2 was never held');
});

t.test('a single command longer than the store takes in one append is refused with that error, and the commands after it go on', async (t) => {
  const store = await openStore(t);
  await concertOnSale(t, store);
  const { store: limited } = appendSizeLimited(store, 100);
  const concerts = writer(t, limited);
  const answers = [1, 2].map((seat) => concerts.submit(CONCERT, sealedHold(randomUUID(), randomUUID(), seat), context));
  for (const answer of answers) await t.rejects(answer, AppendTooLarge, 'refused as too long for the store');
  t.same(await holdsInStream(store), [], 'nothing was written');
  t.equal(await outcome(writer(t, store).submit(CONCERT, sealedHold(randomUUID(), randomUUID(), 1), context)), 'SeatsHeld', 'the seat is free for a hold the store takes');
});
