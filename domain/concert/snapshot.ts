/**
 * The concert state as plain JSON, so a long concert stream loads as a snapshot plus its tail.
 * Seat statuses are run-length encoded: a sale leaves long runs of one status, so 50,000 seats
 * take a few hundred numbers instead of 50,000. Released holds are only the most recent ones the
 * state remembers (RELEASED_HOLDS_KEPT), each its booking id and reason, and how many were
 * forgotten: a long sale's snapshot no longer grows with every hold it ever gave up.
 */
import { instant, type Owned } from '../shared/decider.ts';
import type { Sealed } from '../shared/personal-data.ts';
import type { ReleaseReason } from './events.ts';
import { seatIdPrefix } from './seats.ts';
import { owned, rememberReleased, RELEASED_HOLDS_KEPT, type ConcertDetails, type ConcertState, type HoldState, type TicketClassState, type TicketState } from './state.ts';

/** 4: the editable details (so an edit that changes nothing is seen as such). 5: released holds bounded (the most recent, and a count of the forgotten). */
export const CONCERT_SNAPSHOT_VERSION = 5;

type HoldTuple = readonly [string, string, readonly number[], readonly string[], readonly string[], string, HoldState['status'], string | null, readonly Sealed[] | null];

export interface ConcertSnapshot {
  readonly version: typeof CONCERT_SNAPSHOT_VERSION;
  readonly status: ConcertState['status'];
  readonly concertId: string | null;
  /** A snapshot from before waiting rooms has no `waiting_room`: off. */
  readonly details: (Omit<ConcertDetails, 'waiting_room'> & { readonly waiting_room?: boolean }) | null;
  readonly maxTicketsPerKtp: number | null;
  readonly startsAtMs: number | null;
  readonly salesOpenAtMs: number | null;
  readonly salesCloseAtMs: number | null;
  readonly classes: readonly TicketClassState[];
  /** [status, run length, status, run length, …] */
  readonly seats: readonly number[];
  /** Held and sold: [bookingId, userId, seatIndexes, seatIds, ktpFingerprints, expiresAt, status, transactionId, holders] */
  readonly holds: readonly HoldTuple[];
  /** The released holds remembered, oldest first: bookingId, reason, bookingId, reason, … */
  readonly released: readonly string[];
  /** Released holds forgotten before them. */
  readonly forgotten: number;
  /** Tickets with a holder, transferred or admitted: [seat index, revision, holder, admitted at, gate]; the others are their sold hold's, at revision 1. */
  readonly tickets: readonly (readonly [number, number, Sealed | null, string | null, string | null])[];
  /** Waiting room passes and the bookings they bought: pass id, booking id, … (absent before waiting rooms). */
  readonly passes?: readonly string[];
}

/**
 * Whether a stored snapshot is one this code restores. Older versions knew nothing of the door,
 * of when the concert starts or of its editable details, or kept every released hold: the writer
 * folds such a stream from its first event instead.
 */
export function isCurrentSnapshot(snapshot: { readonly version?: unknown }): boolean {
  return snapshot.version === CONCERT_SNAPSHOT_VERSION;
}

export function toSnapshot(state: ConcertState): ConcertSnapshot {
  const seats: number[] = [];
  for (let i = 0; i < state.seatStatus.length;) {
    const status = state.seatStatus[i] ?? 0;
    let run = 1;
    while (i + run < state.seatStatus.length && state.seatStatus[i + run] === status) run++;
    seats.push(status, run);
    i += run;
  }
  return {
    version: CONCERT_SNAPSHOT_VERSION,
    status: state.status,
    concertId: state.concertId,
    details: state.details === null ? null : { ...state.details },
    maxTicketsPerKtp: state.maxTicketsPerKtp,
    startsAtMs: state.startsAtMs,
    salesOpenAtMs: state.salesOpenAtMs,
    salesCloseAtMs: state.salesCloseAtMs,
    classes: state.classes.map((c) => ({ ...c })),
    seats,
    holds: holdTuples(state),
    released: releasedPairs(state),
    forgotten: state.forgotten,
    passes: [...state.passes].flat(),
    tickets: [...state.tickets].filter(([, ticket]) => ticket.revision > 1 || ticket.admittedAt !== null || ticket.holder !== null)
      .map(([index, ticket]) => [index, ticket.revision, ticket.holder, ticket.admittedAt, ticket.gate] as const),
  };
}

function holdTuples(state: ConcertState): HoldTuple[] {
  const tuples: HoldTuple[] = [];
  for (const h of state.holds.values()) {
    tuples.push([h.bookingId, h.userId, h.seatIndexes, h.seatIds, h.ktpFingerprints, h.expiresAt, h.status, h.transactionId, h.holders]);
  }
  return tuples;
}

function releasedPairs(state: ConcertState): string[] {
  const pairs: string[] = [];
  for (const [bookingId, reason] of state.released) pairs.push(bookingId, reason);
  return pairs;
}

/** `releasedLimit` as for initialState; a snapshot that remembers more forgets the oldest now. */
export function fromSnapshot(snapshot: ConcertSnapshot, releasedLimit = RELEASED_HOLDS_KEPT): Owned<ConcertState> {
  if (!isCurrentSnapshot(snapshot)) {
    throw new Error(`concert snapshot version ${String((snapshot as { version: unknown }).version)} is not understood`);
  }
  const classes = snapshot.classes.map((c) => ({ ...c }));
  const total = classes.reduce((sum, c) => sum + c.seatCount, 0);
  const seatStatus = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < snapshot.seats.length; i += 2) {
    const status = snapshot.seats[i] ?? 0;
    const run = snapshot.seats[i + 1] ?? 0;
    seatStatus.fill(status, at, at + run);
    at += run;
  }
  if (at !== total) throw new Error(`concert snapshot covers ${at} seats of ${total}`);
  const holds = new Map<string, HoldState>();
  const activeBookingByUser = new Map<string, string>();
  const ticketsByKtp = new Map<string, number>();
  for (const [bookingId, userId, seatIndexes, seatIds, ktpFingerprints, expiresAt, status, transactionId, holders] of snapshot.holds) {
    holds.set(bookingId, {
      bookingId, userId, seatIndexes, seatIds, ktpFingerprints, holders, expiresAt, expiresAtMs: instant(expiresAt), status, transactionId,
    });
    // Derived maps are rebuilt rather than stored: one truth, the holds.
    activeBookingByUser.set(userId, bookingId);
    for (const ktp of ktpFingerprints) ticketsByKtp.set(ktp, (ticketsByKtp.get(ktp) ?? 0) + 1);
  }
  const tickets = new Map<number, TicketState>();
  for (const hold of holds.values()) {
    if (hold.status === 'sold') for (const index of hold.seatIndexes) tickets.set(index, { bookingId: hold.bookingId, revision: 1, holder: null, admittedAt: null, gate: null });
  }
  for (const [index, revision, holder, admittedAt, gate] of snapshot.tickets) {
    const ticket = tickets.get(index);
    if (ticket !== undefined) Object.assign(ticket, { revision, holder, admittedAt, gate });
  }
  const restored = { released: new Map<string, ReleaseReason>(), releasedLimit, forgotten: snapshot.forgotten };
  const pairs = snapshot.released;
  for (let i = 0; i + 1 < pairs.length; i += 2) rememberReleased(restored, pairs[i] as string, pairs[i + 1] as ReleaseReason);
  return owned({
    status: snapshot.status,
    concertId: snapshot.concertId,
    details: snapshot.details === null ? null : { ...snapshot.details, waiting_room: snapshot.details.waiting_room ?? false },
    maxTicketsPerKtp: snapshot.maxTicketsPerKtp,
    startsAtMs: snapshot.startsAtMs,
    salesOpenAtMs: snapshot.salesOpenAtMs,
    salesCloseAtMs: snapshot.salesCloseAtMs,
    classes,
    classById: new Map(classes.map((c) => [c.id, c])),
    classByPrefix: new Map(classes.map((c) => [seatIdPrefix(c.id), c])),
    seatStatus,
    holds,
    released: restored.released,
    releasedLimit,
    forgotten: restored.forgotten,
    activeBookingByUser,
    ticketsByKtp,
    tickets,
    passes: passMap(snapshot.passes ?? []),
  });
}

function passMap(pairs: readonly string[]): Map<string, string> {
  const passes = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) passes.set(pairs[i] as string, pairs[i + 1] as string);
  return passes;
}
