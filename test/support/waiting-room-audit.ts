/**
 * An auditor's replay of a waiting room (`queue-<concertId>`), from its events alone and not from
 * the decider's state: who joined, the order the lottery and the arrivals make, who was let in,
 * and what became of each pass. It recomputes the order itself — `lotteryOrder(seed, entrants)`
 * over the lottery joins in recorded order, then the arrivals in recorded order — so a keeper that
 * admitted out of turn, a pass that bought two bookings or a booking without a pass shows up as a
 * fault.
 */
import { lotteryOrder, type QueueEvent } from '../../domain/queue/index.ts';

export interface QueueAudit {
  /** Everything that breaks a rule of the waiting room; empty when the sale was fair. */
  readonly faults: readonly string[];
  readonly places: number;
  readonly lotteryEntrants: number;
  readonly arrivals: number;
  /** Place ids in the order they were let in (every VisitorsAdmitted, concatenated). */
  readonly admitted: readonly string[];
  /** Places let in whose pass was used, and whose pass expired. */
  readonly used: number;
  readonly expired: number;
  /** Place id → user id, for every place recorded. */
  readonly userOf: ReadonlyMap<string, string>;
  /** Bookings that held seats, released them, and spent no pass (cancelled when their pass could not be spent). */
  readonly heldWithoutPass: readonly string[];
  /** The `waiting` QueueSoldOut told, or null when the queue never sold out. */
  readonly soldOutWaiting: number | null;
  readonly soldOutAt: string | null;
  /** Every pass handed out: its place, when it ran out, and what became of it (null: neither used nor expired). */
  readonly passes: ReadonlyMap<string, { readonly placeId: string; readonly admittedAt: string; readonly expiresAt: string; readonly spent: 'used' | 'expired' | null }>;
}

/**
 * `events`: the queue stream in recorded order. `bookings`: every booking that held seats of the
 * concert (its SeatsHeld), and whether they were sold: a sold booking must have exactly one
 * PassUsed naming it; one whose hold was released may have none (its pass could not be spent after
 * the hold, so the booking was cancelled: `heldWithoutPass`), never two; no PassUsed may name a
 * booking that held nothing.
 */
export function auditQueue(events: readonly QueueEvent[], bookings: ReadonlyMap<string, 'sold' | 'released'>): QueueAudit {
  const faults: string[] = [];
  const fault = (what: string): void => void (faults.length < 50 ? faults.push(what) : undefined);
  const userOf = new Map<string, string>();
  const placeOfUser = new Map<string, string>();
  const lotteryJoins: string[] = [];
  const arrivalJoins: string[] = [];
  const admitted: string[] = [];
  const passes = new Map<string, { placeId: string; userId: string; admittedAt: string; expiresAt: string }>();
  const spent = new Map<string, 'used' | 'expired'>();
  const passUsedBy = new Map<string, string[]>();
  let lottery: { seed: string; entrants: number } | null = null;
  let soldOut: { waiting: number; places: number; admitted: number; at: string } | null = null;

  for (const event of events) {
    switch (event.type) {
      case 'WaitingRoomOpened':
        break;
      case 'QueueJoined': {
        const { place_id, user_id, entry } = event.data;
        if (userOf.has(place_id)) fault(`place ${place_id} was recorded twice`);
        if (placeOfUser.has(user_id)) fault(`account ${user_id} holds two places: ${placeOfUser.get(user_id)} and ${place_id}`);
        userOf.set(place_id, user_id);
        placeOfUser.set(user_id, place_id);
        if (entry === 'lottery') {
          if (lottery !== null) fault(`place ${place_id} joined the lottery after it was drawn`);
          lotteryJoins.push(place_id);
        } else {
          arrivalJoins.push(place_id);
        }
        break;
      }
      case 'LotteryDrawn':
        if (lottery !== null) fault('the lottery was drawn twice');
        if (event.data.entrants !== lotteryJoins.length) fault(`the lottery drew ${event.data.entrants} entrants, ${lotteryJoins.length} lottery joins were recorded before it`);
        lottery = { seed: event.data.seed, entrants: event.data.entrants };
        break;
      case 'VisitorsAdmitted':
        if (lottery === null) fault('visitors were admitted before the lottery was drawn');
        if (soldOut !== null) fault('visitors were admitted after the queue sold out');
        for (const { place_id, user_id, pass_id, expires_at } of event.data.admissions) {
          if (userOf.get(place_id) !== user_id) fault(`admission of place ${place_id} names account ${user_id}, the place is ${userOf.get(place_id) ?? 'unknown'}'s`);
          if (passes.has(pass_id)) fault(`pass ${pass_id} was handed out twice`);
          passes.set(pass_id, { placeId: place_id, userId: user_id, admittedAt: event.data.admitted_at, expiresAt: expires_at });
          admitted.push(place_id);
        }
        break;
      case 'PassUsed': {
        const { pass_id, place_id, user_id, booking_id } = event.data;
        const pass = passes.get(pass_id);
        if (pass === undefined) fault(`PassUsed of pass ${pass_id} that was never handed out`);
        else if (pass.placeId !== place_id || pass.userId !== user_id) fault(`pass ${pass_id} of ${pass.userId} was used by ${user_id}`);
        if (spent.has(pass_id)) fault(`pass ${pass_id} was used after it was ${spent.get(pass_id)}`);
        spent.set(pass_id, 'used');
        passUsedBy.set(booking_id, [...(passUsedBy.get(booking_id) ?? []), pass_id]);
        break;
      }
      case 'PassExpired': {
        const { pass_id } = event.data;
        if (!passes.has(pass_id)) fault(`PassExpired of pass ${pass_id} that was never handed out`);
        if (spent.has(pass_id)) fault(`pass ${pass_id} expired after it was ${spent.get(pass_id)}`);
        spent.set(pass_id, 'expired');
        break;
      }
      case 'QueueSoldOut':
        if (soldOut !== null) fault('the queue sold out twice');
        soldOut = { waiting: event.data.waiting, places: userOf.size, admitted: admitted.length, at: event.data.sold_out_at };
        break;
      default:
        fault(`an event the auditor does not know: ${(event as { type: string }).type}`);
    }
  }

  // Lottery then arrival: the order recomputed from the seed, against the order they were let in.
  if (lottery === null && admitted.length > 0) fault('no LotteryDrawn, yet visitors were admitted');
  const ranks = lotteryOrder(lottery?.seed ?? '0'.repeat(64), lottery?.entrants ?? 0);
  const order = [...Array.from(ranks, (rank) => lotteryJoins[rank] ?? `missing-rank-${rank}`), ...arrivalJoins];
  const outOfTurn = admitted.findIndex((placeId, k) => order[k] !== placeId);
  if (outOfTurn >= 0) fault(`admission ${outOfTurn + 1} let in place ${admitted[outOfTurn]}, its turn was ${order[outOfTurn] ?? 'nobody'}'s`);
  if (new Set(admitted).size !== admitted.length) fault('a place was admitted twice');

  // Nobody booked without a pass.
  const heldWithoutPass: string[] = [];
  for (const [bookingId, outcome] of bookings) {
    const used = passUsedBy.get(bookingId) ?? [];
    if (used.length === 0 && outcome === 'released') heldWithoutPass.push(bookingId);
    else if (used.length !== 1) fault(`booking ${bookingId} (${outcome}) took seats with ${used.length} passes used for it`);
  }
  for (const bookingId of passUsedBy.keys()) {
    if (!bookings.has(bookingId)) fault(`PassUsed names booking ${bookingId}, which took no seats of the concert`);
  }

  if (soldOut !== null && soldOut.waiting !== soldOut.places - soldOut.admitted) {
    fault(`QueueSoldOut told ${soldOut.waiting} waiting, ${soldOut.places} places less ${soldOut.admitted} admitted were`);
  }
  const count = (what: 'used' | 'expired') => [...spent.values()].filter((as) => as === what).length;
  return {
    faults, places: userOf.size, lotteryEntrants: lotteryJoins.length, arrivals: arrivalJoins.length, admitted,
    used: count('used'), expired: count('expired'), userOf, heldWithoutPass, soldOutWaiting: soldOut?.waiting ?? null, soldOutAt: soldOut?.at ?? null,
    passes: new Map([...passes].map(([passId, pass]) => [passId, { placeId: pass.placeId, admittedAt: pass.admittedAt, expiresAt: pass.expiresAt, spent: spent.get(passId) ?? null }])),
  };
}
