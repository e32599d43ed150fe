/**
 * An auditor's replay of a concert stream, seat by seat, from the events alone (not the
 * decider's state): who holds each seat, which are sold, and how often a hold took a seat that
 * another booking still had — which must never happen.
 */
import { concertEvents } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';

export interface SeatReplay {
  /** Seat id → the booking holding or owning it. */
  readonly owner: Map<string, string>;
  readonly sold: Set<string>;
  /** Booking id → the seats it holds or bought. */
  readonly seatsOf: Map<string, string[]>;
  /** Seats taken by a hold while another booking had them. */
  readonly doubles: number;
}

export function replaySeats(events: readonly RecordedEvent[]): SeatReplay {
  const owner = new Map<string, string>();
  const sold = new Set<string>();
  const seatsOf = new Map<string, string[]>();
  let doubles = 0;
  for (const recorded of events) {
    const event = decode(recorded, concertEvents);
    if (event.type === 'SeatsHeld') {
      const seats = event.data.seats.map((seat) => seat.seat_id);
      for (const seat of seats) {
        if (owner.has(seat)) doubles++;
        owner.set(seat, event.data.booking_id);
      }
      seatsOf.set(event.data.booking_id, seats);
    } else if (event.type === 'HoldReleased') {
      for (const seat of seatsOf.get(event.data.booking_id) ?? []) owner.delete(seat);
      seatsOf.delete(event.data.booking_id);
    } else if (event.type === 'SeatsSold') {
      for (const seat of seatsOf.get(event.data.booking_id) ?? []) sold.add(seat);
    }
  }
  return { owner, sold, seatsOf, doubles };
}
