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
 *
 * The holds this process writes with their booking streams are not read back: HoldsIndexedHere
 * indexes their due times as they are written, and the bookings reactor moves past them once it has.
 */
import type { CommandContext, UpcasterRegistry } from '../../domain/index.ts';
import { bookingDecider, bookingStream } from '../../domain/booking/index.ts';
import type { ConcertEvent, SeatsHeld } from '../../domain/concert/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import { instant } from '../../domain/shared/decider.ts';
import { decode, eventsOf, type DecodedFrom } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent, StreamWrite } from '../../eventstore/port.ts';
import { eachConcurrently } from '../../lib/each-concurrently.ts';
import { Ticker } from '../../lib/ticker.ts';
import { withTimeout } from '../../lib/timeout.ts';
import { isRefusal, type RefusalCode } from '../../lib/errors.ts';
import { ensureBookingPlaced, findHold } from '../bookings/placement.ts';
import type { BookingPlacer } from '../bookings/placer.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { PaymentService } from '../payments/payments.ts';
import type { QueueWriter } from '../queue/queue-writer.ts';
import { spendPass } from '../queue/spend-pass.ts';
import type { Deadline, ReactorStore } from './reactor-store.ts';
import type { Reactor } from './runner.ts';

/** How old a hold must be before the bookings reactor writes its booking stream instead of the request. */
const REPAIR_AFTER_MS = 2_000;

/** How long the holds written here wait to have their due times written together (HoldsIndexedHere): one INSERT each time. */
export const HOLDS_INDEXED_EVERY_MS = 100;

/** A write of those due times that takes longer is given up: their holds are read back instead. */
export const HOLDS_INDEXED_TIMEOUT_MS = 5_000;

/** Deadlines the hold expirer takes in one round. */
const DUE_PER_ROUND = 500;

/**
 * Releases the hold expirer has submitted and not yet seen committed, at most: a round's 500 go in
 * about ten appends (an idle lane takes the first alone, the rest wait for the next). Fewer when
 * the concerts' queues are short (releasesInFlight): the releases take room in the queue that
 * buyers and the waiting room's keeper count on.
 */
export const RELEASES_IN_FLIGHT = 100;

/** The releases in flight for a queue limit (COMMAND_QUEUE_LIMIT): an eighth of it, so a burst never fills a queue nor slows the waiting room's admissions. */
export function releasesInFlight(queueLimit: number): number {
  return Math.max(1, Math.min(RELEASES_IN_FLIGHT, Math.floor(queueLimit / 8)));
}

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
  /** The holds of this process's batches, indexed as they are written: not read back (none: every hold is read). */
  indexedHere?: HoldsIndexedHere;
}): Reactor {
  const { indexedHere } = deps;
  return {
    name: 'bookings',
    filter: { streamPrefixes: ['concert-'], eventTypes: concertOutcomes.types },
    ...(indexedHere === undefined ? {} : { handledHere: (writes: readonly StreamWrite[]) => indexedHere.handled(writes) }),
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

/**
 * The bookings reactor's work on the holds this process writes, done as they are written instead
 * of by reading them back from $all. A hold committed with its booking stream (the concert
 * writer's companions, one transaction) needs nothing from the reactor but its due time indexed:
 * a flash sale is thousands of them a second, and reading each back, two seconds later, cost the
 * command role about a tenth of its throughput (bench/REPORT.md, flash-sale).
 *
 * The concert writer tells each batch it is about to write with its companions (writing); the
 * bookings reactor's subscription asks about each append of this process it would read (handled).
 * The due times of what was taken on are written to the reactor store every `flushMs`, and only
 * once they are there does the subscription move past those appends: a crash before that leaves
 * them behind its checkpoint, to be read as before. A batch is taken on only when the reactor
 * would do nothing else with it: every hold in it has its booking stream in the same writes and
 * no waiting-room pass, and nothing in it is released or sold. Anything else is read back.
 */
export class HoldsIndexedHere {
  /** The due times of each batch taken on, by the writes the store will tell its subscriptions. */
  readonly #taken = new WeakMap<readonly StreamWrite[], Deadline[]>();
  /** Appends told and taken on, waiting for the next write of due times. */
  #queued: { readonly deadlines: readonly Deadline[]; readonly written: () => void; readonly failed: (error: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

  constructor(
    /** Where the due times go: the reactor store the hold expirer reads. */
    private readonly reactors: Pick<ReactorStore, 'addDeadlines'>,
    private readonly options: {
      /** How long appends wait to have their due times written together (each write is one INSERT). */
      readonly flushMs: number;
      /** A write of due times taking longer is given up: its appends are read back instead. */
      readonly timeoutMs: number;
      readonly onError: (error: unknown) => void;
    },
  ) {}

  /** The concert writer, before appending a batch with its companions in one transaction. */
  writing(writes: readonly StreamWrite[], events: readonly ConcertEvent[]): void {
    const streams = new Set(writes.map((write) => write.stream));
    const deadlines: Deadline[] = [];
    for (const event of events) {
      // A release or a sale has more for the reactor to do (concertOutcomes): the batch is read back.
      if (event.type === 'HoldReleased' || event.type === 'SeatsSold') return;
      if (event.type !== 'SeatsHeld') continue;
      const held = event.data;
      if (held.pass_id !== undefined || !streams.has(bookingStream(held.booking_id))) return;
      deadlines.push({ bookingId: held.booking_id, concertId: held.concert_id, expiresAt: instant(held.expires_at) });
    }
    if (deadlines.length > 0) this.#taken.set(writes, deadlines);
  }

  /**
   * The bookings reactor's subscription, of an append of this process: settles once the due
   * times of a batch taken on are written (rejects when they could not be), undefined when it was
   * not taken on.
   */
  handled(writes: readonly StreamWrite[]): Promise<void> | undefined {
    const deadlines = this.#taken.get(writes);
    if (deadlines === undefined || this.#closed) return undefined;
    this.#taken.delete(writes);
    return new Promise<void>((resolve, reject) => {
      this.#queued.push({ deadlines, written: resolve, failed: reject });
      this.#schedule();
    });
  }

  /** Stops taking appends on; those waiting are read back instead (after a restart, from the checkpoint). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    const stopped = new Error('holds indexed here: closed before their due times were written');
    for (const waiting of this.#queued.splice(0)) waiting.failed(stopped);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#writing !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#write().finally(() => {
        this.#writing = undefined;
        if (this.#queued.length > 0) this.#schedule();
      });
    }, this.options.flushMs);
  }

  async #write(): Promise<void> {
    const batch = this.#queued.splice(0);
    try {
      await withTimeout(this.reactors.addDeadlines(batch.flatMap((waiting) => waiting.deadlines)), this.options.timeoutMs, 'holds indexed here: the write of due times (read back instead)');
      for (const waiting of batch) waiting.written();
    } catch (error) {
      // Rejected first: each is a subscription waiting to read them back, whatever onError does.
      for (const waiting of batch) waiting.failed(error);
      this.options.onError(error);
    }
  }
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
  /**
   * Concerts whose queue was full in the last round, when that round took a full page of due
   * times: the next round takes the other concerts' first, so a concert whose sale keeps its queue
   * full does not hold back the expiry of every other concert behind its oldest due times (a round
   * takes the oldest DUE_PER_ROUND of all concerts); the rest of the page is theirs. After a page
   * that was not full nobody was held back: a concert alone in its rush is tried every round.
   */
  #overloaded: readonly string[] = [];

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
      /** Releases submitted at once (RELEASES_IN_FLIGHT when not given; see releasesInFlight). */
      releasesInFlight?: number;
    },
  ) {}

  start(): void {
    this.#ticker ??= new Ticker(this.deps.intervalMs, () => this.expireDue(), this.deps.onError);
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker?.stop();
  }

  /**
   * Releases every hold due now (up to DUE_PER_ROUND); returns how many were released. The
   * releases are submitted together, releasesInFlight at a time, so the concert's writer commits
   * them in a few appends: after a big sale, the holds nobody paid for all come due within minutes,
   * and one append each (1–3 ms on MariaDB, more where every commit is flushed to disk) gave their
   * seats back a few hundred a second. An error other than a refusal is thrown once the others are
   * settled (the ones after it are reported).
   */
  async expireDue(): Promise<number> {
    const now = this.deps.now();
    const others = await this.deps.reactors.due(now.getTime(), DUE_PER_ROUND, { except: this.#overloaded });
    const due = others.length < DUE_PER_ROUND && this.#overloaded.length > 0
      ? [...others, ...await this.deps.reactors.due(now.getTime(), DUE_PER_ROUND - others.length, { only: this.#overloaded })]
      : others;
    this.#overloaded = [];
    if (due.length === 0) return 0;
    // No hold is released before its booking stream exists (one read for the page; written from
    // the hold when its request died and the repair failed too). Every other release goes through
    // the booking's stream (cancel, failed payment) or cancels the concert for good: so, on a
    // concert that has forgotten released holds, a booking id with no stream never held seats
    // there, which is what a keyed booking's retry relies on (never_held in bookings.ts).
    const placed = await this.deps.store.streamRevisions(due.map((deadline) => bookingStream(deadline.bookingId)));
    const gone: string[] = [];
    const errors: unknown[] = [];
    const overloaded = new Set<string>();
    let released = 0;
    let putOff = 0;
    const expire = async (deadline: Deadline, isPlaced: boolean): Promise<void> => {
      try {
        const outcome = await this.#expire(deadline, isPlaced, now);
        if (outcome === 'released') released++;
        else if (outcome === 'gone') gone.push(deadline.bookingId);
        else if (outcome === 'overloaded') {
          putOff++;
          overloaded.add(deadline.concertId);
        }
      } catch (error) {
        errors.push(error);
      }
    };
    // The rare ones without a booking stream first, one at a time: each reads its concert's stream for the hold.
    for (const deadline of due) if (!placed.has(bookingStream(deadline.bookingId))) await expire(deadline, false);
    const waiting = due.filter((deadline) => placed.has(bookingStream(deadline.bookingId)));
    await eachConcurrently(waiting, this.deps.releasesInFlight ?? RELEASES_IN_FLIGHT, (deadline) => expire(deadline, true));
    try {
      await this.deps.reactors.removeDeadlines(gone);
    } catch (error) {
      errors.push(error);
    }
    this.#overloaded = due.length === DUE_PER_ROUND ? [...overloaded] : [];
    if (putOff > 0) this.deps.onError(new Error(`${putOff} expired hold${putOff === 1 ? '' : 's'} not released this round: the concert's queue was full (OVERLOADED); a later round tries again`));
    for (const error of errors.slice(1)) this.deps.onError(error);
    if (errors.length > 0) throw errors[0];
    return released;
  }

  /**
   * Releases one hold: `gone` when there is nothing left to expire, `later` or `overloaded` when
   * a later round should try again.
   */
  async #expire(deadline: Deadline, placed: boolean, now: Date): Promise<'released' | 'gone' | 'later' | 'overloaded'> {
    const context: CommandContext = { correlationId: `expiry-${deadline.bookingId}`, causationId: 'hold-expirer', actorId: null, occurredAt: now.toISOString() };
    if (!placed) {
      try {
        // The rare path: the hold's SeatsHeld is looked up in the concert's stream.
        await ensureBookingPlaced(this.deps.store, this.deps.commands, await findHold(this.deps.store, deadline.concertId, deadline.bookingId), context);
      } catch (error) {
        // Not released while its booking is missing: the next round tries again; the others go on.
        this.deps.onError(error);
        return 'later';
      }
    }
    try {
      const written = await this.deps.writer.submit(deadline.concertId, { type: 'ReleaseHold', booking_id: deadline.bookingId, reason: 'expired', now: context.occurredAt }, context);
      return written.events.length > 0 ? 'released' : 'gone';
    } catch (error) {
      // This instance's clock is behind the one that set the deadline: next round.
      if (isRefusal(error, 'HOLD_NOT_EXPIRED')) return 'later';
      // The concert's queue is full of buyers, or its writer lost too many races: a later round
      // (the next may take other concerts first: #overloaded), said once a round.
      if (isRefusal(error, 'OVERLOADED')) return 'overloaded';
      // Paid or gone: nothing to expire. Anything else waits for the next round.
      if (isRefusal(error, 'HOLD_ALREADY_SOLD', 'HOLD_NOT_FOUND', 'CONCERT_NOT_FOUND')) return 'gone';
      throw error;
    }
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
