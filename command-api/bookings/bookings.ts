/**
 * Placing and cancelling bookings. The seat hold in the concert stream is the commit point: once
 * it is appended, the booking exists, whatever happens next. The booking stream is made from the
 * hold's own data and committed in the hold's transaction (the concert writer's companions); where
 * that could not be (a store without transactions across streams, a batch that conflicted) it is
 * written right after, and by the repair reactor if a crash came in between.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type CommandContext, type Sealed } from '../../domain/index.ts';
import { bookingDecider, bookingEvents, bookingStream, type BookingState, type BookingStatus } from '../../domain/booking/index.ts';
import { classOfSeat, type HoldSeats, type SeatsHeld, type SeatSelection } from '../../domain/concert/index.ts';
import { userDecider, userStream } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { Batcher } from '../../lib/batcher.ts';
import { setNewest } from '../../lib/bounded-map.ts';
import { AppError, isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import { loadOwned } from '../../lib/http/authorization.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { KtpFingerprints } from '../../lib/personal-data/fingerprint.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { QueueWriter } from '../queue/queue-writer.ts';
import { spendPass } from '../queue/spend-pass.ts';
import type { BookingPasses } from '../../lib/security/booking-passes.ts';
import { ensureBookingPlaced, findHold } from './placement.ts';
import type { BookingPlacer } from './placer.ts';

export interface BookingRequest {
  readonly concert_id: string;
  readonly tickets_by_class?: readonly { readonly ticket_class_id: string; readonly quantity: number }[] | undefined;
  readonly seat_ids?: readonly string[] | undefined;
  readonly buyer_info: { readonly full_name: string; readonly phone_number: string; readonly email: string; readonly ktp_number: string };
  readonly ticket_holder_info?: readonly { readonly full_name: string; readonly ktp_number: string }[] | undefined;
}

export interface BookingAnswer {
  readonly id: string;
  /** `pending` when placed; a retry with the same Idempotency-Key answers the booking's status now. */
  readonly status: BookingStatus;
  readonly concert_id: string;
  readonly total_price: number;
  readonly expires_at: string;
  readonly seats: { readonly id: string; readonly seat_number: number; readonly ticket_class_id: string }[];
  readonly position: number;
}

export interface BookingServiceDeps {
  readonly store: EventStore;
  readonly writer: ConcertWriter;
  readonly commands: CommandHandler;
  readonly placer: BookingPlacer;
  readonly personalData: PersonalData;
  readonly ktp: KtpFingerprints;
  /** The keyed digest of an address (lib/personal-data/digest.ts emailDigest under the digest key): the back office finds bookings by it. */
  readonly emailDigest: (email: string) => string;
  readonly holdTtlSeconds: number;
  readonly requireEmailVerification: boolean;
  readonly now: () => Date;
  /** The waiting rooms: a booking with a pass spends it there (UsePass) once its seats are held. */
  readonly queues: QueueWriter;
  readonly passes: BookingPasses;
}

/** Verified users are remembered for a while: the flash-sale path should not read a user stream per booking. */
const VERIFIED_FOR_MS = 5 * 60_000;
/** At most so many of them: a sale of a million buyers signed in before they verified must not keep a million. */
export const VERIFIED_KEPT = 100_000;

export class BookingService {
  readonly #verified = new Map<string, number>();
  /** Concerts seen to have forgotten released holds (HOLD_FORGOTTEN): once forgotten, always. */
  readonly #forgetful = new Set<string>();
  readonly #existence = new Batcher<{ stream: string; resolve: (exists: boolean) => void; reject: (error: unknown) => void }>(500, async (batch) => {
    try {
      const found = await this.deps.store.streamRevisions(batch.map((check) => check.stream));
      for (const check of batch) check.resolve(found.has(check.stream));
    } catch (error) {
      for (const check of batch) check.reject(error);
    }
  });

  constructor(private readonly deps: BookingServiceDeps) {}

  /**
   * `bookingPass`: the Booking-Pass header, which a concert with its waiting room on asks for (the
   * concert decider refuses a hold without one, QUEUE_REQUIRED). The pass is read (signature,
   * account, concert, expiry), the seats held with it (the concert refuses a pass that bought
   * another booking), and its use recorded in the queue (UsePass, see spend-pass.ts): the error of
   * that record is the answer, the booking left pending for a retry or the bookings reactor.
   */
  async place(principal: Principal, request: BookingRequest, idempotencyKey: string | undefined, requestContext: RequestContext, bookingPass?: string): Promise<BookingAnswer> {
    const selection = selectionOf(request);
    await this.requireVerified(principal);
    const concertId = request.concert_id.toLowerCase();
    const bookingId = idempotencyKey === undefined ? randomUUID() : derivedUuid('booking', principal.userId, concertId, idempotencyKey);
    const now = this.deps.now();
    const context: CommandContext = { ...requestContext, actorId: principal.userId, occurredAt: now.toISOString() };
    if (bookingPass === undefined) return this.#holdOrReplay(principal, request, selection, concertId, bookingId, idempotencyKey, context, null);
    const passId = this.#checkPass(bookingPass, principal.userId, concertId, now.getTime());
    // A refused hold (sold out, a seat taken…) leaves the pass unspent: its holder may try again.
    const placed = await this.#holdOrReplay(principal, request, selection, concertId, bookingId, idempotencyKey, context, passId);
    // A retry of a booking since cancelled or expired tells so, and spends nothing.
    if (placed.status === 'pending' || placed.status === 'confirmed') {
      await spendPass(this.deps, { concertId, passId, userId: principal.userId, bookingId, at: context.occurredAt }, context);
    }
    return placed;
  }

  /**
   * A pass read from its text: signed by this deployment (only the status poll signs, and only
   * for a place the queue admitted), for this account and this concert, and not past its time.
   * That it buys one booking only is decided with the hold, by the concert (HoldSeats names it).
   */
  #checkPass(text: string, userId: string, concertId: string, nowMs: number): string {
    const pass = this.deps.passes.read(text);
    if (pass === undefined || pass.userId !== userId || pass.concertId !== concertId || nowMs >= pass.expiresAtMs) throw invalidPass();
    return pass.passId;
  }

  async #holdOrReplay(
    principal: Principal,
    request: BookingRequest,
    selection: SeatSelection,
    concertId: string,
    bookingId: string,
    idempotencyKey: string | undefined,
    context: CommandContext,
    passId: string | null,
  ): Promise<BookingAnswer> {
    const now = new Date(context.occurredAt);

    const buyerAsHolder = { full_name: request.buyer_info.full_name, ktp_number: request.buyer_info.ktp_number };
    const holders = request.ticket_holder_info ?? Array.from({ length: ticketCount(selection) }, () => buyerAsHolder);
    const buyer = { ...request.buyer_info, email: request.buyer_info.email.trim().toLowerCase() };
    // The buyer holding every ticket is sealed once, not once per ticket: this is the hot path.
    const sealedHolders = request.ticket_holder_info === undefined
      ? Array<Sealed>(holders.length).fill(await this.deps.personalData.seal(principal.userId, buyerAsHolder))
      : await Promise.all(holders.map((holder) => this.deps.personalData.seal(principal.userId, holder)));
    // A random id never held seats. A keyed one may have, long ago, on a concert that has forgotten
    // its released holds: there the booking's own stream tells (one batched read, off the writer).
    // Exactly: a hold is released only once its booking stream exists (the hold expirer writes a
    // missing one first; cancels and failed payments start from it), or when the concert is
    // cancelled, and then it refuses every hold anyway.
    let neverHeld = idempotencyKey === undefined;
    if (!neverHeld && this.#forgetful.has(concertId)) {
      if (await this.#bookingExists(bookingId)) return this.#replay(concertId, bookingId, selection, context);
      neverHeld = true;
    }
    const hold: HoldSeats = {
      type: 'HoldSeats',
      booking_id: bookingId,
      user_id: principal.userId,
      selection,
      ktp_fingerprints: holders.map((holder) => this.deps.ktp.of(holder.ktp_number)),
      personal_data: {
        buyer: await this.deps.personalData.seal(principal.userId, buyer),
        ticket_holders: sealedHolders,
        buyer_email_digest: this.deps.emailDigest(buyer.email),
      },
      expires_at: new Date(now.getTime() + this.deps.holdTtlSeconds * 1000).toISOString(),
      now: context.occurredAt,
      pass_id: passId,
    };
    let held: SeatsHeld['data'];
    /** Where the booking stream was written with the hold, in its transaction (the writer's companions). */
    let placedAt: number | undefined;
    for (;;) {
      try {
        const written = await this.deps.writer.submit(concertId, { ...hold, never_held: neverHeld }, context);
        const [event] = written.events;
        if (event?.type !== 'SeatsHeld') throw new Error('a hold decided no SeatsHeld');
        held = event.data;
        placedAt = written.companions?.[0];
        break;
      } catch (error) {
        if (!neverHeld && isRefusal(error, 'HOLD_FORGOTTEN')) {
          // The concert forgets (for good): this instance checks its keyed bookings first from now on.
          this.#forgetful.add(concertId);
          if (await this.#bookingExists(bookingId)) return this.#replay(concertId, bookingId, selection, context);
          neverHeld = true;
          continue;
        }
        // The same key again: answer what the first request got.
        if (idempotencyKey === undefined || !isRefusal(error, 'BOOKING_ALREADY_EXISTS')) throw error;
        return this.#replay(concertId, bookingId, selection, context);
      }
    }
    return answer(held, placedAt ?? await this.deps.placer.place(held, context));
  }

  /** Whether the booking's stream exists; the checks in flight together are one read. */
  #bookingExists(bookingId: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.#existence.push({ stream: bookingStream(bookingId), resolve, reject }));
  }

  async cancel(principal: Principal, bookingId: string, requestContext: RequestContext): Promise<{ id: string; status: 'cancelled'; position: number }> {
    const booking = await loadOwned(principal, bookingId, (id) => this.#booking(id), (state) => state.userId, 'booking');
    if (booking.status === 'cancelled') {
      // A PUT again (a client that never got the first answer): the same answer, nothing appended.
      const { position } = await this.deps.commands.load(bookingStream(booking.bookingId), bookingDecider);
      return { id: booking.bookingId, status: 'cancelled', position };
    }
    if (booking.status !== 'pending') {
      throw new DomainError('BOOKING_NOT_CANCELLABLE', `a ${booking.status} booking cannot be cancelled`, { status: booking.status });
    }
    const context: CommandContext = { ...requestContext, actorId: principal.userId, occurredAt: this.deps.now().toISOString() };
    // Seats first: a payment that lands in between finds the hold released and is refunded,
    // instead of buying seats for a booking that is being cancelled.
    let released;
    try {
      released = await this.deps.writer.submit(booking.concertId, { type: 'ReleaseHold', booking_id: booking.bookingId, reason: 'cancelled', now: context.occurredAt }, context);
    } catch (error) {
      if (isRefusal(error, 'HOLD_ALREADY_SOLD')) throw new DomainError('BOOKING_NOT_CANCELLABLE', 'the booking was paid while you cancelled');
      throw error;
    }
    const cancelled = await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
      type: 'CancelBooking',
      cancelled_by: principal.role === 'admin' && principal.userId !== booking.userId ? 'admin' : 'owner',
      now: context.occurredAt,
    }, context);
    return { id: booking.bookingId, status: 'cancelled', position: Math.max(cancelled.position, released.position) };
  }

  async #booking(bookingId: string): Promise<Exclude<BookingState, { status: 'none' }> | null> {
    const { state } = await this.deps.commands.load(bookingStream(bookingId), bookingDecider);
    return state.status === 'none' ? null : state;
  }

  async #replay(concertId: string, bookingId: string, selection: SeatSelection, context: CommandContext): Promise<BookingAnswer> {
    const inMemory = await this.deps.writer.read(concertId, (state) => {
      const found = state.holds.get(bookingId);
      return found && { seatIds: found.seatIds, classes: found.seatIndexes.map((index) => classOfSeat(state, index).id) };
    });
    // The booking as it is now (cancelled, expired, paid…): a retry tells the truth, and appends nothing.
    const recorded = await this.deps.store.readStream(bookingStream(bookingId));
    const events = recorded.map((event) => decode(event, bookingEvents));
    const [placed] = events;
    const last = recorded.at(-1);
    // A released hold keeps no seats in memory (a forgotten one, nothing): they are in the booking's
    // placement, or else in the hold's SeatsHeld event.
    const seats = inMemory ?? (placed?.type === 'BookingPlaced' ? placed.data.seats : (await findHold(this.deps.store, concertId, bookingId)).seats);
    const hold = 'seatIds' in seats ? seats : { seatIds: seats.map((seat) => seat.seat_id), classes: seats.map((seat) => seat.ticket_class_id) };
    if (!sameSelection(selection, hold.seatIds, hold.classes)) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different booking request');
    }
    if (placed?.type === 'BookingPlaced' && last !== undefined) {
      const now = events.reduce(bookingDecider.evolve, bookingDecider.initialState());
      return answer(placed.data, last.position, now.status === 'none' ? 'pending' : now.status);
    }
    // The first request has not written the booking stream (yet, or ever): do it from the hold.
    const held = await findHold(this.deps.store, concertId, bookingId);
    return answer(held, await ensureBookingPlaced(this.deps.store, this.deps.commands, held, context));
  }

  /** A token issued after verification says so; older ones are checked against the user's stream. Joining a waiting room asks it too. */
  async requireVerified(principal: Principal): Promise<void> {
    if (!this.deps.requireEmailVerification || principal.emailVerified) return;
    const userId = principal.userId;
    const checked = this.#verified.get(userId);
    const now = Date.now();
    if (checked !== undefined && now - checked < VERIFIED_FOR_MS) return;
    const { state } = await this.deps.commands.load(userStream(userId), userDecider);
    if (state.status !== 'active' || !state.emailVerified) {
      throw new AppError('EMAIL_NOT_VERIFIED', 'verify your email address before booking (see the mail we sent)');
    }
    setNewest(this.#verified, userId, now, VERIFIED_KEPT);
  }
}

const invalidPass = (): DomainError => new DomainError('INVALID_PASS', 'this booking pass is not valid for this account and concert now');

function selectionOf(request: BookingRequest): SeatSelection {
  const byClass = request.tickets_by_class;
  const bySeat = request.seat_ids;
  if ((byClass === undefined) === (bySeat === undefined)) {
    throw new AppError('VALIDATION_FAILED', 'send exactly one of tickets_by_class and seat_ids');
  }
  return byClass !== undefined
    ? { by: 'class', tickets: byClass.map((t) => ({ ticket_class_id: t.ticket_class_id.toLowerCase(), quantity: t.quantity })) }
    : { by: 'seat', seat_ids: (bySeat ?? []).map((id) => id.toLowerCase()) };
}

function ticketCount(selection: SeatSelection): number {
  return selection.by === 'seat' ? selection.seat_ids.length : selection.tickets.reduce((sum, t) => sum + t.quantity, 0);
}

function sameSelection(selection: SeatSelection, seatIds: readonly string[], classes: readonly string[]): boolean {
  if (selection.by === 'seat') return [...selection.seat_ids].sort().join() === [...seatIds].sort().join();
  const wanted = new Map<string, number>();
  for (const { ticket_class_id, quantity } of selection.tickets) wanted.set(ticket_class_id, (wanted.get(ticket_class_id) ?? 0) + quantity);
  const got = new Map<string, number>();
  for (const id of classes) got.set(id, (got.get(id) ?? 0) + 1);
  return wanted.size === got.size && [...wanted].every(([id, count]) => got.get(id) === count);
}

function answer(held: Pick<SeatsHeld['data'], 'booking_id' | 'concert_id' | 'total_price' | 'expires_at' | 'seats'>, position: number, status: BookingStatus = 'pending'): BookingAnswer {
  return {
    id: held.booking_id,
    status,
    concert_id: held.concert_id,
    total_price: held.total_price,
    expires_at: held.expires_at,
    seats: held.seats.map((seat) => ({ id: seat.seat_id, seat_number: seat.seat_number, ticket_class_id: seat.ticket_class_id })),
    position,
  };
}
