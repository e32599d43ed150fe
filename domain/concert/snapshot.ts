/**
 * The concert state as plain JSON, so a long concert stream loads as a snapshot plus its tail.
 * Seat statuses are run-length encoded: a sale leaves long runs of one status, so 50,000 seats
 * take a few hundred numbers instead of 50,000. A released hold keeps only what a decision can
 * still ask of it — its booking id (a retried hold for it is refused) and why it was released (a
 * late payment is told) — because a long sale leaves hundreds of thousands of them.
 */
import { instant, type Owned } from '../shared/decider.ts';
import type { Sealed } from '../shared/personal-data.ts';
import type { ReleaseReason } from './events.ts';
import { seatIdPrefix } from './seats.ts';
import { owned, type ConcertDetails, type ConcertState, type HoldState, type TicketClassState, type TicketState } from './state.ts';

/** 4: the editable details (so an edit that changes nothing is seen as such). */
export const CONCERT_SNAPSHOT_VERSION = 4;

type HoldTuple = readonly [string, string, readonly number[], readonly string[], readonly string[], string, HoldState['status'], ReleaseReason | null, string | null, (readonly Sealed[] | null)?];

export interface ConcertSnapshot {
  readonly version: typeof CONCERT_SNAPSHOT_VERSION;
  readonly status: ConcertState['status'];
  readonly concertId: string | null;
  readonly details: ConcertDetails | null;
  readonly maxTicketsPerKtp: number | null;
  readonly startsAtMs: number | null;
  readonly salesOpenAtMs: number | null;
  readonly salesCloseAtMs: number | null;
  readonly classes: readonly TicketClassState[];
  /** [status, run length, status, run length, …] */
  readonly seats: readonly number[];
  /** Held and sold: [bookingId, userId, seatIndexes, seatIds, ktpFingerprints, expiresAt, status, releaseReason, transactionId, holders] */
  readonly holds: readonly HoldTuple[];
  /** Released: bookingId, reason, bookingId, reason, … */
  readonly released: readonly string[];
  /** Tickets with a holder, transferred or admitted: [seat index, revision, holder, admitted at, gate]; the others are their sold hold's, at revision 1. */
  readonly tickets: readonly (readonly [number, number, Sealed | null, string | null, string | null])[];
}

/**
 * Whether a stored snapshot is one this code restores. Older versions knew nothing of the door,
 * of when the concert starts or of its editable details: the writer folds such a stream from its first event instead.
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
    holds: [...state.holds.values()].filter((h) => h.status !== 'released').map((h) => [
      h.bookingId, h.userId, h.seatIndexes, h.seatIds, h.ktpFingerprints, h.expiresAt, h.status, h.releaseReason, h.transactionId, h.holders,
    ] as const),
    released: [...state.holds.values()].filter((h) => h.status === 'released').flatMap((h) => [h.bookingId, h.releaseReason ?? 'cancelled']),
    tickets: [...state.tickets].filter(([, ticket]) => ticket.revision > 1 || ticket.admittedAt !== null || ticket.holder !== null)
      .map(([index, ticket]) => [index, ticket.revision, ticket.holder, ticket.admittedAt, ticket.gate] as const),
  };
}

/** A released hold as a decision sees it: its seats and holders no longer count for anything. */
function releasedHold(bookingId: string, releaseReason: ReleaseReason): HoldState {
  return { bookingId, userId: '', seatIndexes: [], seatIds: [], ktpFingerprints: [], holders: null, expiresAt: '', expiresAtMs: 0, status: 'released', releaseReason, transactionId: null };
}

export function fromSnapshot(snapshot: ConcertSnapshot): Owned<ConcertState> {
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
  for (const [bookingId, userId, seatIndexes, seatIds, ktpFingerprints, expiresAt, status, releaseReason, transactionId, holders] of snapshot.holds) {
    if (status === 'released') {
      holds.set(bookingId, releasedHold(bookingId, releaseReason ?? 'cancelled'));
      continue;
    }
    holds.set(bookingId, {
      bookingId, userId, seatIndexes, seatIds, ktpFingerprints, holders: holders ?? null, expiresAt, expiresAtMs: instant(expiresAt), status, releaseReason, transactionId,
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
  const { released } = snapshot;
  for (let i = 0; i + 1 < released.length; i += 2) {
    const bookingId = released[i] as string;
    holds.set(bookingId, releasedHold(bookingId, released[i + 1] as ReleaseReason));
  }
  return owned({
    status: snapshot.status,
    concertId: snapshot.concertId,
    details: snapshot.details === null ? null : { ...snapshot.details },
    maxTicketsPerKtp: snapshot.maxTicketsPerKtp,
    startsAtMs: snapshot.startsAtMs,
    salesOpenAtMs: snapshot.salesOpenAtMs,
    salesCloseAtMs: snapshot.salesCloseAtMs,
    classes,
    classById: new Map(classes.map((c) => [c.id, c])),
    classByPrefix: new Map(classes.map((c) => [seatIdPrefix(c.id), c])),
    seatStatus,
    holds,
    activeBookingByUser,
    ticketsByKtp,
    tickets,
  });
}
