/**
 * The process managers that finish what a request started, driven by events so that a crash or
 * a restart loses nothing:
 * - bookings: every hold gets its booking stream (repair after a crash between the two
 *   appends); a hold made with a waiting room's pass gets its PassUsed (or, when the pass cannot
 *   be spent on it any more, is cancelled); an expired hold expires its booking; a cancelled concert cancels pending bookings;
 *   the due-time index of unpaid holds follows the holds, and the index of which concert a sold
 *   ticket (a seat's id) belongs to follows the sales;
 * - payments: settles every succeeded or failed payment (the webhook usually did already), owes
 *   back the money of every sold booking of a cancelled concert, and finishes opening a payment
 *   whose request died between the booking's stream and the gateway;
 * and the hold expirer, which releases holds whose time is up according to that index.
 */
import type { CommandContext, UpcasterRegistry } from '../../domain/index.ts';
import { bookingDecider, bookingStream } from '../../domain/booking/index.ts';
import type { SeatsHeld } from '../../domain/concert/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import { instant } from '../../domain/shared/decider.ts';
import { decode, eventsOf, type DecodedFrom } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { Ticker } from '../../lib/ticker.ts';
import { isRefusal, type RefusalCode } from '../../lib/errors.ts';
import { ensureBookingPlaced, findHold } from '../bookings/placement.ts';
import type { BookingPlacer } from '../bookings/placer.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { PaymentService } from '../payments/payments.ts';
import type { QueueWriter } from '../queue/queue-writer.ts';
import { spendPass } from '../queue/spend-pass.ts';
import type { ReactorStore } from './reactor-store.ts';
import type { Reactor } from './runner.ts';

/** How old a hold must be before the bookings reactor writes its booking stream instead of the request. */
const REPAIR_AFTER_MS = 2_000;

/** The metadata of what a reactor appends: caused by the event it reacted to, by nobody. */
function causedBy(event: RecordedEvent, now: () => Date): CommandContext {
  const correlation = event.metadata.correlation_id;
  return {
    correlationId: typeof correlation === 'string' ? correlation : event.id,
    causationId: event.id,
    actorId: null,
    occurredAt: now().toISOString(),
  };
}

/** What the bookings reactor reads: the concert streams' holds, releases and sales. */
const concertOutcomes = eventsOf('SeatsHeld', 'HoldReleased', 'SeatsSold');
type ConcertOutcome = DecodedFrom<typeof concertOutcomes>;

/** What the payments reactor reads: the gateway's answers, concert cancellations, payments opened. */
const paymentOutcomes = eventsOf('PaymentSucceeded', 'PaymentFailed', 'ConcertCancelled', 'BookingPaymentOpened');

export function bookingsReactor(deps: {
  store: EventStore;
  commands: CommandHandler;
  writer: ConcertWriter;
  placer: BookingPlacer;
  reactors: ReactorStore;
  now: () => Date;
  /** Where the passes of holds made through a waiting room are spent (none: no waiting rooms here). */
  queues?: QueueWriter;
  /** Old event versions are upcast with these (the domain's own by default). */
  upcasters?: UpcasterRegistry;
}): Reactor {
  return {
    name: 'bookings',
    filter: { streamPrefixes: ['concert-'], eventTypes: concertOutcomes.types },
    async handle(recorded) {
      const events = recorded.map((event) => decode(event, concertOutcomes, deps.upcasters));
      // The due-time index first, without waiting: a hold may be due soon. Adding and removing
      // are idempotent, so reading a page again after a crash does no harm.
      await indexDeadlines(deps.reactors, events);
      await deps.reactors.addTickets(events.flatMap((event) => (event.type === 'SeatsSold'
        ? event.data.seat_ids.map((ticketId) => ({ ticketId, concertId: event.data.concert_id }))
        : [])));
      // Repair first, all holds of the page at once: one read finds the booking streams that are
      // missing. Holds younger than REPAIR_AFTER_MS are waited for: their request is still writing them.
      const holds = events.flatMap((event) => (event.type === 'SeatsHeld' ? [event] : []));
      const youngest = Math.max(0, ...holds.map((event) => instant(event.data.held_at)));
      const wait = youngest + REPAIR_AFTER_MS - deps.now().getTime();
      if (holds.length > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const existing = await deps.store.streamRevisions(holds.map((event) => bookingStream(event.data.booking_id)));
      await Promise.all(holds
        .filter((event) => !existing.has(bookingStream(event.data.booking_id)))
        .map((event) => deps.placer.place(event.data, causedBy(event, deps.now))));
      for (const event of holds) await spendHoldsPass(deps, event.data, causedBy(event, deps.now));
      for (const event of events) {
        const context = causedBy(event, deps.now);
        if (event.type === 'HoldReleased') {
          const { booking_id: bookingId, reason, released_at: releasedAt } = event.data;
          if (reason === 'expired') {
            await deps.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'ExpireBooking', now: releasedAt }, context);
          } else if (reason === 'concert_cancelled') {
            await ignoring(['BOOKING_NOT_CANCELLABLE'], deps.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'CancelBooking', cancelled_by: 'concert_cancelled', now: releasedAt }, context));
          }
        }
      }
    },
  };
}

/**
 * The pass a hold was made with, recorded as spent on its booking (a no-op when its request did
 * it), also when the hold was released since: the concert counts the pass as that booking's
 * either way. Spent as of the hold's instant, when the pass was good; one recorded expired before
 * this repair came cancels the booking. No read of the concert: its lane is the sale's hot path.
 */
async function spendHoldsPass(deps: Parameters<typeof bookingsReactor>[0], held: SeatsHeld['data'], context: CommandContext): Promise<void> {
  if (held.pass_id === undefined || deps.queues === undefined) return;
  const spent = { concertId: held.concert_id, passId: held.pass_id, userId: held.user_id, bookingId: held.booking_id, at: held.held_at };
  await ignoring(['INVALID_PASS'], spendPass({ queues: deps.queues, writer: deps.writer, commands: deps.commands }, spent, context));
}

/** The due-time index of unpaid holds, in step with the events. */
async function indexDeadlines(reactors: ReactorStore, events: readonly ConcertOutcome[]): Promise<void> {
  const added = [];
  const removed = [];
  for (const event of events) {
    if (event.type === 'SeatsHeld') {
      const held = event.data;
      added.push({ bookingId: held.booking_id, concertId: held.concert_id, expiresAt: instant(held.expires_at) });
    } else if (event.type === 'HoldReleased' || event.type === 'SeatsSold') {
      removed.push(event.data.booking_id);
    }
  }
  await reactors.addDeadlines(added);
  await reactors.removeDeadlines(removed);
}

export function paymentsReactor(deps: { commands: CommandHandler; payments: PaymentService; now: () => Date; upcasters?: UpcasterRegistry }): Reactor {
  return {
    name: 'payments',
    filter: { streamPrefixes: ['payment-', 'concert-', 'booking-'], eventTypes: paymentOutcomes.types },
    async handle(recorded) {
      const events = recorded.map((event) => decode(event, paymentOutcomes, deps.upcasters));
      // Payments younger than REPAIR_AFTER_MS are waited for: their request is still opening them.
      const opened = events.flatMap((event) => (event.type === 'BookingPaymentOpened' ? [instant(event.data.opened_at)] : []));
      const wait = Math.max(0, ...opened) + REPAIR_AFTER_MS - deps.now().getTime();
      if (opened.length > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      for (const event of events) {
        const context = causedBy(event, deps.now);
        if (event.type === 'BookingPaymentOpened') {
          await deps.payments.finishOpening(event.data.booking_id, event.data.payment_id, context);
        } else if (event.type === 'ConcertCancelled') {
          await deps.payments.refundCancelledConcert(event.data.concert_id, context);
        } else {
          const { state } = await deps.commands.load(paymentStream(event.data.transaction_id), paymentDecider);
          if (state.status !== 'none') await deps.payments.settle(state, context);
        }
      }
    },
  };
}

/**
 * Releases holds whose time is up, by the due-time index (which survives restarts). The
 * release is an event like any other: the bookings reactor expires the booking from it, and
 * the index drops the deadline when it sees it.
 */
export class HoldExpirer {
  #ticker: Ticker | undefined;

  constructor(
    private readonly deps: {
      reactors: ReactorStore;
      writer: ConcertWriter;
      /** Where a hold's booking stream is checked, and written from its SeatsHeld when missing, before the hold is released. */
      store: EventStore;
      commands: CommandHandler;
      now: () => Date;
      intervalMs: number;
      onError: (error: unknown) => void;
    },
  ) {}

  start(): void {
    this.#ticker ??= new Ticker(this.deps.intervalMs, () => this.expireDue(), this.deps.onError);
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker?.stop();
  }

  /** Releases every hold due now; returns how many were released. */
  async expireDue(): Promise<number> {
    const now = this.deps.now();
    let released = 0;
    const due = await this.deps.reactors.due(now.getTime(), 500);
    // No hold is released before its booking stream exists (one read for the page; written from
    // the hold when its request died and the repair failed too). Every other release goes through
    // the booking's stream (cancel, failed payment) or cancels the concert for good: so, on a
    // concert that has forgotten released holds, a booking id with no stream never held seats
    // there, which is what a keyed booking's retry relies on (never_held in bookings.ts).
    const placed = due.length === 0 ? new Map<string, number>() : await this.deps.store.streamRevisions(due.map((deadline) => bookingStream(deadline.bookingId)));
    for (const deadline of due) {
      const context: CommandContext = { correlationId: `expiry-${deadline.bookingId}`, causationId: 'hold-expirer', actorId: null, occurredAt: now.toISOString() };
      if (!placed.has(bookingStream(deadline.bookingId))) {
        try {
          // The rare path: the hold's SeatsHeld is looked up in the concert's stream.
          await ensureBookingPlaced(this.deps.store, this.deps.commands, await findHold(this.deps.store, deadline.concertId, deadline.bookingId), context);
        } catch (error) {
          // Not released while its booking is missing: the next round tries again; the others go on.
          this.deps.onError(error);
          continue;
        }
      }
      try {
        const written = await this.deps.writer.submit(deadline.concertId, { type: 'ReleaseHold', booking_id: deadline.bookingId, reason: 'expired', now: context.occurredAt }, context);
        if (written.events.length > 0) released++;
        else await this.deps.reactors.removeDeadlines([deadline.bookingId]);
      } catch (error) {
        // This instance's clock is behind the one that set the deadline: next round.
        if (isRefusal(error, 'HOLD_NOT_EXPIRED')) continue;
        // Paid or gone: nothing to expire. Anything else waits for the next round.
        if (!isRefusal(error, 'HOLD_ALREADY_SOLD', 'HOLD_NOT_FOUND', 'CONCERT_NOT_FOUND')) throw error;
        await this.deps.reactors.removeDeadlines([deadline.bookingId]);
      }
    }
    return released;
  }
}

async function ignoring<T>(codes: RefusalCode[], work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (isRefusal(error, ...codes)) return undefined;
    throw error;
  }
}
