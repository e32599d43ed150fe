/**
 * Released holds a concert has forgotten (it remembers the most recent RELEASED_HOLDS_KEPT; here
 * one, so specs need not release a thousand) are answered from the booking's own stream: a retry
 * with the same Idempotency-Key does not hold seats again, a payment for such a booking is owed
 * back without selling seats, and cancelling it is not refused as unknown. Over HTTP (inject) on
 * the MariaDB event store; no reactors, so the booking streams lag behind the concert's releases
 * as they do when the reactors are behind.
 */
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { concertEvents as concertEventSet } from '../../domain/concert/index.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { derivedUuid } from '../../lib/ids.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, buyer, byClass, createConcert, customer, webhook } from '../../test/support/booking.ts';
import { bearer } from '../../test/support/users.ts';

interface Booking { id: string; status: string; seats: { id: string }[] }

async function rig(t: Test) {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' }, { wire: { releasedHoldsKept: 1 } });
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'Festival', price: 500_000, total_seats_in_class: 50 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const cancel = (token: string, id: string) => made.app.inject({ method: 'PUT', url: `/api/v1/bookings/${id}/cancel`, headers: bearer(token) });
  /** Other buyers book and cancel: what was released before them is forgotten. */
  const churn = async (times: number): Promise<void> => {
    for (let i = 0; i < times; i++) {
      const other = await customer(made.app);
      const placed = await book(made.app, other.token, byClass(concert.id, classId, 1));
      t.equal((await cancel(other.token, placed.json<Booking>().id)).statusCode, 200, 'another booking cancelled');
    }
  };
  /** The seats of a booking released on the concert alone, as the cancel path does first (the booking's stream not yet told). */
  const releaseOnly = async (bookingId: string): Promise<void> => {
    const context: CommandContext = { correlationId: 'spec', causationId: 'spec', actorId: null, occurredAt: new Date().toISOString() };
    await made.services.command.writer.submit(concert.id, { type: 'ReleaseHold', booking_id: bookingId, reason: 'cancelled', now: context.occurredAt }, context);
  };
  return { made, concert, classId, cancel, churn, releaseOnly };
}

const concertEvents = async (store: EventStore, concertId: string, type: string, bookingId: string) =>
  (await store.readStream(`concert-${concertId}`)).map((e) => decode(e, concertEventSet))
    .filter((e) => e.type === type && 'booking_id' in e.data && e.data.booking_id === bookingId).length;

t.test('a retry with the same Idempotency-Key after its hold was released and forgotten answers the booking, and holds nothing again', async (t) => {
  const { made, concert, classId, cancel, churn } = await rig(t);
  const { store } = made.services.shared;
  const user = await customer(made.app);
  const body = byClass(concert.id, classId, 2);
  const key = { 'idempotency-key': 'retry-after-forgetting' };
  const first = await book(made.app, user.token, body, key);
  t.equal(first.statusCode, 201);
  const booking = first.json<Booking>();
  t.equal((await cancel(user.token, booking.id)).statusCode, 200);
  await churn(2);

  const again = await book(made.app, user.token, body, key);
  t.equal(again.statusCode, 201, again.body);
  t.match(again.json<Booking>(), { id: booking.id, status: 'cancelled' }, 'the first booking, as it is now');
  t.same(again.json<Booking>().seats.map((s) => s.id), booking.seats.map((s) => s.id));
  t.equal(await concertEvents(store, concert.id, 'SeatsHeld', booking.id), 1, 'its seats were not held again');
  const other = await book(made.app, user.token, byClass(concert.id, classId, 1), key);
  t.equal(other.json<{ code: string }>().code, 'IDEMPOTENCY_KEY_REUSED', 'the key of another request, found in the booking stream');

  // A new key on the concert that forgets: checked, then held.
  const fresh = await book(made.app, user.token, byClass(concert.id, classId, 1), { 'idempotency-key': 'a-new-one' });
  t.equal(fresh.statusCode, 201, fresh.body);
  t.match(fresh.json<Booking>(), { status: 'pending' });
  t.not(fresh.json<Booking>().id, booking.id);
});

t.test('a payment for a booking whose hold the concert has forgotten is owed back, and sells no seat', async (t) => {
  const { made, concert, classId, churn, releaseOnly } = await rig(t);
  const { store } = made.services.shared;
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, classId, 1))).json<Booking>();
  const started = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' } });
  t.equal(started.statusCode, 201);
  const payment = started.json<{ transaction_id: string; amount: number }>();
  await releaseOnly(booking.id);
  await churn(2);

  const paid = await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
  t.equal(paid.statusCode, 200, paid.body);
  const events = await store.readStream(`booking-${booking.id}`);
  t.equal(events.at(-1)?.type, 'BookingRefundDue');
  t.match(events.at(-1)?.data, { reason: 'late_payment', amount: payment.amount, transaction_id: payment.transaction_id });
  t.equal((await store.readStream(`payment-${payment.transaction_id}`)).at(-1)?.type, 'PaymentRefundDue');
  t.equal(await concertEvents(store, concert.id, 'SeatsSold', booking.id), 0, 'no seat sold to it');
});

t.test('cancelling a booking whose hold the concert has forgotten releases nothing more and is not refused', async (t) => {
  const { made, concert, classId, cancel, churn, releaseOnly } = await rig(t);
  const { store } = made.services.shared;
  const user = await customer(made.app);
  const booking = (await book(made.app, user.token, byClass(concert.id, classId, 1))).json<Booking>();
  await releaseOnly(booking.id);
  await churn(2);

  const cancelled = await cancel(user.token, booking.id);
  t.equal(cancelled.statusCode, 200, cancelled.body);
  t.match(cancelled.json(), { id: booking.id, status: 'cancelled' });
  t.equal(await concertEvents(store, concert.id, 'HoldReleased', booking.id), 1, 'released once');
});

t.test('a keyed hold whose booking stream was never written (request crashed, repair parked) is placed before it expires: a retry after it is forgotten holds nothing again', async (t) => {
  const { made, concert, classId, churn } = await rig(t);
  const { store } = made.services.shared;
  const { reactors, expirer, personalData, ktp, emailDigest } = made.services.command;
  const user = await customer(made.app);
  const key = 'crashed-after-its-hold';
  const id = derivedUuid('booking', user.id, concert.id, key);
  const body = byClass(concert.id, classId, 1);
  const info = body.buyer_info;
  const occurredAt = new Date().toISOString();
  const expiresAt = Date.now() + 1_000;
  const context: CommandContext = { correlationId: 'spec', causationId: 'spec', actorId: null, occurredAt };
  // The first request: its hold written, then it died; the bookings reactor indexed the deadline
  // but never wrote the booking stream (its repair parked). The wired writer commits a hold's
  // booking stream with it: this hold is committed alone, as when the two could not go together
  // (a store without transactions across streams, or a batch that conflicted).
  const alone = new ConcertWriter(store, { queueLimit: 10, maxBatch: 10, snapshotEvery: 1_000, onBackgroundError: (error) => t.fail(String(error)) });
  await alone.submit(concert.id, {
    type: 'HoldSeats',
    booking_id: id,
    user_id: user.id,
    selection: { by: 'class', tickets: [{ ticket_class_id: classId, quantity: 1 }] },
    ktp_fingerprints: [ktp.of(info.ktp_number)],
    personal_data: {
      buyer: await personalData.seal(user.id, info),
      ticket_holders: [await personalData.seal(user.id, { full_name: info.full_name, ktp_number: info.ktp_number })],
      buyer_email_digest: emailDigest(info.email),
    },
    expires_at: new Date(expiresAt).toISOString(),
    now: occurredAt,
    never_held: true,
  }, context);
  await alone.drain();
  await reactors.addDeadlines([{ bookingId: id, concertId: concert.id, expiresAt }]);
  t.equal((await store.streamRevisions([`booking-${id}`])).size, 0, 'no booking stream');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));
  t.equal(await expirer.expireDue(), 1, 'the hold expired');
  await churn(2);

  const again = await book(made.app, user.token, { ...body, buyer_info: buyer() }, { 'idempotency-key': key });
  t.equal(again.statusCode, 201, again.body);
  t.equal(again.json<Booking>().id, id, 'the first booking');
  t.equal(await concertEvents(store, concert.id, 'SeatsHeld', id), 1, 'its seats were not held again');
});
