import fc from 'fast-check';
import t from 'tap';
import { fold } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import {
  HOLD_END,
  REGULAR,
  T0,
  VIP,
  holdByClass,
  holdBySeat,
  minutesAfter,
  onSale,
  regularSeat,
  release,
  sell,
  vipSeat,
} from '../../test/support/concert-fixtures.ts';
import {
  concertDecider,
  fromSnapshot,
  SEAT_AVAILABLE,
  SEAT_HELD,
  SEAT_SOLD,
  seatIndexOf,
  toSnapshot,
  type ConcertCommand,
  type ConcertEvent,
  type ConcertSnapshot,
  type ConcertState,
} from './index.ts';

/**
 * Whatever sequence of commands arrives, the inventory never oversells: checked from the events
 * alone (an auditor's replay) and against the in-memory state.
 */
const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
const bookings = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8'];
const ktps = ['k1', 'k2', 'k3'];
// VIP seats 4 and 5 exist only once an AddTicketClass grew the class (moving every Regular seat up).
const seats = [...[1, 2, 3, 4, 5].map(vipSeat), ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(regularSeat)];

const command: fc.Arbitrary<ConcertCommand> = fc.oneof(
  fc.record({
    booking: fc.constantFrom(...bookings),
    user: fc.constantFrom(...users),
    vip: fc.integer({ min: 0, max: 3 }),
    regular: fc.integer({ min: 0, max: 4 }),
    ktp: fc.constantFrom(...ktps),
  }).map(({ booking, user, vip, regular, ktp }) => {
    const tickets = [
      ...(vip > 0 ? [{ ticket_class_id: VIP, quantity: vip }] : []),
      ...(regular > 0 ? [{ ticket_class_id: REGULAR, quantity: regular }] : []),
    ];
    return holdByClass(booking, user, tickets, { ktp_fingerprints: Array(vip + regular).fill(ktp) });
  }),
  fc.record({
    booking: fc.constantFrom(...bookings),
    user: fc.constantFrom(...users),
    picked: fc.subarray(seats, { minLength: 1, maxLength: 6 }),
    ktp: fc.constantFrom(...ktps),
  }).map(({ booking, user, picked, ktp }) => holdBySeat(booking, user, picked, { ktp_fingerprints: picked.map(() => ktp) })),
  fc.record({
    booking: fc.constantFrom(...bookings),
    reason: fc.constantFrom('cancelled' as const, 'expired' as const, 'payment_failed' as const),
  }).map(({ booking, reason }) => release(booking, reason, reason === 'expired' ? HOLD_END : T0)),
  fc.record({ booking: fc.constantFrom(...bookings), late: fc.boolean() })
    .map(({ booking, late }) => sell(booking, `tx-${booking}`, late ? HOLD_END : minutesAfter(T0, 1))),
  fc.integer({ min: 3, max: 5 }).map((seatCount): ConcertCommand => ({
    type: 'AddTicketClass', ticket_class_id: VIP, name: 'VIP', price: 1_500_000, seat_count: seatCount, now: T0,
  })),
);

interface Owner { booking: string; user: string; sold: boolean }

/** Replays the events the way an auditor would, and fails on any double assignment. */
function audit(events: readonly ConcertEvent[], ktpLimit: number): void {
  const owner = new Map<string, Owner>();
  const activeByUser = new Map<string, string>();
  const tickets = new Map<string, number>();
  const holds = new Map<string, { user: string; seats: string[]; ktps: string[] }>();
  for (const event of events) {
    if (event.type === 'SeatsHeld') {
      const { booking_id, user_id, seats: heldSeats, ktp_fingerprints } = event.data;
      if (heldSeats.length < 1 || heldSeats.length > 5) throw new Error(`${booking_id} holds ${heldSeats.length} seats`);
      if (activeByUser.has(user_id)) throw new Error(`${user_id} holds a second active booking`);
      for (const seat of heldSeats) {
        if (owner.has(seat.seat_id)) throw new Error(`seat ${seat.seat_id} assigned twice`);
        owner.set(seat.seat_id, { booking: booking_id, user: user_id, sold: false });
      }
      for (const ktp of ktp_fingerprints) {
        const count = (tickets.get(ktp) ?? 0) + 1;
        if (count > ktpLimit) throw new Error(`KTP ${ktp} over the limit`);
        tickets.set(ktp, count);
      }
      activeByUser.set(user_id, booking_id);
      holds.set(booking_id, { user: user_id, seats: heldSeats.map((s) => s.seat_id), ktps: ktp_fingerprints });
    } else if (event.type === 'HoldReleased') {
      const hold = holds.get(event.data.booking_id);
      if (!hold) throw new Error('release of an unknown hold');
      for (const seat of hold.seats) {
        if (owner.get(seat)?.sold) throw new Error(`sold seat ${seat} released`);
        owner.delete(seat);
      }
      for (const ktp of hold.ktps) tickets.set(ktp, (tickets.get(ktp) ?? 0) - 1);
      activeByUser.delete(hold.user);
      holds.delete(event.data.booking_id);
    } else if (event.type === 'SeatsSold') {
      for (const seat of event.data.seat_ids) {
        const current = owner.get(seat);
        if (current?.booking !== event.data.booking_id) throw new Error(`seat ${seat} sold to a booking not holding it`);
        current.sold = true;
      }
    }
  }
}

function checkState(state: ConcertState): void {
  for (const ticketClass of state.classes) {
    let available = 0;
    for (let i = 0; i < ticketClass.seatCount; i++) {
      if (state.seatStatus[ticketClass.firstSeat + i] === SEAT_AVAILABLE) {
        available++;
        if (i < ticketClass.searchFrom) throw new Error('an available seat below the search start');
      }
    }
    if (available !== ticketClass.available) throw new Error(`${ticketClass.name}: count ${ticketClass.available}, seats ${available}`);
  }
  // Every index a hold or a ticket keeps still names its own seat, wherever added seats moved it.
  for (const hold of state.holds.values()) {
    hold.seatIds.forEach((id, i) => {
      const index = hold.seatIndexes[i] ?? -1;
      if (seatIndexOf(state, id) !== index) throw new Error(`hold ${hold.bookingId}: seat ${id} is not at index ${index}`);
      if (state.seatStatus[index] !== (hold.status === 'sold' ? SEAT_SOLD : SEAT_HELD)) throw new Error(`hold ${hold.bookingId}: seat ${id} has the wrong status`);
      if ((state.tickets.get(index)?.bookingId ?? null) !== (hold.status === 'sold' ? hold.bookingId : null)) throw new Error(`seat ${id}: ticket and hold disagree`);
    });
  }
  const sold = [...state.seatStatus].filter((s) => s === SEAT_SOLD).length;
  const soldInHolds = [...state.holds.values()].filter((h) => h.status === 'sold').reduce((n, h) => n + h.seatIndexes.length, 0);
  if (sold !== soldInHolds) throw new Error('sold seats and sold holds disagree');
}

t.test('no command sequence sells a seat twice or breaks a booking rule', async (t) => {
  const ktpLimit = 4;
  const decidedByType = new Map<string, number>();
  let refused = 0;
  fc.assert(
    fc.property(fc.array(command, { minLength: 10, maxLength: 80, size: 'max' }), (commands) => {
      const events: ConcertEvent[] = onSale({ max_tickets_per_ktp: ktpLimit });
      let state = fold(concertDecider, events);
      for (const next of commands) {
        try {
          const decidedEvents = concertDecider.decide(next, state);
          for (const event of decidedEvents) state = concertDecider.evolve(state, event);
          events.push(...decidedEvents);
          for (const event of decidedEvents) decidedByType.set(event.type, (decidedByType.get(event.type) ?? 0) + 1);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          refused++;
        }
        checkState(state);
      }
      audit(events, ktpLimit);
      // A snapshot brings back the same state, derived maps included.
      const restored = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(state))) as ConcertSnapshot);
      if (JSON.stringify(toSnapshot(restored)) !== JSON.stringify(toSnapshot(state))) throw new Error('snapshot round trip changed the state');
      if (JSON.stringify([...restored.activeBookingByUser].sort()) !== JSON.stringify([...state.activeBookingByUser].sort())) throw new Error('active bookings differ after a snapshot');
      if (JSON.stringify([...restored.ticketsByKtp].sort()) !== JSON.stringify([...state.ticketsByKtp].sort())) throw new Error('KTP counts differ after a snapshot');
      checkState(restored);
    }),
    { numRuns: 400 },
  );
  // The sequences must reach every transition, or the property proves little.
  t.ok((decidedByType.get('SeatsAdded') ?? 0) > 50, `SeatsAdded decided ${decidedByType.get('SeatsAdded') ?? 0} times`);
  for (const type of ['SeatsHeld', 'HoldReleased', 'SeatsSold']) {
    t.ok((decidedByType.get(type) ?? 0) > 200, `${type} decided ${decidedByType.get(type) ?? 0} times`);
  }
  t.ok(refused > 1000, `commands refused (${refused})`);
});
