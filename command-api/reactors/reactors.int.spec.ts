/**
 * The bookings reactor reads events written by older code: an event recorded at an older schema
 * version is upcast before the reactor acts on it, and one it cannot read is a visible error.
 * Driven through the real reactor, placer, command handler and stores (SQLite files).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bookingEvents, bookingStream } from '../../domain/booking/index.ts';
import { concertStream } from '../../domain/concert/index.ts';
import { UpcasterRegistry } from '../../domain/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { sealed } from '../../test/support/sealed.ts';
import { BookingPlacer } from '../bookings/placer.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { ReactorStore } from './reactor-store.ts';
import { bookingsReactor } from './reactors.ts';

const HELD_AT = '2026-11-26T19:00:00.000Z';
const EXPIRES_AT = '2026-11-26T19:15:00.000Z';

/**
 * A SeatsHeld v2, as this spec supposes it: v1 called the hold's deadline `hold_expires_at`, and
 * v2 (the shape the code has today) renamed it `expires_at`.
 */
const renamedDeadline = new UpcasterRegistry({
  SeatsHeld: { current: 2, steps: { 1: ({ hold_expires_at, ...rest }) => ({ ...rest, expires_at: hold_expires_at }) } },
});

async function rig(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-reactors-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(() => store.close());
  const reactors = await ReactorStore.open({ client: 'better-sqlite3', filename: join(dir, 'reactors.sqlite') });
  t.teardown(() => reactors.close());
  const commands = new CommandHandler(store);
  const writer = new ConcertWriter(store, { queueLimit: 10, maxBatch: 10, snapshotEvery: 1_000, onBackgroundError: (error) => t.fail(String(error)) });
  const placer = new BookingPlacer(store, commands);
  // An hour after the hold: old enough to be repaired at once.
  const now = () => new Date(Date.parse(HELD_AT) + 3_600_000);
  const reactor = bookingsReactor({ store, commands, writer, placer, reactors, now, upcasters: renamedDeadline });
  /** Appends one SeatsHeld as recorded at `schemaVersion`, then hands the reactor its page. */
  const react = async (data: Record<string, unknown>, schemaVersion: number): Promise<void> => {
    const id = randomUUID();
    await store.append(concertStream(String(data.concert_id)), [{
      id,
      type: 'SeatsHeld',
      data,
      metadata: { event_id: id, correlation_id: 'req-1', causation_id: 'req-1', actor_id: String(data.user_id), schema_version: schemaVersion, occurred_at: HELD_AT },
    }], 'any');
    const page = await store.readAll({ filter: reactor.filter });
    await reactor.handle(page.events);
  };
  return { store, reactors, react };
}

function holdData(bookingId: string) {
  return {
    concert_id: randomUUID(),
    booking_id: bookingId,
    user_id: randomUUID(),
    seats: [{ seat_id: `${randomUUID()}-1`, ticket_class_id: randomUUID(), seat_number: 1, price: 750_000 }],
    total_price: 750_000,
    ktp_fingerprints: [],
    personal_data: { buyer: sealed('buyer'), ticket_holders: [sealed('holder')] },
    held_at: HELD_AT,
  };
}

t.test('a hold recorded at an older schema version is upcast: its booking is placed and its deadline indexed', async (t) => {
  const { store, reactors, react } = await rig(t);
  const bookingId = randomUUID();
  // As v1 wrote it: the deadline under its old name.
  await react({ ...holdData(bookingId), hold_expires_at: EXPIRES_AT }, 1);

  const booking = await store.readStream(bookingStream(bookingId));
  t.match(booking, [{ type: 'BookingPlaced', data: { booking_id: bookingId, expires_at: EXPIRES_AT } }], 'the booking stream was written from the hold, with the deadline v1 recorded');
  t.strictSame(
    (await reactors.due(Date.parse(EXPIRES_AT), 10)).map((deadline) => [deadline.bookingId, deadline.expiresAt]),
    [[bookingId, Date.parse(EXPIRES_AT)]],
    'the hold expires when v1 said it would',
  );
  t.strictSame(await reactors.due(Date.parse(EXPIRES_AT) - 1, 10), [], 'and not before');
});

t.test("a booking stream rebuilt from its hold carries the buyer's email digest the hold carried (the back office's search)", async (t) => {
  const { store, react } = await rig(t);
  const [withDigest, without] = [randomUUID(), randomUUID()];
  const digest = 'ab'.repeat(32);
  const hold = holdData(withDigest);
  await react({ ...hold, expires_at: EXPIRES_AT, personal_data: { ...hold.personal_data, buyer_email_digest: digest } }, 2);
  await react({ ...holdData(without), expires_at: EXPIRES_AT }, 2);
  const [placed] = (await store.readStream(bookingStream(withDigest))).map((recorded) => decode(recorded, bookingEvents));
  t.match(placed, { type: 'BookingPlaced', data: { booking_id: withDigest, buyer_email_digest: digest } });
  const [older] = (await store.readStream(bookingStream(without))).map((recorded) => decode(recorded, bookingEvents));
  t.equal(older?.type, 'BookingPlaced', 'a hold from before the digest still makes its booking');
  t.notOk(older !== undefined && 'buyer_email_digest' in older.data, 'without one');
});

t.test('a hold whose data breaks its schema stops the reactor with an error naming it; nothing is written', async (t) => {
  const { store, reactors, react } = await rig(t);
  const bookingId = randomUUID();
  const error = await react({ ...holdData(bookingId), expires_at: EXPIRES_AT, total_price: 750_000.5 }, 2).then(() => undefined, (caught: unknown) => caught);
  t.match(error, { name: 'UndecodableEvent', type: 'SeatsHeld', message: /total_price/ }, 'an UndecodableEvent, not a booking at a fractional price');
  t.strictSame(await store.readStream(bookingStream(bookingId)), [], 'no booking stream');
  t.strictSame(await reactors.due(Number.MAX_SAFE_INTEGER, 10), [], 'no deadline');
});
