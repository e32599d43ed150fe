import { assertNever } from '../shared/errors.ts';
import type { Sealed } from '../shared/personal-data.ts';
import { instant, type Owned } from '../shared/decider.ts';
import type { ConcertEvent, ReleaseReason, TicketClass } from './events.ts';
import { parseSeatId, seatIdPrefix } from './seats.ts';

export const SEAT_AVAILABLE = 0;
export const SEAT_HELD = 1;
export const SEAT_SOLD = 2;
export type SeatStatusCode = typeof SEAT_AVAILABLE | typeof SEAT_HELD | typeof SEAT_SOLD;

export interface TicketClassState {
  readonly id: string;
  readonly name: string;
  /** For holds from now on (TicketClassPriceChanged); a hold keeps the price it was made at. */
  price: number;
  /** Grows when seats are added (SeatsAdded). */
  seatCount: number;
  /** Index in `seatStatus` of this class's seat number 1: a class's seats stay contiguous, so seats added to an earlier class move the later ones. */
  firstSeat: number;
  available: number;
  /** Lower bound: no seat of this class numbered below `searchFrom + 1` is available. */
  searchFrom: number;
}

export interface HoldState {
  readonly bookingId: string;
  readonly userId: string;
  /** Indexes in `seatStatus`: remapped when seats added to an earlier class move them. */
  seatIndexes: readonly number[];
  readonly seatIds: readonly string[];
  /** In seat order; a transfer replaces its seat's. */
  ktpFingerprints: readonly string[];
  /**
   * The sealed holders, in seat order, while the hold waits for its payment: at the sale each
   * goes to its seat's ticket (the door shows the holder without reading the booking). Null
   * once sold or released, or when the hold kept no personal data.
   */
  holders: readonly Sealed[] | null;
  readonly expiresAt: string;
  readonly expiresAtMs: number;
  /** A released hold leaves `holds` for `released`. */
  status: 'held' | 'sold';
  transactionId: string | null;
}

/**
 * How many released holds a concert remembers (booking id and reason), the most recently
 * released ones. A retried hold of one of them is refused, a reactor's release is a no-op, a late
 * payment is told why, all without a read. Older ones are forgotten, so the state and its
 * snapshot stop growing with every hold ever given up: the booking's own stream answers for them
 * (see HOLD_FORGOTTEN in decide.ts). No decision's correctness depends on the number, only what
 * it costs: each remembered hold is about 50 bytes of snapshot to build, store and parse on
 * every cold load (10,000 of them cost as much to load as the 500-event tail itself), while a
 * concert that has forgotten any makes its idempotency-keyed bookings check their booking
 * stream first (one batched primary-key read, off the writer's path). A thousand keeps the
 * window's load well under the tail's and covers the releases of the seconds in which a
 * retry comes.
 */
export const RELEASED_HOLDS_KEPT = 1_000;

/** A sold seat's ticket at the door. */
export interface TicketState {
  readonly bookingId: string;
  /** 1 at the sale, one more per transfer: only a QR code of this revision gets in. */
  revision: number;
  /** The holder (sealed with the buyer's key): the booking's for this seat, or the one a transfer named; null when the hold kept none. */
  holder: Sealed | null;
  admittedAt: string | null;
  gate: string | null;
}

/**
 * The seat inventory of one concert. It lives in memory in the command API for the whole sale,
 * so it is built for speed: one byte per seat, and `evolve` takes an `Owned` state over and
 * changes it in place instead of copying 50,000 seats and every hold per event. A caller that
 * needs the state as it was (a batch that failed to append) folds it again from the store.
 */
/** What an admin may edit, as last decided (instants in their canonical form): an edit that changes nothing appends nothing. */
export interface ConcertDetails {
  name: string;
  artist: string;
  date: string;
  venue: string;
  description: string | null;
  image_url: string | null;
  max_tickets_per_ktp: number | null;
  sales_open_at: string | null;
  sales_close_at: string | null;
  /** Bookings need a booking pass from the waiting room (domain/queue). */
  waiting_room: boolean;
}

export interface ConcertState {
  status: 'unscheduled' | 'scheduled' | 'on_sale' | 'cancelled';
  concertId: string | null;
  /** Null until scheduled. */
  details: ConcertDetails | null;
  maxTicketsPerKtp: number | null;
  /** When the concert starts: tickets are transferred before, not after; sales close then unless `salesCloseAtMs` says otherwise. */
  startsAtMs: number | null;
  salesOpenAtMs: number | null;
  /** The explicit close of sales, or null for the concert's start. */
  salesCloseAtMs: number | null;
  classes: TicketClassState[];
  classById: Map<string, TicketClassState>;
  classByPrefix: Map<string, TicketClassState>;
  /** SEAT_AVAILABLE, SEAT_HELD or SEAT_SOLD per seat, classes one after another. */
  seatStatus: Uint8Array;
  /** Held and sold holds by booking id. */
  holds: Map<string, HoldState>;
  /** The most recently released holds, booking id → reason, oldest first: at most `releasedLimit`. */
  released: Map<string, ReleaseReason>;
  releasedLimit: number;
  /** Released holds dropped from `released` so far: once there are any, an unknown booking id may be one of them. */
  forgotten: number;
  /** A pending or confirmed booking per user: at most one. */
  activeBookingByUser: Map<string, string>;
  /** Tickets in pending or confirmed bookings per KTP fingerprint. */
  ticketsByKtp: Map<string, number>;
  /** The tickets of sold seats, by seat index. */
  tickets: Map<number, TicketState>;
  /**
   * Each waiting room pass a hold was made with → that hold's booking, kept when the hold is
   * released: a pass buys one booking, decided with the hold itself, on every instance.
   */
  passes: Map<string, string>;
}

/** `releasedLimit`: how many released holds to remember (a spec may ask for a few, to see them forgotten). */
export function initialState(releasedLimit = RELEASED_HOLDS_KEPT): Owned<ConcertState> {
  return owned({
    status: 'unscheduled',
    concertId: null,
    details: null,
    maxTicketsPerKtp: null,
    startsAtMs: null,
    salesOpenAtMs: null,
    salesCloseAtMs: null,
    classes: [],
    classById: new Map(),
    classByPrefix: new Map(),
    seatStatus: new Uint8Array(0),
    holds: new Map(),
    released: new Map(),
    releasedLimit,
    forgotten: 0,
    activeBookingByUser: new Map(),
    ticketsByKtp: new Map(),
    tickets: new Map(),
    passes: new Map(),
  });
}

/** A state built fresh, shared with nobody: its builder owns it. */
export function owned(state: ConcertState): Owned<ConcertState> {
  return state as Owned<ConcertState>;
}

/** Changes `state` in place and returns it: keep what it returns, not what you passed. */
export function evolve(state: Owned<ConcertState>, event: ConcertEvent): Owned<ConcertState> {
  switch (event.type) {
    case 'ConcertScheduled': {
      const { data } = event;
      state.status = 'scheduled';
      state.concertId = data.concert_id;
      state.details = {
        name: data.name,
        artist: data.artist,
        date: data.date,
        venue: data.venue,
        description: data.description,
        image_url: data.image_url,
        max_tickets_per_ktp: data.max_tickets_per_ktp,
        sales_open_at: data.sales_open_at,
        sales_close_at: data.sales_close_at,
        waiting_room: data.waiting_room ?? false,
      };
      state.maxTicketsPerKtp = data.max_tickets_per_ktp;
      state.startsAtMs = instant(data.date);
      state.salesOpenAtMs = data.sales_open_at === null ? null : instant(data.sales_open_at);
      state.salesCloseAtMs = data.sales_close_at === null ? null : instant(data.sales_close_at);
      state.classes = buildClasses(data.ticket_classes);
      state.classById = new Map(state.classes.map((c) => [c.id, c]));
      state.classByPrefix = new Map(state.classes.map((c) => [seatIdPrefix(c.id), c]));
      state.seatStatus = new Uint8Array(state.classes.reduce((sum, c) => sum + c.seatCount, 0));
      return state;
    }
    case 'ConcertPublished':
      if (state.status === 'scheduled') state.status = 'on_sale';
      return state;
    case 'SeatsHeld': {
      const { data } = event;
      const seatIndexes = data.seats.map((seat) => seatIndexOf(state, seat.seat_id));
      for (const index of seatIndexes) setSeat(state, index, SEAT_HELD);
      state.holds.set(data.booking_id, {
        bookingId: data.booking_id,
        userId: data.user_id,
        seatIndexes,
        seatIds: data.seats.map((seat) => seat.seat_id),
        ktpFingerprints: data.ktp_fingerprints,
        holders: data.personal_data?.ticket_holders ?? null,
        expiresAt: data.expires_at,
        expiresAtMs: instant(data.expires_at),
        status: 'held',
        transactionId: null,
      });
      state.activeBookingByUser.set(data.user_id, data.booking_id);
      for (const ktp of data.ktp_fingerprints) countKtp(state, ktp, 1);
      if (data.pass_id !== undefined) state.passes.set(data.pass_id, data.booking_id);
      return state;
    }
    case 'HoldReleased': {
      const hold = state.holds.get(event.data.booking_id);
      if (hold === undefined) return state;
      for (const index of hold.seatIndexes) {
        setSeat(state, index, SEAT_AVAILABLE);
        state.tickets.delete(index);
      }
      if (state.activeBookingByUser.get(hold.userId) === hold.bookingId) state.activeBookingByUser.delete(hold.userId);
      for (const ktp of hold.ktpFingerprints) countKtp(state, ktp, -1);
      state.holds.delete(hold.bookingId);
      rememberReleased(state, hold.bookingId, event.data.reason);
      return state;
    }
    case 'SeatsSold': {
      const hold = state.holds.get(event.data.booking_id);
      if (hold === undefined) return state;
      hold.seatIndexes.forEach((index, place) => {
        setSeat(state, index, SEAT_SOLD);
        state.tickets.set(index, { bookingId: hold.bookingId, revision: 1, holder: hold.holders?.[place] ?? null, admittedAt: null, gate: null });
      });
      hold.holders = null;
      hold.status = 'sold';
      hold.transactionId = event.data.transaction_id;
      return state;
    }
    case 'ConcertCancelled':
      state.status = 'cancelled';
      return state;
    case 'TicketTransferred': {
      const { data } = event;
      const index = seatIndexOf(state, data.ticket_id);
      const ticket = state.tickets.get(index);
      const hold = state.holds.get(data.booking_id);
      if (ticket === undefined || hold === undefined) return state;
      ticket.revision = data.revision;
      ticket.holder = data.holder;
      const place = hold.seatIndexes.indexOf(index);
      const previous = hold.ktpFingerprints[place];
      if (previous !== undefined) {
        countKtp(state, previous, -1);
        countKtp(state, data.ktp_fingerprint, 1);
        hold.ktpFingerprints = hold.ktpFingerprints.map((ktp, i) => (i === place ? data.ktp_fingerprint : ktp));
      }
      return state;
    }
    case 'TicketAdmitted': {
      const ticket = state.tickets.get(seatIndexOf(state, event.data.ticket_id));
      if (ticket !== undefined && ticket.admittedAt === null) {
        ticket.admittedAt = event.data.admitted_at;
        ticket.gate = event.data.gate;
      }
      return state;
    }
    case 'ConcertDetailsChanged': {
      const { concert_id: _concertId, changed_at: _changedAt, ...changes } = event.data;
      if (state.details === null) return state;
      Object.assign(state.details, changes);
      const details = state.details;
      state.maxTicketsPerKtp = details.max_tickets_per_ktp;
      state.startsAtMs = instant(details.date);
      state.salesOpenAtMs = details.sales_open_at === null ? null : instant(details.sales_open_at);
      state.salesCloseAtMs = details.sales_close_at === null ? null : instant(details.sales_close_at);
      return state;
    }
    case 'TicketClassPriceChanged': {
      const ticketClass = state.classById.get(event.data.ticket_class_id);
      if (ticketClass !== undefined) ticketClass.price = event.data.price;
      return state;
    }
    case 'TicketClassAdded': {
      const spec = event.data.ticket_class;
      if (state.classById.has(spec.ticket_class_id)) return state;
      const ticketClass: TicketClassState = {
        id: spec.ticket_class_id,
        name: spec.name,
        price: spec.price,
        seatCount: spec.seat_count,
        firstSeat: state.seatStatus.length,
        available: spec.seat_count,
        searchFrom: 0,
      };
      state.classes.push(ticketClass);
      state.classById.set(ticketClass.id, ticketClass);
      state.classByPrefix.set(seatIdPrefix(ticketClass.id), ticketClass);
      const seatStatus = new Uint8Array(state.seatStatus.length + spec.seat_count);
      seatStatus.set(state.seatStatus);
      state.seatStatus = seatStatus;
      return state;
    }
    case 'SeatsAdded': {
      const ticketClass = state.classById.get(event.data.ticket_class_id);
      if (ticketClass !== undefined) addSeats(state, ticketClass, event.data.seat_count - ticketClass.seatCount);
      return state;
    }
    default:
      return assertNever(event);
  }
}

/**
 * Grows a class in place, keeping every class's seats contiguous (the booking rule's scans, the
 * audit and the snapshot rely on it): the seats of the classes after it move up by `added`, and
 * so does every index a hold or a ticket keeps. Adding seats is rare; a sale is not slowed by it.
 */
function addSeats(state: ConcertState, ticketClass: TicketClassState, added: number): void {
  if (added <= 0) return;
  const end = ticketClass.firstSeat + ticketClass.seatCount;
  const seatStatus = new Uint8Array(state.seatStatus.length + added);
  seatStatus.set(state.seatStatus.subarray(0, end), 0);
  seatStatus.set(state.seatStatus.subarray(end), end + added); // the new seats start available (0)
  const moved = end < state.seatStatus.length;
  state.seatStatus = seatStatus;
  ticketClass.seatCount += added;
  ticketClass.available += added;
  if (!moved) return;
  const remap = (index: number): number => (index >= end ? index + added : index);
  for (const later of state.classes) if (later.firstSeat >= end) later.firstSeat += added;
  for (const hold of state.holds.values()) {
    if (hold.seatIndexes.some((index) => index >= end)) hold.seatIndexes = hold.seatIndexes.map(remap);
  }
  state.tickets = new Map([...state.tickets].map(([index, ticket]) => [remap(index), ticket]));
}

/** The index in `seatStatus` of a seat id, or -1 when the id names no seat of this concert. */
export function seatIndexOf(state: ConcertState, id: string): number {
  const parsed = parseSeatId(id);
  if (parsed === undefined) return -1;
  const ticketClass = state.classByPrefix.get(parsed.prefix);
  if (ticketClass === undefined || parsed.seatNumber > ticketClass.seatCount) return -1;
  return ticketClass.firstSeat + parsed.seatNumber - 1;
}

/** The class a seat index belongs to. Classes are few, so a scan is fine. */
export function classOfSeat(state: ConcertState, index: number): TicketClassState {
  for (const ticketClass of state.classes) {
    if (index < ticketClass.firstSeat + ticketClass.seatCount) return ticketClass;
  }
  throw new RangeError(`seat index ${index} is outside the concert`);
}

function buildClasses(ticketClasses: readonly TicketClass[]): TicketClassState[] {
  let firstSeat = 0;
  return ticketClasses.map((spec) => {
    const ticketClass: TicketClassState = {
      id: spec.ticket_class_id,
      name: spec.name,
      price: spec.price,
      seatCount: spec.seat_count,
      firstSeat,
      available: spec.seat_count,
      searchFrom: 0,
    };
    firstSeat += spec.seat_count;
    return ticketClass;
  });
}

/**
 * Keeps a released hold among the most recent ones, forgetting the oldest beyond the limit: in
 * release order, so a fold from the first event and one from a snapshot remember the same ones.
 */
export function rememberReleased(state: Pick<ConcertState, 'released' | 'releasedLimit' | 'forgotten'>, bookingId: string, reason: ReleaseReason): void {
  state.released.set(bookingId, reason);
  while (state.released.size > state.releasedLimit) {
    const oldest = state.released.keys().next();
    if (oldest.done === true) break;
    state.released.delete(oldest.value);
    state.forgotten++;
  }
}

function countKtp(state: ConcertState, ktp: string, by: 1 | -1): void {
  const count = (state.ticketsByKtp.get(ktp) ?? 0) + by;
  if (count > 0) state.ticketsByKtp.set(ktp, count);
  else state.ticketsByKtp.delete(ktp);
}

function setSeat(state: ConcertState, index: number, status: SeatStatusCode): void {
  if (index < 0) throw new RangeError('event names a seat this concert does not have');
  const ticketClass = classOfSeat(state, index);
  const before = state.seatStatus[index];
  state.seatStatus[index] = status;
  const local = index - ticketClass.firstSeat;
  if (before === SEAT_AVAILABLE && status !== SEAT_AVAILABLE) {
    ticketClass.available--;
    if (local === ticketClass.searchFrom) advanceSearch(state, ticketClass);
  } else if (before !== SEAT_AVAILABLE && status === SEAT_AVAILABLE) {
    ticketClass.available++;
    ticketClass.searchFrom = Math.min(ticketClass.searchFrom, local);
  }
}

function advanceSearch(state: ConcertState, ticketClass: TicketClassState): void {
  let local = ticketClass.searchFrom;
  while (local < ticketClass.seatCount && state.seatStatus[ticketClass.firstSeat + local] !== SEAT_AVAILABLE) local++;
  ticketClass.searchFrom = local;
}
