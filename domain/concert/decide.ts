import { DomainError, assertNever } from '../shared/errors.ts';
import { instant } from '../shared/decider.ts';
import { toCanonicalInstant } from '../shared/instant.ts';
import type {
  AddTicketClass,
  CancelConcert,
  ChangeConcert,
  ConcertDetailChanges,
  ConcertCommand,
  HoldSeats,
  PublishConcert,
  ReleaseHold,
  ScheduleConcert,
  SellSeats,
  TransferTicket,
  AdmitTicket,
  ImportSale,
} from './commands.ts';
import type { ConcertDetailsChanged, ConcertEvent, HeldSeat, HoldReleased, ReleaseReason } from './events.ts';
import { MAX_SEAT_NUMBER, isUuid, seatId, seatIdPrefix } from './seats.ts';
import { SEAT_AVAILABLE, seatIndexOf, classOfSeat, type ConcertDetails, type ConcertState, type HoldState, type TicketState } from './state.ts';

export const MAX_TICKETS_PER_BOOKING = 5;
/** A stadium, with room to spare; beyond this the in-memory inventory would be unreasonable. */
export const MAX_SEATS_PER_CONCERT = 200_000;

export function decide(command: ConcertCommand, state: ConcertState): ConcertEvent[] {
  switch (command.type) {
    case 'ScheduleConcert':
      return scheduleConcert(command, state);
    case 'PublishConcert':
      return publishConcert(command, state);
    case 'HoldSeats':
      return holdSeats(command, state);
    case 'ReleaseHold':
      return releaseHold(command, state);
    case 'SellSeats':
      return sellSeats(command, state);
    case 'CancelConcert':
      return cancelConcert(command, state);
    case 'TransferTicket':
      return transferTicket(command, state);
    case 'AdmitTicket':
      return admitTicket(command, state);
    case 'ChangeConcert':
      return changeConcert(command, state);
    case 'AddTicketClass':
      return addTicketClass(command, state);
    case 'ImportSale':
      return importSale(command, state);
    default:
      return assertNever(command);
  }
}

function scheduleConcert(command: ScheduleConcert, state: ConcertState): ConcertEvent[] {
  if (state.status !== 'unscheduled') {
    throw new DomainError('CONCERT_ALREADY_SCHEDULED', 'this concert is already scheduled');
  }
  if (command.ticket_classes.length === 0) {
    throw new DomainError('NO_TICKET_CLASSES', 'a concert needs at least one ticket class');
  }
  const names = new Set<string>();
  const prefixes = new Set<string>();
  let totalSeats = 0;
  for (const ticketClass of command.ticket_classes) {
    const name = ticketClass.name.trim().toLowerCase();
    if (names.has(name) || prefixes.has(seatIdPrefix(ticketClass.ticket_class_id))) {
      throw new DomainError('DUPLICATE_TICKET_CLASS', `ticket class "${ticketClass.name}" appears twice`);
    }
    names.add(name);
    prefixes.add(seatIdPrefix(ticketClass.ticket_class_id));
    if (!isUuid(ticketClass.ticket_class_id) || name === '' || !isNonNegativeInteger(ticketClass.price)) {
      throw new DomainError('INVALID_TICKET_CLASS', `ticket class "${ticketClass.name}" needs a uuid, a name and an integer price`);
    }
    if (!Number.isInteger(ticketClass.seat_count) || ticketClass.seat_count < 1 || ticketClass.seat_count > MAX_SEAT_NUMBER) {
      throw new DomainError('INVALID_TICKET_CLASS', `ticket class "${ticketClass.name}" needs at least one seat`);
    }
    totalSeats += ticketClass.seat_count;
  }
  if (totalSeats > MAX_SEATS_PER_CONCERT) {
    throw new DomainError('TOO_MANY_SEATS', `a concert has at most ${MAX_SEATS_PER_CONCERT} seats`, { totalSeats });
  }
  checkSalesWindow(command);
  const events: ConcertEvent[] = [
    {
      type: 'ConcertScheduled',
      data: {
        concert_id: command.concert_id,
        name: command.name,
        artist: command.artist,
        // Times from outside are kept in the one form every reader compares (instant.ts).
        date: toCanonicalInstant(command.date),
        venue: command.venue,
        description: command.description,
        image_url: command.image_url,
        max_tickets_per_ktp: command.max_tickets_per_ktp,
        sales_open_at: command.sales_open_at === null ? null : toCanonicalInstant(command.sales_open_at),
        sales_close_at: command.sales_close_at === null ? null : toCanonicalInstant(command.sales_close_at),
        ...(command.waiting_room ? { waiting_room: true } : {}),
        ticket_classes: command.ticket_classes.map((c) => ({
          ticket_class_id: c.ticket_class_id,
          name: c.name.trim(),
          price: c.price,
          seat_count: c.seat_count,
        })),
        scheduled_at: command.now,
      },
    },
  ];
  if (command.publish) {
    events.push({ type: 'ConcertPublished', data: { concert_id: command.concert_id, published_at: command.now } });
  }
  return events;
}

function publishConcert(command: PublishConcert, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  if (state.status === 'cancelled') throw new DomainError('CONCERT_CANCELLED', 'a cancelled concert cannot go on sale');
  if (state.status === 'on_sale') return [];
  return [{ type: 'ConcertPublished', data: { concert_id: concertId, published_at: command.now } }];
}

function holdSeats(command: HoldSeats, state: ConcertState): ConcertEvent[] {
  const concertId = requireOnSale(state, instant(command.now));
  // Decided against the same state as the hold: a waiting room switched on in between is seen.
  if (state.details?.waiting_room === true && (command.pass_id ?? null) === null) {
    throw new DomainError('QUEUE_REQUIRED', 'this concert has a waiting room: book with the Booking-Pass it gives you');
  }
  // One pass, one booking: a pass that held seats for another booking (standing or released since) buys nothing more.
  const boughtWith = command.pass_id == null ? undefined : state.passes.get(command.pass_id);
  if (boughtWith !== undefined && boughtWith !== command.booking_id) {
    throw new DomainError('INVALID_PASS', 'this booking pass is not valid for this account now');
  }
  if (state.holds.has(command.booking_id) || state.released.has(command.booking_id)) {
    throw new DomainError('BOOKING_ALREADY_EXISTS', 'this booking id already holds seats');
  }
  if (state.forgotten > 0 && command.never_held !== true) {
    // It may be a booking whose hold was released and forgotten: only its stream can tell.
    throw new DomainError('HOLD_FORGOTTEN', 'this concert has forgotten holds released long ago: check the booking stream of this id first');
  }
  const ticketCount = countTickets(command);
  if (command.ktp_fingerprints.length !== ticketCount
    || (command.personal_data !== null && command.personal_data.ticket_holders.length !== ticketCount)) {
    throw new DomainError('HOLDER_COUNT_MISMATCH', `${ticketCount} tickets need ${ticketCount} ticket holders`);
  }
  if (instant(command.expires_at) <= instant(command.now)) {
    throw new DomainError('INVALID_HOLD_EXPIRY', 'a hold must expire after it is placed');
  }
  if (state.activeBookingByUser.has(command.user_id)) {
    throw new DomainError('ACTIVE_BOOKING_EXISTS', 'you already have a pending or confirmed booking for this concert', {
      booking_id: state.activeBookingByUser.get(command.user_id),
    });
  }
  checkKtpLimit(command.ktp_fingerprints, state);

  const seatIndexes = command.selection.by === 'class'
    ? bestAvailable(command.selection.tickets, state)
    : requestedSeats(command.selection.seat_ids, state);
  const seats: HeldSeat[] = seatIndexes.map((index) => {
    const ticketClass = classOfSeat(state, index);
    const seatNumber = index - ticketClass.firstSeat + 1;
    return {
      seat_id: seatId(ticketClass.id, seatNumber),
      ticket_class_id: ticketClass.id,
      seat_number: seatNumber,
      price: ticketClass.price,
    };
  });
  return [
    {
      type: 'SeatsHeld',
      data: {
        concert_id: concertId,
        booking_id: command.booking_id,
        user_id: command.user_id,
        seats,
        total_price: seats.reduce((sum, seat) => sum + seat.price, 0),
        ktp_fingerprints: [...command.ktp_fingerprints],
        personal_data: command.personal_data,
        held_at: command.now,
        expires_at: command.expires_at,
        ...(command.pass_id == null ? {} : { pass_id: command.pass_id }),
      },
    },
  ];
}

function countTickets(command: HoldSeats): number {
  let count = 0;
  if (command.selection.by === 'class') {
    for (const { quantity } of command.selection.tickets) {
      if (!Number.isInteger(quantity) || quantity < 1) {
        throw new DomainError('INVALID_QUANTITY', 'each ticket class needs a quantity of at least 1');
      }
      count += quantity;
    }
  } else {
    count = command.selection.seat_ids.length;
  }
  if (count === 0) throw new DomainError('NO_TICKETS', 'a booking needs at least one ticket');
  if (count > MAX_TICKETS_PER_BOOKING) {
    throw new DomainError('TOO_MANY_TICKETS', `a booking has at most ${MAX_TICKETS_PER_BOOKING} tickets`, { requested: count });
  }
  return count;
}

function checkKtpLimit(fingerprints: readonly string[], state: ConcertState): void {
  const limit = state.maxTicketsPerKtp;
  if (limit === null) return;
  const requested = new Map<string, number>();
  for (const ktp of fingerprints) requested.set(ktp, (requested.get(ktp) ?? 0) + 1);
  for (const [ktp, count] of requested) {
    if ((state.ticketsByKtp.get(ktp) ?? 0) + count > limit) {
      throw new DomainError('KTP_LIMIT_REACHED', `at most ${limit} tickets per KTP number for this concert`);
    }
  }
}

/** The lowest-numbered available seats of each requested class, all or nothing. */
function bestAvailable(tickets: readonly { ticket_class_id: string; quantity: number }[], state: ConcertState): number[] {
  const wanted = new Map<string, number>();
  for (const { ticket_class_id, quantity } of tickets) {
    if (!state.classById.has(ticket_class_id)) {
      throw new DomainError('UNKNOWN_TICKET_CLASS', 'this concert has no such ticket class', { ticket_class_id });
    }
    wanted.set(ticket_class_id, (wanted.get(ticket_class_id) ?? 0) + quantity);
  }
  const chosen: number[] = [];
  for (const [ticketClassId, quantity] of wanted) {
    const ticketClass = state.classById.get(ticketClassId);
    if (ticketClass === undefined) continue; // checked above
    if (ticketClass.available < quantity) {
      throw new DomainError('SOLD_OUT', `only ${ticketClass.available} seats left in ${ticketClass.name}`, {
        ticket_class_id: ticketClassId,
        available: ticketClass.available,
      });
    }
    const end = ticketClass.firstSeat + ticketClass.seatCount;
    let taken = 0;
    for (let index = ticketClass.firstSeat + ticketClass.searchFrom; index < end && taken < quantity; index++) {
      if (state.seatStatus[index] === SEAT_AVAILABLE) {
        chosen.push(index);
        taken++;
      }
    }
  }
  return chosen;
}

function requestedSeats(seatIds: readonly string[], state: ConcertState): number[] {
  const chosen: number[] = [];
  const seen = new Set<number>();
  for (const id of seatIds) {
    const index = seatIndexOf(state, id);
    if (index < 0) throw new DomainError('UNKNOWN_SEAT', 'this concert has no such seat', { seat_id: id });
    if (seen.has(index)) throw new DomainError('DUPLICATE_SEAT', 'a seat is requested twice', { seat_id: id });
    seen.add(index);
    chosen.push(index);
  }
  const taken = seatIds.filter((_, i) => state.seatStatus[chosen[i] ?? -1] !== SEAT_AVAILABLE);
  if (taken.length > 0) {
    throw new DomainError('SEAT_UNAVAILABLE', 'a requested seat is already held or sold', { seat_ids: taken });
  }
  return chosen;
}

function releaseHold(command: ReleaseHold, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  // Already done, or done so long ago that it is forgotten: a reactor retrying is harmless.
  if (state.released.has(command.booking_id)) return [];
  const hold = state.holds.get(command.booking_id);
  if (hold === undefined) {
    if (state.forgotten > 0) return [];
    throw new DomainError('HOLD_NOT_FOUND', 'no seats are held for this booking');
  }
  if (hold.status === 'sold') {
    throw new DomainError('HOLD_ALREADY_SOLD', 'the seats of a paid booking are not released');
  }
  if (command.reason === 'expired' && instant(command.now) < hold.expiresAtMs) {
    throw new DomainError('HOLD_NOT_EXPIRED', `the hold expires at ${hold.expiresAt}`);
  }
  return [released(concertId, hold, command.reason, command.now)];
}

function sellSeats(command: SellSeats, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  const hold = heldOrSold(state, command.booking_id);
  if (hold.status === 'sold') {
    if (hold.transactionId === command.transaction_id) return []; // the same payment, notified again
    throw new DomainError('HOLD_ALREADY_SOLD', 'these seats were already paid by another payment');
  }
  if (state.status === 'cancelled') {
    throw new DomainError('CONCERT_CANCELLED', 'the concert was cancelled; the payment is due for refund');
  }
  if (hold.status === 'released') {
    if (hold.reason === 'expired') {
      throw new DomainError('HOLD_EXPIRED', 'the hold expired before the payment arrived');
    }
    throw new DomainError('HOLD_RELEASED', 'the booking was given up before the payment arrived', {
      reason: hold.reason,
    });
  }
  if (hold.status === 'forgotten') throw forgottenHold();
  if (instant(command.now) >= hold.expiresAtMs) {
    // Not released yet, but its time is up: the late payer does not keep the seats.
    throw new DomainError('HOLD_EXPIRED', 'the hold expired before the payment arrived');
  }
  return [
    {
      type: 'SeatsSold',
      data: {
        concert_id: concertId,
        booking_id: hold.bookingId,
        seat_ids: [...hold.seatIds],
        transaction_id: command.transaction_id,
        sold_at: command.now,
      },
    },
  ];
}

function cancelConcert(command: CancelConcert, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  if (state.status === 'cancelled') return [];
  const events: ConcertEvent[] = [
    { type: 'ConcertCancelled', data: { concert_id: concertId, reason: command.reason, cancelled_at: command.now } },
  ];
  for (const hold of state.holds.values()) {
    if (hold.status === 'held') events.push(released(concertId, hold, 'concert_cancelled', command.now));
  }
  return events;
}

/**
 * A ticket changes holder: only its buyer asks, only before the concert starts and before it was
 * used, and the new holder counts against the per-KTP limit like any holder.
 */
function transferTicket(command: TransferTicket, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  const { ticket, hold } = requireTicket(state, command.ticket_id);
  if (hold.userId !== command.user_id) throw new DomainError('TICKET_NOT_FOUND', 'no such ticket');
  if (state.status === 'cancelled') throw new DomainError('TICKET_VOID', 'the concert was cancelled; this ticket is void');
  if (ticket.admittedAt !== null) throw new DomainError('ALREADY_ADMITTED', 'this ticket was used at the door already', admission(ticket));
  if (state.startsAtMs !== null && instant(command.now) >= state.startsAtMs) {
    throw new DomainError('TRANSFER_CLOSED', 'tickets are transferred before the concert starts, not after');
  }
  const current = hold.ktpFingerprints[hold.seatIndexes.indexOf(seatIndexOf(state, command.ticket_id))];
  if (current !== command.ktp_fingerprint) checkKtpLimit([command.ktp_fingerprint], state);
  return [{
    type: 'TicketTransferred',
    data: {
      concert_id: concertId,
      booking_id: hold.bookingId,
      ticket_id: command.ticket_id,
      revision: ticket.revision + 1,
      holder: command.holder,
      ktp_fingerprint: command.ktp_fingerprint,
      transferred_at: command.now,
    },
  }];
}

/**
 * A scan at the door. Every gate's scan of a ticket comes through this one decision on the
 * concert's stream, so a ticket gets in once: two gates at the same moment are two commands of a
 * batch, or two instances racing on the stream's revision, and the second sees the first.
 */
function admitTicket(command: AdmitTicket, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  const index = seatIndexOf(state, command.ticket_id);
  const ticket = state.tickets.get(index);
  if (state.status === 'cancelled' || ticket === undefined) {
    throw new DomainError('TICKET_VOID', 'this ticket is not valid: its booking is not paid, or it was cancelled or refunded');
  }
  if (command.revision < ticket.revision) {
    throw new DomainError('TICKET_SUPERSEDED', 'this ticket was transferred: its newer QR code is the one that gets in');
  }
  if (command.revision > ticket.revision) throw new DomainError('INVALID_TICKET', 'no such revision of this ticket');
  if (ticket.admittedAt !== null) throw new DomainError('ALREADY_ADMITTED', 'this ticket was admitted already', admission(ticket));
  return [{
    type: 'TicketAdmitted',
    data: {
      concert_id: concertId,
      booking_id: ticket.bookingId,
      ticket_id: command.ticket_id,
      revision: ticket.revision,
      gate: command.gate,
      scanned_at: command.scanned_at,
      admitted_at: command.now,
    },
  }];
}

function requireTicket(state: ConcertState, ticketId: string): { ticket: TicketState; hold: HoldState } {
  const ticket = state.tickets.get(seatIndexOf(state, ticketId));
  const hold = ticket && state.holds.get(ticket.bookingId);
  if (ticket === undefined || hold === undefined) throw new DomainError('TICKET_NOT_FOUND', 'no such ticket');
  return { ticket, hold };
}

function admission(ticket: TicketState): Record<string, unknown> {
  return { admitted_at: ticket.admittedAt, gate: ticket.gate };
}

function released(concertId: string, hold: HoldState, reason: HoldReleased['data']['reason'], now: string): HoldReleased {
  return {
    type: 'HoldReleased',
    data: { concert_id: concertId, booking_id: hold.bookingId, seat_ids: [...hold.seatIds], reason, released_at: now },
  };
}

/** Sales open before they close, and they close at the concert's date unless told otherwise. */
function checkSalesWindow(window: Pick<ConcertDetails, 'date' | 'sales_open_at' | 'sales_close_at'>): void {
  if (window.sales_open_at === null) return;
  const closesAt = window.sales_close_at ?? window.date;
  if (instant(window.sales_open_at) >= instant(closesAt)) {
    throw new DomainError('INVALID_SALES_WINDOW', window.sales_close_at === null
      ? 'sales must open before the concert starts (when they close unless sales_close_at says otherwise)'
      : 'sales must open before they close', { sales_open_at: window.sales_open_at, closes_at: closesAt });
  }
}

const INSTANT_FIELDS = new Set<keyof ConcertDetails>(['date', 'sales_open_at', 'sales_close_at']);
const REQUIRED_TEXT_FIELDS = new Set<keyof ConcertDetails>(['name', 'artist', 'venue']);

/**
 * An admin's edit of the details and prices. Only what differs from the state is decided, so a
 * request that repeats the current values (or names nothing) appends nothing.
 */
function changeConcert(command: ChangeConcert, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  if (state.status === 'cancelled') throw new DomainError('CONCERT_CANCELLED', 'a cancelled concert is not edited');
  const current = state.details;
  if (current === null) throw new DomainError('CONCERT_NOT_FOUND', 'no such concert');
  const changed: Partial<Record<keyof ConcertDetails, unknown>> = {};
  for (const [field, given] of Object.entries(command.changes) as [keyof ConcertDetailChanges, unknown][]) {
    if (given === undefined) continue;
    let value = given;
    if (typeof value === 'string') {
      value = INSTANT_FIELDS.has(field) ? toCanonicalInstant(value) : value.trim();
      if (REQUIRED_TEXT_FIELDS.has(field) && value === '') {
        throw new DomainError('INVALID_CONCERT_DETAILS', `${field} cannot be empty`, { field });
      }
    } else if (value === null && (REQUIRED_TEXT_FIELDS.has(field) || field === 'date')) {
      throw new DomainError('INVALID_CONCERT_DETAILS', `${field} cannot be cleared`, { field });
    } else if (field === 'max_tickets_per_ktp' && value !== null && !(Number.isSafeInteger(value) && (value as number) >= 1)) {
      throw new DomainError('INVALID_CONCERT_DETAILS', 'max_tickets_per_ktp is a whole number of at least 1', { field });
    }
    if (value !== current[field]) changed[field] = value;
  }
  checkSalesWindow({ ...current, ...changed } as ConcertDetails);

  const events: ConcertEvent[] = [];
  if (Object.keys(changed).length > 0) {
    events.push({
      type: 'ConcertDetailsChanged',
      data: { concert_id: concertId, ...changed, changed_at: command.now } as ConcertDetailsChanged['data'],
    });
  }
  const seen = new Set<string>();
  for (const { ticket_class_id, price } of command.prices) {
    const ticketClass = state.classById.get(ticket_class_id);
    if (ticketClass === undefined) throw new DomainError('UNKNOWN_TICKET_CLASS', 'this concert has no such ticket class', { ticket_class_id });
    if (seen.has(ticket_class_id)) throw new DomainError('DUPLICATE_TICKET_CLASS', 'a ticket class is priced twice', { ticket_class_id });
    seen.add(ticket_class_id);
    if (!isNonNegativeInteger(price)) throw new DomainError('INVALID_TICKET_CLASS', 'a price is a whole number of rupiah', { ticket_class_id });
    if (price === ticketClass.price) continue;
    events.push({
      type: 'TicketClassPriceChanged',
      data: { concert_id: concertId, ticket_class_id, price, previous_price: ticketClass.price, changed_at: command.now },
    });
  }
  return events;
}

/** A new class by a new name; more seats for the class of an existing name (`seat_count` is its new total). */
function addTicketClass(command: AddTicketClass, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  if (state.status === 'cancelled') throw new DomainError('CONCERT_CANCELLED', 'a cancelled concert gets no more seats');
  const name = command.name.trim();
  if (name === '' || !isNonNegativeInteger(command.price)) {
    throw new DomainError('INVALID_TICKET_CLASS', 'a ticket class needs a name and a whole-rupiah price');
  }
  if (!Number.isInteger(command.seat_count) || command.seat_count < 1 || command.seat_count > MAX_SEAT_NUMBER) {
    throw new DomainError('INVALID_TICKET_CLASS', 'a ticket class needs at least one seat');
  }
  const existing = state.classes.find((c) => c.name.trim().toLowerCase() === name.toLowerCase());
  const totalSeats = state.seatStatus.length + command.seat_count - (existing?.seatCount ?? 0);
  if (existing !== undefined) {
    if (command.price !== existing.price) {
      throw new DomainError('DUPLICATE_TICKET_CLASS', `ticket class "${existing.name}" exists at another price: change its price, or name a new class`, {
        ticket_class_id: existing.id, price: existing.price,
      });
    }
    if (command.seat_count < existing.seatCount) {
      throw new DomainError('INVALID_TICKET_CLASS', `ticket class "${existing.name}" has ${existing.seatCount} seats; it never gets fewer`, {
        ticket_class_id: existing.id, total_seats_in_class: existing.seatCount,
      });
    }
    if (command.seat_count === existing.seatCount) return [];
  } else if (!isUuid(command.ticket_class_id) || state.classByPrefix.has(seatIdPrefix(command.ticket_class_id))) {
    throw new DomainError('DUPLICATE_TICKET_CLASS', 'this ticket class id is taken', { ticket_class_id: command.ticket_class_id });
  }
  if (totalSeats > MAX_SEATS_PER_CONCERT) {
    throw new DomainError('TOO_MANY_SEATS', `a concert has at most ${MAX_SEATS_PER_CONCERT} seats`, { totalSeats });
  }
  if (existing !== undefined) {
    return [{
      type: 'SeatsAdded',
      data: { concert_id: concertId, ticket_class_id: existing.id, added: command.seat_count - existing.seatCount, seat_count: command.seat_count, added_at: command.now },
    }];
  }
  return [{
    type: 'TicketClassAdded',
    data: {
      concert_id: concertId,
      ticket_class: { ticket_class_id: command.ticket_class_id, name, price: command.price, seat_count: command.seat_count },
      added_at: command.now,
    },
  }];
}

function requireScheduled(state: ConcertState): string {
  if (state.status === 'unscheduled' || state.concertId === null) {
    throw new DomainError('CONCERT_NOT_FOUND', 'no such concert');
  }
  return state.concertId;
}

function requireOnSale(state: ConcertState, nowMs: number): string {
  const concertId = requireScheduled(state);
  if (state.status === 'cancelled') throw new DomainError('CONCERT_CANCELLED', 'this concert was cancelled');
  if (state.status !== 'on_sale') throw new DomainError('CONCERT_NOT_ON_SALE', 'this concert is not on sale yet');
  if (state.salesOpenAtMs !== null && nowMs < state.salesOpenAtMs) {
    throw new DomainError('SALES_NOT_OPEN', 'ticket sales have not opened yet', { opens_at: state.details?.sales_open_at ?? null });
  }
  // Without a close of its own, sales close when the concert starts.
  const closesAtMs = state.salesCloseAtMs ?? state.startsAtMs;
  if (closesAtMs !== null && nowMs >= closesAtMs) {
    throw new DomainError('SALES_CLOSED', 'ticket sales have closed', { closed_at: state.details?.sales_close_at ?? state.details?.date ?? null });
  }
  return concertId;
}

/**
 * A booking's hold as a payment finds it: held or sold (whole), released (why), or forgotten — not
 * known, on a concert that has forgotten released holds. A payment only comes for a placed
 * booking, whose stream was written from its hold: a hold not known here any more was released.
 */
function heldOrSold(state: ConcertState, bookingId: string): HoldState | { status: 'released'; reason: ReleaseReason } | { status: 'forgotten' } {
  const hold = state.holds.get(bookingId);
  if (hold !== undefined) return hold;
  const reason = state.released.get(bookingId);
  if (reason !== undefined) return { status: 'released', reason };
  if (state.forgotten > 0) return { status: 'forgotten' };
  throw new DomainError('HOLD_NOT_FOUND', 'no seats are held for this booking');
}

function forgottenHold(): DomainError {
  return new DomainError('HOLD_FORGOTTEN', 'the hold was released long ago (this concert no longer remembers it): the payment is due for refund');
}

function isNonNegativeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * A sale the older system made (import:legacy): as SellSeats, except that a payment after the
 * hold's time still buys the seats, as it did there. The seats are the hold's own, so never two
 * bookings on a seat; a released hold or a cancelled concert sells nothing.
 */
function importSale(command: ImportSale, state: ConcertState): ConcertEvent[] {
  const concertId = requireScheduled(state);
  const hold = heldOrSold(state, command.booking_id);
  if (hold.status === 'sold') {
    if (hold.transactionId === command.transaction_id) return [];
    throw new DomainError('HOLD_ALREADY_SOLD', 'these seats were already paid by another payment');
  }
  if (state.status === 'cancelled') throw new DomainError('CONCERT_CANCELLED', 'the concert was cancelled; the payment is due for refund');
  if (hold.status === 'released') {
    throw new DomainError('HOLD_RELEASED', 'the booking was given up before the payment arrived', { reason: hold.reason });
  }
  if (hold.status === 'forgotten') throw forgottenHold();
  return [{
    type: 'SeatsSold',
    data: { concert_id: concertId, booking_id: hold.bookingId, seat_ids: [...hold.seatIds], transaction_id: command.transaction_id, sold_at: command.now },
  }];
}
