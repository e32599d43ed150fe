import t from 'tap';
import type { BookingEvent } from '../../domain/booking/index.ts';
import type { HeldSeat } from '../../domain/concert/index.ts';
import { CONCERT, VIP, vipSeat } from '../../test/support/concert-fixtures.ts';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { sealed } from '../../test/support/sealed.ts';
import { sealedFromText, sealedToText } from '../../lib/personal-data/sealed-text.ts';
import { bookingsProjection } from './bookings.ts';

const U1 = 'u1000000-0000-4000-8000-000000000001';
const U2 = 'u2000000-0000-4000-8000-000000000002';
const T0 = '2026-12-01T10:00:00.000Z';
const TABLES = ['bookings', 'booking_seats', 'buyers', 'ticket_holders'];

const seats = (numbers: number[]): HeldSeat[] => numbers.map((n) => ({ seat_id: vipSeat(n), ticket_class_id: VIP, seat_number: n, price: 1_500_000 }));

/** A digest as the command API records one: 64 hex digits. */
const digest = (n: number): string => String(n).repeat(64).slice(0, 64);

function placed(bookingId: string, userId: string, numbers: number[], emailDigest?: string): BookingEvent {
  return {
    type: 'BookingPlaced',
    data: {
      booking_id: bookingId, user_id: userId, concert_id: CONCERT, seats: seats(numbers), total_price: numbers.length * 1_500_000,
      buyer: sealed(`buyer ${bookingId}`), ticket_holders: numbers.map((n) => sealed(`holder ${n}`)),
      ...(emailDigest === undefined ? {} : { buyer_email_digest: emailDigest }),
      placed_at: T0, expires_at: '2026-12-01T10:15:00.000Z',
    },
  };
}

const booking = (n: number): string => `b${n}000000-0000-4000-8000-00000000000${n}`;

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`bookings, their seats, buyer and holders follow the booking streams (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, bookingsProjection(), kind);
    t.equal(await given([placed(booking(1), U1, [1, 2], digest(1)), placed(booking(2), U2, [3])]), 'applied');
    const row = await db('bookings').where({ id: booking(1) }).first<Row>();
    t.match(row, { user_id: U1, concert_id: CONCERT, status: 'pending', created_at: T0, expires_at: '2026-12-01T10:15:00.000Z', payment_id: null, buyer_email_digest: digest(1) });
    t.equal((await db('bookings').where({ id: booking(2) }).first<Row>())?.buyer_email_digest, null, 'a booking placed before digests were recorded has none');
    t.equal(Number(row.total_price), 3_000_000);
    t.same((await db('booking_seats').where({ booking_id: booking(1) }).orderBy('seq').select<Row[]>('seat_id', 'seat_number', 'price'))
      .map((seat) => [seat.seat_id, Number(seat.seat_number), Number(seat.price)]), [[vipSeat(1), 1, 1_500_000], [vipSeat(2), 2, 1_500_000]]);
    const buyer = await db('buyers').where({ booking_id: booking(1) }).first<Row>();
    t.same(sealedFromText(String(buyer?.personal_data)), sealed(`buyer ${booking(1)}`), 'the buyer is kept sealed');
    t.same((await db('ticket_holders').where({ booking_id: booking(1) }).orderBy('seq').select<Row[]>('seat_id', 'personal_data'))
      .map((holder): unknown[] => [holder.seat_id, sealedFromText(String(holder.personal_data))]), [[vipSeat(1), sealed('holder 1')], [vipSeat(2), sealed('holder 2')]]);

    const later = '2026-12-01T10:03:00.000Z';
    t.equal(await given([
      { event: { type: 'BookingPaymentStarted', data: { booking_id: booking(1), payment_id: 'p-1', transaction_id: 'tx-1', method: 'card', amount: 3_000_000, started_at: later } }, at: later },
      { event: { type: 'BookingConfirmed', data: { booking_id: booking(1), transaction_id: 'tx-1', confirmed_at: later } }, at: later },
      { event: { type: 'BookingCancelled', data: { booking_id: booking(2), cancelled_by: 'owner', cancelled_at: later } }, at: later },
    ]), 'applied');
    t.match(await db('bookings').where({ id: booking(1) }).first<Row>(), { status: 'confirmed', payment_id: 'p-1', transaction_id: 'tx-1', updated_at: later });
    t.match(await db('bookings').where({ id: booking(2) }).first<Row>(), { status: 'cancelled' });

    const before = await tableChecksums(db, TABLES);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, TABLES), before, 'a re-delivered page changes nothing');

    for (const [n, event] of [
      [3, { type: 'BookingExpired', data: { booking_id: booking(3), expired_at: later } }],
      [4, { type: 'BookingPaymentFailed', data: { booking_id: booking(4), transaction_id: 'tx-4', reason: 'declined', failed_at: later } }],
      [5, { type: 'BookingRefundDue', data: { booking_id: booking(5), reason: 'late_payment', transaction_id: 'tx-5', amount: 1_500_000, decided_at: later } }],
    ] as const) {
      await given([placed(booking(n), U2, [n + 3]), event]);
    }
    t.same(Object.fromEntries((await db('bookings').whereIn('id', [booking(3), booking(4), booking(5)]).select<Row[]>('id', 'status')).map((r) => [r.id, r.status])),
      { [booking(3)]: 'expired', [booking(4)]: 'failed', [booking(5)]: 'refund_due' });
  });
}

t.test('forgetting a user clears the sealed buyer and holders of their bookings, and their email digests, also those placed in the same batch', async (t) => {
  const { db, given } = await projectionFixture(t, bookingsProjection());
  await given([placed(booking(1), U1, [1], digest(1)), placed(booking(2), U2, [2], digest(2))]);
  t.equal(await given([
    placed(booking(3), U1, [3], digest(1)),
    { type: 'PersonalDataForgotten', data: { user_id: U1, forgotten_at: T0 } },
  ]), 'applied');
  const buyers: Row = Object.fromEntries((await db('buyers').select<Row[]>('booking_id', 'personal_data')).map((row): [string, unknown] => [String(row.booking_id), row.personal_data]));
  t.same(buyers, { [booking(1)]: null, [booking(2)]: sealedToText(sealed(`buyer ${booking(2)}`)), [booking(3)]: null });
  const holders = await db('ticket_holders').whereNotNull('personal_data').pluck('booking_id');
  t.same(holders, [booking(2)], "only the other user's holders keep their sealed data");
  t.equal(Number((await db('bookings').count<{ n: number }[]>({ n: '*' }))[0]?.n), 3, 'the bookings themselves stay');
  t.same(Object.fromEntries((await db('bookings').select<Row[]>('id', 'buyer_email_digest')).map((row): [string, unknown] => [String(row.id), row.buyer_email_digest])),
    { [booking(1)]: null, [booking(2)]: digest(2), [booking(3)]: null }, "no digest of the forgotten user's address is left; the other buyer's stays");
});
