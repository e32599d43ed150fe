/**
 * A synthetic but valid history of a busy sale, appended straight to an event store: users
 * registered, concerts scheduled and published, and bookings that are paid (some of their tickets
 * transferred, some admitted at the door), fail payment, are cancelled or expire, each with the
 * events the command side would have written. Seats are allocated like the inventory does (never
 * two holds on one seat; released seats are sold again later), so the true availability at the
 * end is known. For projection tests and benchmarks that need far more events than the HTTP path
 * could write in the time.
 */
import { randomUUID } from 'node:crypto';
import { seatId } from '../../domain/concert/seats.ts';
import { upcasters, type DomainEvent } from '../../domain/index.ts';
import type { EventStore, EventToAppend, StreamWrite } from '../../eventstore/port.ts';
import { sealed } from './sealed.ts';
import { seededRandom } from './seeded-random.ts';

export interface FlowOptions {
  readonly users: number;
  readonly concerts: number;
  /** Seats of each ticket class of every concert. */
  readonly classSeats: readonly number[];
  readonly bookings: number;
  readonly seed?: number;
  /** Bookings per group of appends (default 250). */
  readonly chunk?: number;
  readonly onProgress?: (eventsAppended: number) => void;
}

export interface FlowConcert {
  readonly id: string;
  readonly classes: readonly { readonly id: string; readonly seats: number; readonly price: number }[];
}

export interface FlowSummary {
  readonly events: number;
  readonly head: number;
  readonly concerts: readonly FlowConcert[];
  readonly userIds: readonly string[];
  /** Available seats per ticket class at the end. */
  readonly available: ReadonlyMap<string, number>;
  readonly bookingsByStatus: Readonly<Record<'confirmed' | 'failed' | 'cancelled' | 'expired', number>>;
}

const BASE_TIME = Date.parse('2026-12-01T10:00:00.000Z');

function envelope(event: DomainEvent, actor: string | null, at: string): EventToAppend {
  const id = randomUUID();
  return {
    id,
    type: event.type,
    data: event.data,
    metadata: {
      event_id: id, correlation_id: id, causation_id: id, actor_id: actor,
      schema_version: upcasters.currentVersion(event.type), occurred_at: at,
    },
  };
}

export async function appendBookingFlow(store: EventStore, options: FlowOptions): Promise<FlowSummary> {
  const rand = seededRandom(options.seed ?? 7);
  const pick = (n: number): number => Math.floor(rand() * n);
  const chunk = options.chunk ?? 250;
  let appended = 0;
  let clock = BASE_TIME;
  const tick = (): string => new Date(clock += 7).toISOString();

  const write = async (writes: StreamWrite[]): Promise<void> => {
    if (writes.length === 0) return;
    const results = await store.appendMany(writes);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    appended += writes.reduce((sum, w) => sum + w.events.length, 0);
    options.onProgress?.(appended);
  };

  const userIds = Array.from({ length: options.users }, () => randomUUID());
  for (let start = 0; start < userIds.length; start += 500) {
    await write(userIds.slice(start, start + 500).map((userId, index) => {
      const at = tick();
      return {
        stream: `user-${userId}`,
        expected: 'no_stream' as const,
        events: [envelope({
          type: 'UserRegistered',
          data: {
            user_id: userId, username: `fan${start + index}_${userId.slice(0, 8)}`, email_hash: randomUUID().replace(/-/g, '').padEnd(64, '0'),
            email: sealed(`fan${start + index}@example.com`), password_hash: '$argon2id$v=19$stand-in', role: 'customer', registered_at: at,
          },
        }, userId, at)],
      };
    }));
  }

  const concerts: FlowConcert[] = Array.from({ length: options.concerts }, (_, index) => ({
    id: randomUUID(),
    classes: options.classSeats.map((seats, classIndex) => ({ id: randomUUID(), seats, price: 250_000 * (classIndex + 1) + index })),
  }));
  const revisions = new Map<string, number>();
  const free = new Map<string, number[]>(); // class id → free seat numbers
  for (const concert of concerts) {
    const at = tick();
    await write([{
      stream: `concert-${concert.id}`,
      expected: 'no_stream',
      events: [
        envelope({
          type: 'ConcertScheduled',
          data: {
            concert_id: concert.id, name: `Konser ${concert.id.slice(0, 6)}`, artist: 'Hindia', date: '2027-03-01T12:00:00.000Z',
            venue: 'GBK', description: null, image_url: null, max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null,
            ticket_classes: concert.classes.map((c, i) => ({ ticket_class_id: c.id, name: `Class ${i + 1}`, price: c.price, seat_count: c.seats })),
            scheduled_at: at,
          },
        }, null, at),
        envelope({ type: 'ConcertPublished', data: { concert_id: concert.id, published_at: at } }, null, at),
      ],
    }]);
    revisions.set(concert.id, 1);
    for (const c of concert.classes) free.set(c.id, Array.from({ length: c.seats }, (_, i) => c.seats - i));
  }

  const byStatus = { confirmed: 0, failed: 0, cancelled: 0, expired: 0 };
  for (let done = 0; done < options.bookings; done += chunk) {
    const concertEvents = new Map<string, EventToAppend[]>();
    const releases = new Map<string, EventToAppend[]>();
    const freed: [string, number][] = [];
    const others: StreamWrite[] = [];
    for (let n = done; n < Math.min(options.bookings, done + chunk); n++) {
      const concert = concerts[pick(concerts.length)] as FlowConcert;
      const ticketClass = concert.classes[pick(concert.classes.length)] as FlowConcert['classes'][number];
      const seatsLeft = free.get(ticketClass.id) as number[];
      const quantity = Math.min(1 + pick(5), seatsLeft.length);
      if (quantity === 0) continue;
      const numbers = seatsLeft.splice(seatsLeft.length - quantity, quantity);
      const seats = numbers.map((number) => ({ seat_id: seatId(ticketClass.id, number), ticket_class_id: ticketClass.id, seat_number: number, price: ticketClass.price }));
      const userId = userIds[n % userIds.length] as string;
      const bookingId = randomUUID();
      const total = quantity * ticketClass.price;
      const heldAt = tick();
      const expiresAt = new Date(clock + 900_000).toISOString();
      const list = concertEvents.get(concert.id) ?? [];
      concertEvents.set(concert.id, list);
      list.push(envelope({
        type: 'SeatsHeld',
        data: {
          concert_id: concert.id, booking_id: bookingId, user_id: userId, seats, total_price: total,
          ktp_fingerprints: seats.map(() => `fp-${userId}`), personal_data: null, held_at: heldAt, expires_at: expiresAt,
        },
      }, userId, heldAt));
      const booking: EventToAppend[] = [envelope({
        type: 'BookingPlaced',
        data: {
          booking_id: bookingId, user_id: userId, concert_id: concert.id, seats, total_price: total,
          buyer: sealed(`buyer of ${bookingId}`), ticket_holders: seats.map((_, i) => sealed(`holder ${i} of ${bookingId}`)),
          placed_at: heldAt, expires_at: expiresAt,
        },
      }, userId, heldAt)];
      const release = (reason: 'cancelled' | 'expired' | 'payment_failed'): void => {
        const at = tick();
        const list = releases.get(concert.id) ?? [];
        releases.set(concert.id, list);
        list.push(envelope({ type: 'HoldReleased', data: { concert_id: concert.id, booking_id: bookingId, seat_ids: seats.map((s) => s.seat_id), reason, released_at: at } }, null, at));
        for (const number of numbers) freed.push([ticketClass.id, number]);
      };
      const roll = rand();
      if (roll < 0.8) {
        const paymentId = randomUUID();
        const transactionId = randomUUID();
        const at = tick();
        booking.push(envelope({ type: 'BookingPaymentStarted', data: { booking_id: bookingId, payment_id: paymentId, transaction_id: transactionId, method: 'virtual_account', amount: total, started_at: at } }, userId, at));
        const payment: EventToAppend[] = [envelope({
          type: 'PaymentRequested',
          data: { payment_id: paymentId, transaction_id: transactionId, booking_id: bookingId, user_id: userId, amount: total, method: 'virtual_account', checkout_url: `http://localhost/checkout/${transactionId}`, requested_at: at },
        }, userId, at)];
        const settledAt = tick();
        if (roll < 0.7) {
          payment.push(envelope({ type: 'PaymentSucceeded', data: { payment_id: paymentId, transaction_id: transactionId, booking_id: bookingId, amount: total, succeeded_at: settledAt } }, null, settledAt));
          booking.push(envelope({ type: 'BookingConfirmed', data: { booking_id: bookingId, transaction_id: transactionId, confirmed_at: settledAt } }, null, settledAt));
          const list = releases.get(concert.id) ?? [];
          releases.set(concert.id, list);
          list.push(envelope({ type: 'SeatsSold', data: { concert_id: concert.id, booking_id: bookingId, seat_ids: seats.map((s) => s.seat_id), transaction_id: transactionId, sold_at: settledAt } }, null, settledAt));
          // The door: some tickets change holder, some get in (at one of three gates).
          const ticketId = seats[0]?.seat_id as string;
          if (roll < 0.1) {
            list.push(envelope({
              type: 'TicketTransferred',
              data: { concert_id: concert.id, booking_id: bookingId, ticket_id: ticketId, revision: 2, holder: sealed(`new holder of ${ticketId}`), ktp_fingerprint: `fp-new-${userId}`, transferred_at: settledAt },
            }, userId, settledAt));
          }
          if (roll < 0.35) {
            list.push(envelope({
              type: 'TicketAdmitted',
              data: { concert_id: concert.id, booking_id: bookingId, ticket_id: ticketId, revision: roll < 0.1 ? 2 : 1, gate: `gate-${n % 3}`, scanned_at: settledAt, admitted_at: settledAt },
            }, null, settledAt));
          }
          byStatus.confirmed++;
        } else {
          payment.push(envelope({ type: 'PaymentFailed', data: { payment_id: paymentId, transaction_id: transactionId, booking_id: bookingId, reason: 'declined', failed_at: settledAt } }, null, settledAt));
          booking.push(envelope({ type: 'BookingPaymentFailed', data: { booking_id: bookingId, transaction_id: transactionId, reason: 'declined', failed_at: settledAt } }, null, settledAt));
          release('payment_failed');
          byStatus.failed++;
        }
        others.push({ stream: `payment-${transactionId}`, expected: 'no_stream', events: payment });
      } else if (roll < 0.9) {
        const at = tick();
        booking.push(envelope({ type: 'BookingCancelled', data: { booking_id: bookingId, cancelled_by: 'owner', cancelled_at: at } }, userId, at));
        release('cancelled');
        byStatus.cancelled++;
      } else {
        const at = tick();
        booking.push(envelope({ type: 'BookingExpired', data: { booking_id: bookingId, expired_at: at } }, null, at));
        release('expired');
        byStatus.expired++;
      }
      others.push({ stream: `booking-${bookingId}`, expected: 'no_stream', events: booking });
    }
    const concertWrites: StreamWrite[] = [...concertEvents].map(([id, events]) => {
      const all = [...events, ...(releases.get(id) ?? [])];
      const expected = revisions.get(id) as number;
      revisions.set(id, expected + all.length);
      return { stream: `concert-${id}`, expected, events: all };
    });
    await write([...concertWrites, ...others]);
    for (const [classId, number] of freed) (free.get(classId) as number[]).push(number);
  }

  const available = new Map<string, number>();
  for (const concert of concerts) for (const c of concert.classes) available.set(c.id, (free.get(c.id) as number[]).length);
  return { events: appended, head: await store.headPosition(), concerts, userIds, available, bookingsByStatus: byStatus };
}
