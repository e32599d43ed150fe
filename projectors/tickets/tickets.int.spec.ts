import type { Knex } from 'knex';
import t from 'tap';
import type { ConcertEvent, HeldSeat } from '../../domain/concert/index.ts';
import { sealedFromText } from '../../lib/personal-data/sealed-text.ts';
import { CONCERT, REGULAR, VIP, regularSeat, vipSeat } from '../../test/support/concert-fixtures.ts';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { sealed } from '../../test/support/sealed.ts';
import { ticketsProjection } from './tickets.ts';

const U1 = 'c1000000-0000-4000-8000-000000000001';
const U2 = 'c2000000-0000-4000-8000-000000000002';
const T0 = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T10:05:00.000Z';
const TABLES = ['tickets', 'ticket_holds', 'ticket_admissions'];
const booking = (n: number): string => `b${n}000000-0000-4000-8000-00000000000${n}`;

const vip = (n: number): HeldSeat => ({ seat_id: vipSeat(n), ticket_class_id: VIP, seat_number: n, price: 1_500_000 });
const regular = (n: number): HeldSeat => ({ seat_id: regularSeat(n), ticket_class_id: REGULAR, seat_number: n, price: 500_000 });

function held(bookingId: string, userId: string, seats: HeldSeat[], holders: boolean | string[] = true): ConcertEvent {
  const names = holders === true ? seats.map((seat) => `holder ${seat.seat_id}`) : holders === false ? null : holders;
  return {
    type: 'SeatsHeld',
    data: {
      concert_id: CONCERT, booking_id: bookingId, user_id: userId, seats, total_price: seats.reduce((sum, seat) => sum + seat.price, 0),
      ktp_fingerprints: seats.map(() => 'fp'), personal_data: names === null ? null : { buyer: sealed('buyer'), ticket_holders: names.map(sealed) },
      held_at: T0, expires_at: '2026-12-01T10:15:00.000Z',
    },
  };
}
const sold = (bookingId: string, seats: HeldSeat[]): ConcertEvent => ({
  type: 'SeatsSold', data: { concert_id: CONCERT, booking_id: bookingId, seat_ids: seats.map((seat) => seat.seat_id), transaction_id: 'd0000000-0000-4000-8000-000000000001', sold_at: LATER },
});
const admitted = (ticketId: string, gate: string, at = LATER): ConcertEvent => ({
  type: 'TicketAdmitted', data: { concert_id: CONCERT, booking_id: booking(1), ticket_id: ticketId, revision: 1, gate, scanned_at: at, admitted_at: at },
});

async function ticket(db: Knex, id: string): Promise<Row> {
  return db('tickets').where({ id }).first<Row>();
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a sale makes valid tickets; a transfer, an admission and the concert's cancellation change them (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, ticketsProjection(), kind);
    t.equal(await given([held(booking(1), U1, [vip(1), vip(2)]), held(booking(2), U2, [regular(1)], false)]), 'applied');
    t.equal(Number((await db('tickets').count<Row[]>({ n: '*' }))[0]?.n), 0, 'a hold is not a ticket yet');
    t.same((await db('ticket_holds').orderBy('booking_id').pluck('booking_id')), [booking(1), booking(2)]);

    t.equal(await given([sold(booking(1), [vip(1), vip(2)])]), 'applied');
    const first = await ticket(db, vipSeat(1));
    t.match(first, { booking_id: booking(1), concert_id: CONCERT, user_id: U1, ticket_class_id: VIP, status: 'valid', admitted_at: null, gate: null });
    t.same([Number(first.seat_number), Number(first.seq), Number(first.revision)], [1, 0, 1]);
    t.same(sealedFromText(String(first.holder)), sealed(`holder ${vipSeat(1)}`), "revision 1's holder is the booking's, sealed");
    t.same(sealedFromText(String((await ticket(db, vipSeat(2))).holder)), sealed(`holder ${vipSeat(2)}`), 'each seat its own holder, in seat order');
    t.same(await db('ticket_holds').pluck('booking_id'), [booking(2)], 'the sold hold is gone');

    t.equal(await given([{
      type: 'TicketTransferred',
      data: { concert_id: CONCERT, booking_id: booking(1), ticket_id: vipSeat(2), revision: 2, holder: sealed('new holder'), ktp_fingerprint: 'fp2', transferred_at: LATER },
    }]), 'applied');
    const transferred = await ticket(db, vipSeat(2));
    t.equal(Number(transferred.revision), 2);
    t.same(sealedFromText(String(transferred.holder)), sealed('new holder'), 'the new holder, sealed');
    t.equal(Number((await ticket(db, vipSeat(1))).revision), 1, 'the other ticket keeps its revision');

    t.equal(await given([admitted(vipSeat(1), 'north-1'), admitted(vipSeat(1), 'south-2', '2026-12-01T10:06:00.000Z')]), 'applied');
    t.match(await ticket(db, vipSeat(1)), { status: 'admitted', admitted_at: LATER, gate: 'north-1' }, 'the first admission counts');
    const before = await tableChecksums(db, TABLES);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, TABLES), before, 'a re-delivered page changes nothing');
    t.equal(await given([admitted(vipSeat(2), 'north-1')]), 'applied');
    t.same((await db('ticket_admissions').select<Row[]>('ticket_class_id', 'gate', 'admitted')).map((row) => [row.ticket_class_id, row.gate, Number(row.admitted)]),
      [[VIP, 'north-1', 2]], 'admissions counted per class and gate');

    t.equal(await given([
      sold(booking(2), [regular(1)]),
      { type: 'ConcertCancelled', data: { concert_id: CONCERT, reason: 'storm', cancelled_at: LATER } },
    ]), 'applied');
    t.same(Object.fromEntries((await db('tickets').select<Row[]>('id', 'status')).map((row) => [row.id, row.status])),
      { [vipSeat(1)]: 'void', [vipSeat(2)]: 'void', [regularSeat(1)]: 'void' }, 'every ticket of a cancelled concert is void, those sold in the same batch too');
    t.equal((await ticket(db, regularSeat(1))).holder, null, 'a hold without holders gives tickets without one');
    t.match(await ticket(db, vipSeat(1)), { admitted_at: LATER, gate: 'north-1' }, 'a void ticket still tells it was admitted');
  });
}

t.test('a sold hold released voids its tickets; a pending one released leaves none', async (t) => {
  const { db, given } = await projectionFixture(t, ticketsProjection());
  await given([held(booking(1), U1, [vip(1)]), held(booking(2), U2, [vip(2)]), sold(booking(1), [vip(1)])]);
  t.equal(await given([
    { type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: booking(1), seat_ids: [vipSeat(1)], reason: 'concert_cancelled', released_at: LATER } },
    { type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: booking(2), seat_ids: [vipSeat(2)], reason: 'expired', released_at: LATER } },
  ]), 'applied');
  t.match(await ticket(db, vipSeat(1)), { status: 'void' });
  t.equal(await ticket(db, vipSeat(2)), undefined);
  t.same(await db('ticket_holds').pluck('booking_id'), [], 'no hold left');
});

t.test("forgetting the buyer clears the tickets' holders and those of unsold holds", async (t) => {
  const { db, given } = await projectionFixture(t, ticketsProjection());
  await given([held(booking(1), U1, [vip(1)]), held(booking(2), U2, [vip(2)]), sold(booking(1), [vip(1)]), sold(booking(2), [vip(2)]), held(booking(3), U1, [vip(3)])]);
  t.equal(await given([{ type: 'PersonalDataForgotten', data: { user_id: U1, forgotten_at: LATER } }]), 'applied');
  t.equal((await ticket(db, vipSeat(1))).holder, null);
  t.not((await ticket(db, vipSeat(2))).holder, null, "another buyer's ticket keeps its holder");
  t.equal((await db('ticket_holds').where({ booking_id: booking(3) }).first<Row>()).holders, null);
});
