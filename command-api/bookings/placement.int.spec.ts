/**
 * A booking stream made from its hold (the request's placer, the repair reactor, a retried
 * Idempotency-Key), on a real (SQLite) event store: a hold committed with its booking stream no
 * longer carries the buyer (storedWithItsBooking), and the booking stream is then what is placed.
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { bookingEvents } from '../../domain/booking/index.ts';
import type { CommandContext } from '../../domain/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { CONCERT, holdBySeat, regularSeat, scheduleConcert, T0 } from '../../test/support/concert-fixtures.ts';
import { eventAndReactorStores } from '../../test/support/services.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { bookingStreamsOf, ensureBookingPlaced, findHold, storedWithItsBooking } from './placement.ts';

const context: CommandContext = { correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: T0 };
const sealed = (text: string) => ({ key_id: randomUUID(), alg: 'A256GCM' as const, iv: 'aXY', ciphertext: Buffer.from(text).toString('base64'), tag: 'dGFn' });

async function setUp(t: Test, options: { together: boolean }) {
  const store = await SqlEventStore.open((await eventAndReactorStores(t, 'better-sqlite3')).events);
  const writer = new ConcertWriter(store, {
    queueLimit: 100, maxBatch: 100, snapshotEvery: 1_000,
    onBackgroundError: (error) => t.fail(`background error: ${String(error)}`),
    ...(options.together ? { companionsOf: bookingStreamsOf, storedWithCompanions: storedWithItsBooking } : {}),
  });
  t.teardown(async () => {
    await writer.drain();
    await store.close();
  });
  await writer.submit(CONCERT, scheduleConcert(), context);
  const hold = async (booking: string, seat: number) => writer.submit(CONCERT, holdBySeat(booking, randomUUID(), [regularSeat(seat)], {
    personal_data: { buyer: sealed('buyer'), ticket_holders: [sealed('holder')], buyer_email_digest: 'b'.repeat(64) },
  }), context);
  return { store, commands: new CommandHandler(store), hold };
}

t.test('a hold committed with its booking stream: found without the buyer, and its booking stream is what is placed', async (t) => {
  const { store, commands, hold } = await setUp(t, { together: true });
  const booking = randomUUID();
  const written = await hold(booking, 1);
  const held = await findHold(store, CONCERT, booking);
  t.strictSame(Object.keys(held.personal_data ?? {}), ['ticket_holders'], 'the stored hold has its holders, not the buyer');
  const before = await store.readStream(`booking-${booking}`);
  t.same(await ensureBookingPlaced(store, commands, held, context), written.companions?.[0], "the position of the booking stream's BookingPlaced");
  t.same((await store.readStream(`booking-${booking}`)).map((e) => e.id), before.map((e) => e.id), 'nothing appended');
  const placed = before[0] && decode(before[0], bookingEvents);
  t.same(placed?.type === 'BookingPlaced' && Buffer.from(placed.data.buyer.ciphertext, 'base64').toString(), 'buyer', 'the buyer is in the booking stream');
});

t.test('a hold committed alone keeps the buyer, and its booking stream is made from it', async (t) => {
  const { store, commands, hold } = await setUp(t, { together: false });
  const booking = randomUUID();
  await hold(booking, 1);
  const held = await findHold(store, CONCERT, booking);
  t.strictSame(Object.keys(held.personal_data ?? {}).sort(), ['buyer', 'buyer_email_digest', 'ticket_holders'], 'the stored hold has every detail');
  t.same(await store.streamRevisions([`booking-${booking}`]), new Map(), 'no booking stream yet');
  const position = await ensureBookingPlaced(store, commands, held, context);
  const [placed] = await store.readStream(`booking-${booking}`);
  t.equal(placed?.position, position, 'the position of the BookingPlaced written');
  const event = placed && decode(placed, bookingEvents);
  t.match(event?.type === 'BookingPlaced' && event.data, { booking_id: booking, buyer_email_digest: 'b'.repeat(64), ticket_holders: [{ ciphertext: Buffer.from('holder').toString('base64') }] }, 'made from the hold');
});

t.test('a hold without the buyer whose booking stream is missing is an error that says so, and nothing is written', async (t) => {
  const { store, commands, hold } = await setUp(t, { together: false });
  const booking = randomUUID();
  await hold(booking, 1);
  const held = await findHold(store, CONCERT, booking);
  const withoutBuyer = { ...held, personal_data: { ticket_holders: held.personal_data?.ticket_holders ?? [] } };
  await t.rejects(ensureBookingPlaced(store, commands, withoutBuyer, context), { message: `hold ${booking} carries no buyer details and its booking stream is missing` });
  t.same(await store.streamRevisions([`booking-${booking}`]), new Map(), 'no booking stream was made');
});
