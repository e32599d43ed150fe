import { instant, type Owned } from '../shared/decider.ts';
import { assertNever } from '../shared/errors.ts';
import type { QueueEntry, QueueEvent } from './events.ts';
import { lotteryOrder } from './lottery.ts';

export interface Pass {
  readonly passId: string;
  readonly expiresAt: string;
  readonly expiresAtMs: number;
}

/** One account's place. Mutable: the state is owned (see `evolve`). */
export interface Place {
  readonly placeId: string;
  readonly userId: string;
  readonly entry: QueueEntry;
  readonly joinedAt: string;
  /** Its index in `order` (0-based), or -1 before the lottery has ordered everyone. */
  index: number;
  pass: Pass | null;
  /** What became of its pass, once something did. */
  spent: { readonly as: 'used'; readonly bookingId: string } | { readonly as: 'expired' } | null;
}

/**
 * A waiting room, built for 100,000 places: every lookup the hot paths need is a map read or an
 * index subtraction. Admission follows `order` strictly, so the places before `admitted` are
 * exactly the ones let in, and a waiting place's people ahead are `index - admitted`.
 */
export interface QueueState {
  concertId: string | null;
  opensAt: string | null;
  opensAtMs: number;
  lottery: { readonly seed: string; readonly entrants: number; readonly drawnAt: string } | null;
  soldOutAt: string | null;
  places: Map<string, Place>;
  placeByUser: Map<string, string>;
  /** Lottery entrants in the order their joins were recorded (their join rank). */
  entrants: string[];
  /** Arrivals recorded before the draw, in order: they queue behind every entrant. */
  earlyArrivals: string[];
  /** Everyone in lottery-then-arrival order; empty until the draw. */
  order: string[];
  /** How many of `order` were admitted: always its first ones. */
  admitted: number;
  placeByPass: Map<string, string>;
  /** Places with a pass neither used nor expired yet (what ExpirePasses looks through). */
  outstanding: Set<string>;
}

export function initialState(): Owned<QueueState> {
  return owned({
    concertId: null,
    opensAt: null,
    opensAtMs: Number.POSITIVE_INFINITY,
    lottery: null,
    soldOutAt: null,
    places: new Map(),
    placeByUser: new Map(),
    entrants: [],
    earlyArrivals: [],
    order: [],
    admitted: 0,
    placeByPass: new Map(),
    outstanding: new Set(),
  });
}

/** A state built fresh, shared with nobody: its builder owns it. */
export function owned(state: QueueState): Owned<QueueState> {
  return state as Owned<QueueState>;
}

/** Changes `state` in place and returns it: keep what it returns, not what you passed. */
export function evolve(state: Owned<QueueState>, event: QueueEvent): Owned<QueueState> {
  switch (event.type) {
    case 'WaitingRoomOpened':
      state.concertId = event.data.concert_id;
      state.opensAt = event.data.opens_at;
      state.opensAtMs = instant(event.data.opens_at);
      return state;
    case 'QueueJoined': {
      const { place_id, user_id, entry, joined_at } = event.data;
      const place: Place = { placeId: place_id, userId: user_id, entry, joinedAt: joined_at, index: -1, pass: null, spent: null };
      state.places.set(place_id, place);
      state.placeByUser.set(user_id, place_id);
      if (state.lottery !== null) {
        place.index = state.order.length;
        state.order.push(place_id);
      } else if (entry === 'lottery') {
        state.entrants.push(place_id);
      } else {
        state.earlyArrivals.push(place_id);
      }
      return state;
    }
    case 'LotteryDrawn': {
      const { seed, entrants, drawn_at } = event.data;
      if (entrants !== state.entrants.length) {
        // The draw covered the entrants recorded before it; a history that disagrees cannot be replayed.
        throw new Error(`LotteryDrawn covers ${entrants} entrants, the stream recorded ${state.entrants.length}`);
      }
      const ranks = lotteryOrder(seed, entrants);
      const order: string[] = new Array<string>(entrants + state.earlyArrivals.length);
      for (let k = 0; k < entrants; k++) order[k] = state.entrants[ranks[k]!]!;
      for (let k = 0; k < state.earlyArrivals.length; k++) order[entrants + k] = state.earlyArrivals[k]!;
      for (let k = 0; k < order.length; k++) state.places.get(order[k]!)!.index = k;
      state.order = order;
      state.earlyArrivals = [];
      state.lottery = { seed, entrants, drawnAt: drawn_at };
      return state;
    }
    case 'VisitorsAdmitted': {
      // One admission gives its passes one expiry: parse it once, not once per pass.
      let parsed = { text: '', ms: 0 };
      for (const { place_id, pass_id, expires_at } of event.data.admissions) {
        const place = state.places.get(place_id);
        if (place === undefined) continue;
        if (parsed.text !== expires_at) parsed = { text: expires_at, ms: instant(expires_at) };
        place.pass = { passId: pass_id, expiresAt: expires_at, expiresAtMs: parsed.ms };
        state.placeByPass.set(pass_id, place_id);
        state.outstanding.add(place_id);
        state.admitted = Math.max(state.admitted, place.index + 1);
      }
      return state;
    }
    case 'PassUsed': {
      const place = state.places.get(event.data.place_id);
      if (place !== undefined) place.spent = { as: 'used', bookingId: event.data.booking_id };
      state.outstanding.delete(event.data.place_id);
      return state;
    }
    case 'PassExpired': {
      const place = state.places.get(event.data.place_id);
      if (place !== undefined) place.spent = { as: 'expired' };
      state.outstanding.delete(event.data.place_id);
      return state;
    }
    case 'QueueSoldOut':
      state.soldOutAt = event.data.sold_out_at;
      return state;
    default:
      return assertNever(event);
  }
}

export type PlaceStatus = 'waiting' | 'admitted' | 'used' | 'expired' | 'sold_out';

/** What a place's holder is told (GET /api/v1/queue/:token, less the estimated wait). */
export interface PlaceView {
  readonly place_id: string;
  readonly user_id: string;
  readonly status: PlaceStatus;
  /** 1-based place in lottery-then-arrival order; null until the lottery has run. */
  readonly position: number | null;
  /** Places before it still waiting; null unless it is waiting with a position. */
  readonly ahead: number | null;
  readonly pass: { readonly pass_id: string; readonly expires_at: string } | null;
}

/** The place's status at `now` (a pass past its time reads `expired` before PassExpired is recorded). */
export function placeStatus(state: QueueState, place: Place, now: string): PlaceStatus {
  if (place.spent !== null) return place.spent.as;
  if (place.pass !== null) return instant(now) >= place.pass.expiresAtMs ? 'expired' : 'admitted';
  return state.soldOutAt !== null ? 'sold_out' : 'waiting';
}

export function placeView(state: QueueState, placeId: string, now: string): PlaceView | undefined {
  const place = state.places.get(placeId);
  if (place === undefined) return undefined;
  const status = placeStatus(state, place, now);
  const position = place.index >= 0 ? place.index + 1 : null;
  return {
    place_id: place.placeId,
    user_id: place.userId,
    status,
    position,
    ahead: status === 'waiting' && place.index >= 0 ? place.index - state.admitted : null,
    pass: place.pass === null ? null : { pass_id: place.pass.passId, expires_at: place.pass.expiresAt },
  };
}

/** The place an account holds, if any (one per account). */
export function placeOfUser(state: QueueState, userId: string): Place | undefined {
  const placeId = state.placeByUser.get(userId);
  return placeId === undefined ? undefined : state.places.get(placeId);
}

/** Places not admitted yet (sold out or not: `status` tells them apart). */
export function waitingCount(state: QueueState): number {
  return state.places.size - state.admitted;
}
