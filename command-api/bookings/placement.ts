/**
 * A booking stream made from its hold: the data is all in the SeatsHeld event, the commit point,
 * unless the booking stream was committed in the hold's own transaction (storedWithItsBooking).
 */
import type { CommandContext } from '../../domain/index.ts';
import { bookingDecider, bookingStream, type PlaceBooking } from '../../domain/booking/index.ts';
import { concertStream, type ConcertEvent, type SeatsHeld } from '../../domain/concert/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { EventStore, StreamWrite } from '../../eventstore/port.ts';
import { isRefusal } from '../../lib/errors.ts';
import { toAppend, type CommandHandler } from '../command-handler.ts';

/** The booking stream's placement, made from the hold's own data; null when the hold does not carry the buyer. */
function placementFrom(held: SeatsHeld['data'], now: string): PlaceBooking | null {
  const personal = held.personal_data;
  if (personal?.buyer === undefined) return null;
  return {
    type: 'PlaceBooking',
    booking_id: held.booking_id,
    user_id: held.user_id,
    concert_id: held.concert_id,
    seats: held.seats,
    total_price: held.total_price,
    expires_at: held.expires_at,
    buyer: personal.buyer,
    ticket_holders: personal.ticket_holders,
    buyer_email_digest: personal.buyer_email_digest,
    now,
  };
}

/** The booking stream's placement, made from the hold's own data (which must carry the buyer). */
export function placeBookingFrom(held: SeatsHeld['data'], now: string): PlaceBooking {
  const placement = placementFrom(held, now);
  if (placement === null) throw new Error(`hold ${held.booking_id} carries no buyer details`);
  return placement;
}

/** The booking stream of a hold, as a new stream: its BookingPlaced, made from the hold. */
export function bookingStreamOf(held: SeatsHeld['data'], context: CommandContext, newId: () => string): StreamWrite {
  const events = bookingDecider.decide(placeBookingFrom(held, held.held_at), bookingDecider.initialState());
  return { stream: bookingStream(held.booking_id), events: toAppend(events, context, newId), expected: 'no_stream' };
}

/** The booking streams of a batch's holds, written in the hold's transaction (ConcertWriter's companionsOf). */
export function bookingStreamsOf(events: readonly ConcertEvent[], context: CommandContext, newId: () => string): StreamWrite[] {
  return events.flatMap((event) => (event.type === 'SeatsHeld' ? [bookingStreamOf(event.data, context, newId)] : []));
}

/**
 * A hold as stored when its booking stream (bookingStreamsOf) is committed in the same
 * transaction (ConcertWriter's storedWithCompanions): without the buyer and the email's digest,
 * which its BookingPlaced carries, and nothing can come between the two: the buyer is written
 * once, where it was twice (bench/REPORT.md, flash-sale, change 7). The ticket holders stay: the
 * concert's state gives each to its seat's ticket at the sale.
 */
export function storedWithItsBooking(event: ConcertEvent): ConcertEvent {
  if (event.type !== 'SeatsHeld' || event.data.personal_data === null) return event;
  return { ...event, data: { ...event.data, personal_data: { ticket_holders: event.data.personal_data.ticket_holders } } };
}

/**
 * Writes `booking-<id>` from its hold unless it exists (the request and the repair reactor may
 * both try); returns the position of its BookingPlaced either way.
 */
export async function ensureBookingPlaced(store: EventStore, commands: CommandHandler, held: SeatsHeld['data'], context: CommandContext): Promise<number> {
  // A hold without the buyer was committed with its booking stream (or carries no details at all).
  const placement = placementFrom(held, held.held_at);
  if (placement !== null) {
    try {
      return (await commands.execute(bookingStream(held.booking_id), bookingDecider, placement, context)).position;
    } catch (error) {
      if (!isRefusal(error, 'BOOKING_ALREADY_EXISTS')) throw error;
    }
  }
  const [placed] = await store.readStream(bookingStream(held.booking_id), { maxCount: 1 });
  if (placed === undefined) {
    throw new Error(placement === null ? `hold ${held.booking_id} carries no buyer details and its booking stream is missing` : `booking ${held.booking_id} was refused as existing but has no events`);
  }
  return placed.position;
}

const heldEvents = eventsOf('SeatsHeld');

/** The SeatsHeld of a booking, from the concert stream (newest first): the rare path after a crash. */
export async function findHold(store: EventStore, concertId: string, bookingId: string): Promise<SeatsHeld['data']> {
  let from: number | undefined;
  for (;;) {
    const page = await store.readStream(concertStream(concertId), { direction: 'backward', maxCount: 500, ...(from !== undefined ? { fromRevision: from } : {}) });
    for (const recorded of page) {
      // Only holds are decoded: the newest thousands of a long sale are mostly other events.
      if (recorded.type !== 'SeatsHeld') continue;
      const event = decode(recorded, heldEvents);
      if (event.data.booking_id === bookingId) return event.data;
    }
    const last = page[page.length - 1];
    if (last === undefined || last.revision === 0) throw new Error(`no hold for booking ${bookingId} in concert ${concertId}`);
    from = last.revision - 1;
  }
}
