/**
 * `import:legacy`: the older system's databases become boxoffice history, decided by boxoffice's
 * own deciders through the same command path as a request (CommandHandler, the concert writer,
 * the payments service's settling), never written into a read model.
 *
 * Exactly once: every id is derived from the old one (`derivedUuid('legacy', kind, id)`;
 * bookings keep their UUIDs), every step first looks at what its stream already holds and is
 * refused as "already done" by the deciders otherwise, and the rows are taken in one fixed order.
 * A second run appends nothing; a run killed anywhere resumes to what one clean run makes.
 *
 * Times are the older system's own (a booking is held at its created_at, paid at its payment's
 * updated_at), so history keeps its dates and two runs decide the same thing.
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext, DomainEventShape, Sealed } from '../../domain/index.ts';
import { instant } from '../../domain/index.ts';
import { bookingDecider, bookingStream, isOpen, type BookingState, type PaymentMethod } from '../../domain/booking/index.ts';
import { claimDecider, claimStream, type ClaimKind } from '../../domain/claim/index.ts';
import {
  MAX_TICKETS_PER_BOOKING, SEAT_AVAILABLE, SEAT_HELD, SEAT_SOLD, concertDecider, concertEvents, concertStream, seatId, seatIndexOf, type HoldSeats, type SeatsHeld,
} from '../../domain/concert/index.ts';
import { legacyStream, type LegacyKind } from '../../domain/legacy/index.ts';
import { paymentDecider, paymentStream, type PaymentState } from '../../domain/payment/index.ts';
import { isReservedUsername, normalizeEmail, normalizeUsername, userDecider, userStream, type Role } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { isRefusal } from '../../lib/errors.ts';
import { derivedUuid } from '../../lib/ids.ts';
import { isBcrypt } from '../../lib/security/passwords.ts';
import { ensureBookingPlaced, findHold } from '../bookings/placement.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { PaymentService } from '../payments/payments.ts';
import {
  legacyInstant, rupiah,
  type LegacyBooking, type LegacyBuyer, type LegacyConcert, type LegacyData, type LegacyPayment, type LegacySeat, type LegacyTicketClass, type LegacyUser,
} from './legacy-source.ts';
import { Reconciliation, type LegacyTable, type ReconciliationReport } from './reconciliation.ts';
import { CountingStore, DryRunStore } from './stores.ts';
import { ImportCommands, UnitConcertWriter } from './units.ts';

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly phase: 'users' | 'concerts' | 'bookings' | 'payments' | 'done';
}

export interface LegacyImportDeps {
  readonly store: EventStore;
  /** Seals a value with the user's data key (lib/personal-data), as every other path does. */
  readonly seal: (userId: string, value: unknown) => Promise<Sealed>;
  readonly emailDigest: (email: string) => string;
  readonly ktpFingerprint: (ktpNumber: string) => string;
  /** The per-KTP limit of every imported concert (the older system had none of its own). */
  readonly maxTicketsPerKtp: number;
  readonly dryRun: boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
}

/** The id boxoffice gives an old row: the same on every run and every machine. */
export const legacyId = (kind: LegacyKind, id: number): string => derivedUuid('legacy', kind, String(id));

/** The owner of money that arrived for no booking anyone can be found for (its refund is still owed). */
export const UNKNOWN_PAYER = derivedUuid('legacy', 'unknown-payer');

const USERNAME = /^[a-zA-Z0-9_.-]{3,50}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const KTP = /^[0-9]{16}$/;
const PHONE = /^[0-9]{10,15}$/;
const METHODS: Readonly<Record<string, PaymentMethod>> = { credit_card: 'card', card: 'card', bank_transfer: 'bank_transfer', virtual_account: 'virtual_account', e_wallet: 'e_wallet' };
const ROLES: Readonly<Record<string, Role>> = { user: 'customer', admin: 'admin' };

/** A row not taken, with the reason the report gives. */
class Refused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface TakenConcert {
  readonly concertId: string;
  readonly prices: ReadonlyMap<number, number>;
}

interface TakenSeat {
  readonly concertLegacyId: number;
  readonly seatId: string;
  readonly classLegacyId: number;
  readonly legacyStatus: string;
}

type PlacedBooking = Exclude<BookingState, { status: 'none' }>;

const noGateway: PaymentGateway = {
  createPayment: () => Promise.reject(new Error('the importer opens no payment at a gateway')),
  transactionStatus: () => Promise.reject(new Error('the importer asks no gateway')),
  refund: () => Promise.reject(new Error('the importer pays no refund')),
  checkNotification: () => null,
};

export class LegacyImporter {
  readonly #store: CountingStore;
  readonly #commands: ImportCommands;
  readonly #writer: UnitConcertWriter;
  readonly #payments: PaymentService;
  readonly #tally = new Reconciliation();
  readonly #correlationId = `import-legacy-${randomUUID()}`;
  readonly #users = new Map<number, string>();
  readonly #concerts = new Map<number, TakenConcert>();
  readonly #seats = new Map<number, TakenSeat>();
  #done = 0;
  #total = 0;

  constructor(private readonly deps: LegacyImportDeps) {
    this.#store = deps.dryRun ? new DryRunStore(deps.store) : new CountingStore(deps.store);
    this.#commands = new ImportCommands(this.#store);
    this.#writer = new UnitConcertWriter(this.#store, {
      queueLimit: 10_000,
      maxBatch: 500,
      snapshotEvery: 10_000,
      onBackgroundError: () => undefined,
    }, this.#commands);
    this.#payments = new PaymentService({ store: this.#store, commands: this.#commands, writer: this.#writer, gateway: noGateway, now: () => new Date() });
  }

  async run(data: LegacyData): Promise<ReconciliationReport> {
    const byBooking = <T extends { booking_id: string | null }>(rows: readonly T[]): Map<string, T[]> => {
      const map = new Map<string, T[]>();
      for (const row of rows) if (row.booking_id !== null) map.set(row.booking_id.toLowerCase(), [...(map.get(row.booking_id.toLowerCase()) ?? []), row]);
      return map;
    };
    for (const [table, rows] of [
      ['users', data.users], ['concerts', data.concerts], ['ticket_classes', data.ticketClasses], ['seats', data.seats],
      ['bookings', data.bookings], ['booking_seats', data.bookingSeats], ['buyers', data.buyers], ['ticket_holders', data.ticketHolders],
      ['payments', data.payments],
    ] as const) this.#tally.read(table, rows.length);
    this.#total = data.users.length + data.concerts.length + data.bookings.length + data.payments.length;

    this.#phase('users');
    // Users are independent once the import's own duplicates are settled (the first row by id
    // keeps a name or an address), so they are taken several at a time.
    const duplicates = duplicateUsers(data.users);
    await this.#commands.learnAbsent(data.users.flatMap((user) => this.#userStreams(user)));
    await eachConcurrently(data.users, LANES, (user) => this.#commands.inUnit(() => this.#row('users', () => {
      const taken = duplicates.get(user.id);
      if (taken !== undefined) throw new Refused(taken);
      return this.#importUser(user);
    })));

    this.#phase('concerts');
    for (const concert of data.concerts) {
      await this.#row('concerts', () => this.#importConcert(concert, data.ticketClasses.filter((c) => c.concert_id === concert.id), data.seats.filter((s) => s.concert_id === concert.id)));
    }

    this.#phase('bookings');
    const seatsOf = byBooking(data.bookingSeats);
    const buyersOf = byBooking(data.buyers);
    const holdersOf = byBooking(data.ticketHolders);
    const paymentsOf = byBooking(data.payments);
    const settledPayments = new Set<number>();
    // Each concert's bookings are decided one after another in import order (the order decides the
    // seats and the per-KTP limit); concerts are independent inventories and go side by side.
    const lanes = new Map<number, LegacyBooking[]>();
    for (const booking of data.bookings) lanes.set(booking.concert_id, [...(lanes.get(booking.concert_id) ?? []), booking]);
    await eachConcurrently([...lanes.values()], CONCERT_LANES, async (bookings) => {
      const placedAfter = await this.#placedAfter(bookings);
      await this.#commands.learnAbsent(bookings.flatMap((booking) => (paymentsOf.get(booking.id.toLowerCase()) ?? []).flatMap(paymentStreams)));
      for (const [index, booking] of bookings.entries()) {
        const key = booking.id.toLowerCase();
        const bookingSeats = seatsOf.get(key) ?? [];
        const buyers = buyersOf.get(key) ?? [];
        const holders = holdersOf.get(key) ?? [];
        const payments = paymentsOf.get(key) ?? [];
        const seatIds = bookingSeats.filter((s) => s.deleted_at === null).map((s) => s.seat_id);
        const taken = await this.#commands.inUnit(() => this.#row('bookings', () => this.#importBooking(booking, seatIds, buyers, holders, payments, settledPayments, placedAfter[index] ?? null)));
        const reason = taken ? null : 'BOOKING_REFUSED';
        this.#children('booking_seats', bookingSeats, reason);
        this.#children('buyers', buyers, reason);
        this.#children('ticket_holders', holders, reason);
      }
    });
    // Every booking row's children are counted above; rows of bookings that do not exist are not.
    const known = new Set(data.bookings.map((b) => b.id.toLowerCase()));
    for (const [key, rows] of seatsOf) if (!known.has(key)) this.#tally.refused('booking_seats', 'NO_SUCH_BOOKING', rows.length);
    for (const [key, rows] of buyersOf) if (!known.has(key)) this.#tally.refused('buyers', 'NO_SUCH_BOOKING', rows.length);
    for (const [key, rows] of holdersOf) if (!known.has(key)) this.#tally.refused('ticket_holders', 'NO_SUCH_BOOKING', rows.length);

    this.#phase('payments');
    const bookingById = new Map(data.bookings.map((b) => [b.id.toLowerCase(), b]));
    for (const payment of data.payments) {
      if (settledPayments.has(payment.id)) continue;
      const booking = payment.booking_id === null ? undefined : bookingById.get(payment.booking_id.toLowerCase());
      await this.#commands.inUnit(() => this.#row('payments', async () => {
        const opened = await this.#openPayment(payment, null, booking === undefined ? UNKNOWN_PAYER : (this.#users.get(booking.user_id) ?? UNKNOWN_PAYER));
        await this.#settlePayment(payment, opened);
      }));
    }
    await this.#seatNotes(data.seats);
    this.#phase('done');
    await this.#writer.drain();
    return this.#tally.report(this.deps.dryRun, this.#store.appended);
  }

  /** For each booking of a concert (in import order), the first one after it that an earlier run placed already. */
  async #placedAfter(bookings: readonly LegacyBooking[]): Promise<(string | null)[]> {
    const keys = bookings.map((b) => b.id.toLowerCase());
    const placed = new Set<string>();
    const absent: string[] = [];
    for (let from = 0; from < keys.length; from += 500) {
      const chunk = keys.slice(from, from + 500);
      const revisions = await this.#store.streamRevisions(chunk.map(bookingStream));
      for (const key of chunk) {
        if (revisions.has(bookingStream(key))) placed.add(key);
        else absent.push(bookingStream(key));
      }
    }
    // Not placed when the lane began: its units decide on them without reading them.
    await this.#commands.learnAbsent(absent);
    const after: (string | null)[] = [];
    for (let i = keys.length - 1, next: string | null = null; i >= 0; i--) {
      after[i] = next;
      if (placed.has(keys[i] ?? '')) next = keys[i] ?? null;
    }
    return after;
  }

  /** Runs one row's import: taken, or refused with its reason. Anything else (the store down) stops the run. */
  async #row(table: LegacyTable, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      this.#tally.taken(table);
      return true;
    } catch (error) {
      if (error instanceof Refused) {
        this.#tally.refused(table, error.reason);
        return false;
      }
      throw error;
    } finally {
      this.#done++;
      this.#progress();
    }
  }

  #children(table: LegacyTable, rows: readonly { deleted_at: string | null }[], refusedBecause: string | null): void {
    for (const row of rows) {
      if (row.deleted_at !== null) this.#tally.refused(table, 'SOFT_DELETED');
      else if (refusedBecause !== null) this.#tally.refused(table, refusedBecause);
      else this.#tally.taken(table);
    }
  }

  #phase(phase: ImportProgress['phase']): void {
    this.#lastPhase = phase;
    this.#progress();
  }

  #lastPhase: ImportProgress['phase'] = 'users';

  #progress(): void {
    this.deps.onProgress?.({ done: this.#done, total: this.#total, phase: this.#lastPhase });
  }

  #context(at: string, cause: string): CommandContext {
    return { correlationId: this.#correlationId, causationId: `legacy:${cause}`, actorId: null, occurredAt: at };
  }

  // ---- users ----------------------------------------------------------------------------------

  async #importUser(user: LegacyUser): Promise<void> {
    if (user.deleted_at !== null) throw new Refused('SOFT_DELETED');
    if (!USERNAME.test(user.username) || isReservedUsername(user.username)) throw new Refused('INVALID_USERNAME');
    const email = normalizeEmail(user.email);
    if (!EMAIL.test(email) || email.length > 254) throw new Refused('INVALID_EMAIL');
    const role = ROLES[user.role];
    if (role === undefined) throw new Refused('UNKNOWN_ROLE');
    if (!isBcrypt(user.password)) throw new Refused('UNKNOWN_PASSWORD_HASH');
    const registeredAt = legacyInstant(user.created_at) ?? '1970-01-01T00:00:00.000Z';
    const userId = legacyId('user', user.id);
    const context = this.#context(registeredAt, `users:${user.id}`);
    const usernameKey = normalizeUsername(user.username);
    const emailHash = this.deps.emailDigest(email);
    // Looked at before anything is claimed: a refused row claims nothing, on every run.
    await this.#claimable('username', usernameKey, userId, 'USERNAME_TAKEN');
    await this.#claimable('email', emailHash, userId, 'EMAIL_TAKEN');
    for (const [kind, key] of [['username', usernameKey], ['email', emailHash]] as const) {
      await this.#commands.execute(claimStream(kind, key), claimDecider, { type: 'ClaimValue', kind, value_key: key, owner_id: userId, now: registeredAt }, context);
    }
    const stream = userStream(userId);
    let { state } = await this.#commands.load(stream, userDecider);
    if (state.status === 'none') {
      state = (await this.#commands.execute(stream, userDecider, {
        type: 'RegisterUser', user_id: userId, username: user.username, email_hash: emailHash, email: await this.deps.seal(userId, email),
        password_hash: user.password, role, now: registeredAt,
      }, context)).state;
    }
    // The older system never verified addresses, but its users have used them for years and its
    // front end has no verification step: their addresses count as verified, so they can book.
    if (state.status === 'active' && !state.emailVerified) {
      state = (await this.#commands.execute(stream, userDecider, { type: 'VerifyEmail', email_hash: emailHash, now: registeredAt }, context)).state;
    }
    const lastLogin = legacyInstant(user.last_login);
    if (state.status === 'active' && state.lastLoginAt === null && lastLogin !== null) {
      await this.#commands.execute(stream, userDecider, { type: 'RecordLogin', now: lastLogin }, this.#context(lastLogin, `users:${user.id}`));
    }
    await this.#legacyIds('user', user.id, [{ legacy_id: user.id, id: userId }], registeredAt);
    this.#users.set(user.id, userId);
  }

  /** The streams a user's import writes (asked once, before the users, whether they exist yet). */
  #userStreams(user: LegacyUser): string[] {
    return [
      claimStream('username', normalizeUsername(user.username)), claimStream('email', this.deps.emailDigest(normalizeEmail(user.email))),
      userStream(legacyId('user', user.id)), legacyStream('user', user.id),
    ];
  }

  async #claimable(kind: ClaimKind, key: string, userId: string, taken: string): Promise<void> {
    const { state } = await this.#commands.load(claimStream(kind, key), claimDecider);
    if (state.owner !== null && state.owner !== userId) throw new Refused(taken);
  }

  // ---- concerts, classes, seats -----------------------------------------------------------------

  async #importConcert(concert: LegacyConcert, classRows: readonly LegacyTicketClass[], seatRows: readonly LegacySeat[]): Promise<void> {
    const liveClasses = classRows.filter((c) => c.deleted_at === null);
    const liveSeats = seatRows.filter((s) => s.deleted_at === null);
    this.#tally.refused('ticket_classes', 'SOFT_DELETED', classRows.length - liveClasses.length);
    this.#tally.refused('seats', 'SOFT_DELETED', seatRows.length - liveSeats.length);
    const refuseAll = (reason: string, classReason = 'CONCERT_REFUSED', refusedClass?: { id: number; reason: string }): never => {
      for (const c of liveClasses) this.#tally.refused('ticket_classes', c.id === refusedClass?.id ? refusedClass.reason : classReason);
      this.#tally.refused('seats', 'CONCERT_REFUSED', liveSeats.length);
      throw new Refused(reason);
    };
    if (concert.deleted_at !== null) refuseAll('SOFT_DELETED');
    // pending_seat_creation / failed: the older system never finished making its seats.
    if (concert.status !== 'active') refuseAll('CONCERT_NOT_ACTIVE');
    const date = legacyInstant(concert.date);
    const scheduledAt = legacyInstant(concert.created_at) ?? date;
    if (date === null || scheduledAt === null || concert.name.trim() === '' || concert.artist.trim() === '' || concert.venue.trim() === '') refuseAll('INVALID_CONCERT');
    if (liveClasses.length === 0) refuseAll('NO_TICKET_CLASSES');
    const concertId = legacyId('concert', concert.id);
    const classes = [];
    for (const row of liveClasses) {
      const price = rupiah(row.price);
      // Rupiah are whole: an amount with cents cannot be kept exactly, and rounding would change
      // what people paid; the class (and so its concert) is refused for an operator to decide.
      if (price === null) refuseAll('TICKET_CLASS_REFUSED', 'CONCERT_REFUSED', { id: row.id, reason: 'AMOUNT_HAS_CENTS' });
      const seats = liveSeats.filter((s) => s.ticket_class_id === row.id).sort(bySeatNumber);
      const seatCount = seats.length > 0 ? seats.length : row.total_seats_in_class;
      if (seatCount < 1) refuseAll('TICKET_CLASS_REFUSED', 'CONCERT_REFUSED', { id: row.id, reason: 'NO_SEATS' });
      classes.push({ row, price: price ?? 0, seats, ticketClassId: legacyId('ticket_class', row.id), seatCount });
    }
    const strays = liveSeats.filter((s) => !liveClasses.some((c) => c.id === s.ticket_class_id));
    this.#tally.refused('seats', 'NO_SUCH_TICKET_CLASS', strays.length);
    const context = this.#context(scheduledAt ?? '', `concerts:${concert.id}`);
    try {
      await this.#writer.submit(concertId, {
        type: 'ScheduleConcert',
        concert_id: concertId,
        name: concert.name,
        artist: concert.artist,
        date: date ?? '',
        venue: concert.venue,
        description: concert.description,
        image_url: concert.image_url,
        max_tickets_per_ktp: this.deps.maxTicketsPerKtp,
        sales_open_at: null,
        sales_close_at: null,
        ticket_classes: classes.map((c) => ({ ticket_class_id: c.ticketClassId, name: c.row.name, price: c.price, seat_count: c.seatCount })),
        publish: true,
        now: scheduledAt ?? '',
      }, context);
    } catch (error) {
      if (!isRefusal(error, 'CONCERT_ALREADY_SCHEDULED')) {
        if (isRefusal(error)) refuseAll(error.code, 'CONCERT_REFUSED');
        throw error;
      }
    }
    await this.#legacyIds('concert', concert.id, [{ legacy_id: concert.id, id: concertId }], scheduledAt ?? '');
    const prices = new Map<number, number>();
    for (const c of classes) {
      await this.#legacyIds('ticket_class', c.row.id, [{ legacy_id: c.row.id, id: c.ticketClassId }], scheduledAt ?? '');
      // Seats numbered 1… in natural order of their old numbers ("VIP-2" before "VIP-10"); the old
      // ids of a class go in one event.
      const ids = c.seats.map((seat, i) => ({ legacy_id: seat.id, id: seatId(c.ticketClassId, i + 1) }));
      if (ids.length > 0) await this.#legacyIds('seat', c.row.id, ids, scheduledAt ?? '');
      c.seats.forEach((seat, i) => this.#seats.set(seat.id, { concertLegacyId: concert.id, seatId: seatId(c.ticketClassId, i + 1), classLegacyId: c.row.id, legacyStatus: seat.status }));
      prices.set(c.row.id, c.price);
      this.#tally.taken('ticket_classes');
      this.#tally.taken('seats', c.seats.length);
    }
    this.#concerts.set(concert.id, { concertId, prices });
  }

  /** Appends the old ids' mapping once: a stream per row (or per class, for seats) with "no stream". */
  async #legacyIds(kind: LegacyKind, key: number, ids: readonly { legacy_id: number; id: string }[], at: string): Promise<void> {
    const event: DomainEventShape = { type: 'LegacyIdsImported', data: { kind, ids: [...ids], imported_at: at } };
    await this.#commands.appendOnce(legacyStream(kind, key), [event], this.#context(at, `${kind}:${key}`));
  }

  // ---- bookings --------------------------------------------------------------------------------

  async #importBooking(
    booking: LegacyBooking,
    seatIds: readonly number[],
    buyers: readonly LegacyBuyer[],
    holderRows: readonly { deleted_at: string | null; full_name: string; ktp_number: string }[],
    payments: readonly LegacyPayment[],
    settled: Set<number>,
    placedLater: string | null,
  ): Promise<void> {
    if (booking.deleted_at !== null) throw new Refused('SOFT_DELETED');
    const bookingId = booking.id.toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(bookingId)) throw new Refused('INVALID_BOOKING_ID');
    const concert = this.#concerts.get(booking.concert_id);
    if (concert === undefined) throw new Refused('CONCERT_NOT_IMPORTED');
    const userId = this.#users.get(booking.user_id);
    if (userId === undefined) throw new Refused('USER_NOT_IMPORTED');
    const seats = seatIds.map((id) => this.#seats.get(id));
    if (seats.length === 0) throw new Refused('NO_TICKETS');
    if (seats.length > MAX_TICKETS_PER_BOOKING) throw new Refused('TOO_MANY_TICKETS');
    const known = seats.filter((seat): seat is TakenSeat => seat !== undefined && seat.concertLegacyId === booking.concert_id);
    if (known.length !== seats.length) throw new Refused('UNKNOWN_SEAT');
    const liveBuyers = buyers.filter((b) => b.deleted_at === null);
    const buyer = liveBuyers[0];
    if (buyer === undefined) throw new Refused('NO_BUYER');
    const buyerData = { full_name: buyer.full_name.trim(), phone_number: buyer.phone_number.trim(), email: normalizeEmail(buyer.email), ktp_number: buyer.ktp_number.trim() };
    if (buyerData.full_name === '' || !PHONE.test(buyerData.phone_number) || !EMAIL.test(buyerData.email) || !KTP.test(buyerData.ktp_number)) throw new Refused('INVALID_BUYER');
    // One holder per ticket, in seat order; the older front end sent one holder (or none) for the
    // whole booking: that one holds every ticket, and with none the buyer does.
    const liveHolders = holderRows.filter((h) => h.deleted_at === null).map((h) => ({ full_name: h.full_name.trim(), ktp_number: h.ktp_number.trim() }));
    const holders = liveHolders.length === seats.length ? liveHolders
      : liveHolders.length <= 1 ? Array.from({ length: seats.length }, () => liveHolders[0] ?? { full_name: buyerData.full_name, ktp_number: buyerData.ktp_number })
        : null;
    if (holders === null) throw new Refused('HOLDER_COUNT_MISMATCH');
    if (holders.some((h) => h.full_name === '' || !KTP.test(h.ktp_number))) throw new Refused('INVALID_TICKET_HOLDER');
    const total = rupiah(booking.total_price);
    if (total === null) throw new Refused('AMOUNT_HAS_CENTS');
    if (total !== known.reduce((sum, seat) => sum + (concert.prices.get(seat.classLegacyId) ?? 0), 0)) throw new Refused('TOTAL_PRICE_MISMATCH');
    const heldAt = legacyInstant(booking.created_at);
    if (heldAt === null) throw new Refused('INVALID_BOOKING_TIME');
    const expiresAt = legacyInstant(booking.expires_at) ?? new Date(instant(heldAt) + 15 * 60_000).toISOString();
    const context = this.#context(heldAt, `bookings:${bookingId}`);

    const hold: HoldSeats = {
      type: 'HoldSeats',
      booking_id: bookingId,
      user_id: userId,
      selection: { by: 'seat', seat_ids: known.map((seat) => seat.seatId) },
      ktp_fingerprints: holders.map((h) => this.deps.ktpFingerprint(h.ktp_number)),
      personal_data: {
        buyer: await this.deps.seal(userId, buyerData),
        ticket_holders: await Promise.all(holders.map((h) => this.deps.seal(userId, h))),
        buyer_email_digest: this.deps.emailDigest(buyerData.email),
      },
      expires_at: expiresAt,
      now: heldAt,
    };
    if (placedLater !== null && !(await this.#writer.read(concert.concertId, (state) => state.holds.has(bookingId)))) {
      // An earlier run went past this booking and refused it: it is refused again for the same
      // reason, decided on the inventory as it was then, not on what later rows made of it.
      const reason = await this.#refusalAsOf(concert.concertId, placedLater, hold);
      if (reason !== null) throw new Refused(reason);
    }
    let held: SeatsHeld['data'] | null;
    try {
      const written = await this.#writer.submit(concert.concertId, hold, context);
      const [event] = written.events;
      if (event?.type !== 'SeatsHeld') throw new Error('a hold decided no SeatsHeld');
      held = event.data;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (!isRefusal(error, 'BOOKING_ALREADY_EXISTS')) throw new Refused(error.code);
      // Held by an earlier run: placed too, unless that run was killed in between (then the hold
      // is looked up in the concert's stream, the slow path).
      held = (await this.#booking(bookingId)) === null ? await findHold(this.#store, concert.concertId, bookingId) : null;
    }
    if (held !== null) await ensureBookingPlaced(this.#store, this.#commands, held, context);

    // Its payments are opened first, then what the older system decided of the booking itself
    // (cancelled, failed) is applied, then what the gateway said of each payment: money that
    // came for a booking given up is owed back, never lost.
    const live = payments.filter((p) => p.deleted_at === null);
    const opened: { payment: LegacyPayment; opened: OpenedPayment | null }[] = [];
    for (const payment of payments) {
      settled.add(payment.id);
      if (payment.deleted_at !== null) {
        this.#tally.refused('payments', 'SOFT_DELETED');
        this.#countPayment();
        continue;
      }
      await this.#row('payments', async () => {
        opened.push({ payment, opened: await this.#openPayment(payment, bookingId, userId) });
      });
    }
    const failedByGateway = live.some((p) => p.status === 'failed' && opened.some((o) => o.payment === p && o.opened?.known === true));
    if (booking.status === 'cancelled' || (booking.status === 'failed' && !failedByGateway)) {
      await this.#giveUp(concert.concertId, bookingId, booking.status === 'cancelled' ? 'owner' : 'admin', legacyInstant(booking.updated_at) ?? heldAt);
    }
    for (const { payment, opened: open } of opened) await this.#settlePayment(payment, open, booking.status === 'confirmed' ? bookingId : null);
    const final = await this.#booking(bookingId);
    const expected = booking.status === 'failed' ? ['failed', 'cancelled'] : [booking.status];
    if (final !== null && !expected.includes(final.status)) this.#tally.note('bookings', `${booking.status} in the older system, ${final.status} by boxoffice's rules`);
  }

  /** Why `hold` was refused when an earlier run decided it: on the concert as it was before `laterBooking`'s hold. */
  async #refusalAsOf(concertId: string, laterBooking: string, hold: HoldSeats): Promise<string | null> {
    const [placed] = await this.#store.readStream(bookingStream(laterBooking), { maxCount: 1 });
    const before = placed?.position ?? Number.MAX_SAFE_INTEGER;
    let state = concertDecider.initialState();
    for (const recorded of await this.#store.readStream(concertStream(concertId))) {
      if (recorded.position >= before) break;
      const event = decode(recorded, concertEvents);
      if (event.type === 'SeatsHeld' && event.data.booking_id === laterBooking) break;
      state = concertDecider.evolve(state, event);
    }
    try {
      concertDecider.decide(hold, state);
      return null;
    } catch (error) {
      if (isRefusal(error)) return error.code;
      throw error;
    }
  }

  #countPayment(): void {
    this.#done++;
    this.#progress();
  }

  async #giveUp(concertId: string, bookingId: string, by: 'owner' | 'admin', at: string): Promise<void> {
    const booking = await this.#booking(bookingId);
    if (booking?.status !== 'pending') return;
    const context = this.#context(at, `bookings:${bookingId}`);
    await this.#writer.submit(concertId, { type: 'ReleaseHold', booking_id: bookingId, reason: 'cancelled', now: at }, context);
    await this.#commands.execute(bookingStream(bookingId), bookingDecider, { type: 'CancelBooking', cancelled_by: by, now: at }, context);
  }

  async #booking(bookingId: string): Promise<PlacedBooking | null> {
    const { state } = await this.#commands.load(bookingStream(bookingId), bookingDecider);
    return state.status === 'none' ? null : state;
  }

  // ---- payments --------------------------------------------------------------------------------

  /**
   * Records a payment: on its booking when the booking can still take it (pending, no other open
   * payment, opened before the hold expired, for the booking's amount), and on its own stream
   * when it is the booking's or took money. A payment that took no money and that no booking can
   * take is refused: there is nothing of it to keep.
   */
  async #openPayment(payment: LegacyPayment, bookingId: string | null, userId: string): Promise<OpenedPayment> {
    if (payment.deleted_at !== null) throw new Refused('SOFT_DELETED');
    const amount = rupiah(payment.amount);
    if (amount === null) throw new Refused('AMOUNT_HAS_CENTS');
    const method = METHODS[payment.payment_method];
    if (method === undefined) throw new Refused('UNKNOWN_PAYMENT_METHOD');
    if (!['pending', 'completed', 'failed', 'refunded'].includes(payment.status)) throw new Refused('UNKNOWN_PAYMENT_STATUS');
    const openedAt = legacyInstant(payment.created_at);
    if (openedAt === null) throw new Refused('INVALID_PAYMENT_TIME');
    const moneyTaken = payment.status === 'completed' || payment.status === 'refunded';
    const paymentId = legacyId('payment', payment.id);
    const transactionId = transactionOf(payment);
    const context = this.#context(openedAt, `payments:${payment.id}`);
    let known = false;
    if (bookingId !== null) {
      const booking = await this.#booking(bookingId);
      known = booking?.payment?.paymentId === paymentId;
      if (!known && booking !== null && booking.status === 'pending' && !isOpen(booking.payment)
        && instant(openedAt) < booking.expiresAtMs && amount === booking.totalPrice) {
        await this.#commands.execute(bookingStream(bookingId), bookingDecider, { type: 'OpenPayment', payment_id: paymentId, method, amount, now: openedAt }, context);
        known = true;
      }
    }
    if (!known && !moneyTaken) throw new Refused(bookingId === null ? 'NO_BOOKING' : 'BOOKING_NOT_PAYABLE');
    try {
      await this.#commands.execute(paymentStream(transactionId), paymentDecider, {
        type: 'RequestPayment', payment_id: paymentId, transaction_id: transactionId, booking_id: bookingId ?? payment.booking_id?.toLowerCase() ?? paymentId,
        user_id: userId, amount, method, checkout_url: '', now: openedAt,
      }, context);
    } catch (error) {
      if (isRefusal(error, 'PAYMENT_ALREADY_EXISTS')) throw new Refused('DUPLICATE_TRANSACTION');
      throw error;
    }
    if (known && bookingId !== null) {
      await this.#commands.execute(bookingStream(bookingId), bookingDecider, { type: 'StartPayment', payment_id: paymentId, transaction_id: transactionId, now: openedAt }, context);
    }
    await this.#legacyIds('payment', payment.id, [{ legacy_id: payment.id, id: paymentId }], openedAt);
    return { transactionId, amount, known };
  }

  /**
   * What the gateway said of the payment, settled as the webhook settles it (sold, failed, or owed
   * back). `confirmedBooking`: the booking the older system confirmed with it, whose sale stands
   * even when the payment came after the hold's time (ImportSale).
   */
  async #settlePayment(payment: LegacyPayment, opened: OpenedPayment | null, confirmedBooking: string | null = null): Promise<void> {
    if (opened === null || payment.status === 'pending') return;
    const at = legacyInstant(payment.updated_at) ?? legacyInstant(payment.created_at) ?? '';
    const context = this.#context(at, `payments:${payment.id}`);
    const stream = paymentStream(opened.transactionId);
    const recorded = await this.#commands.execute(stream, paymentDecider, {
      type: 'RecordGatewayNotification',
      status: payment.status === 'failed' ? 'failed' : 'succeeded',
      amount: opened.amount,
      reason: payment.status === 'failed' ? 'declined by the gateway' : null,
      now: at,
    }, context);
    if (confirmedBooking !== null && opened.known && payment.status === 'completed') await this.#importSale(confirmedBooking, opened.transactionId, context);
    await this.#payments.settle(recorded.state as Exclude<PaymentState, { status: 'none' }>, context);
    if (payment.status !== 'refunded') return;
    // Paid back in the older system: the refund owed is recorded as paid.
    let { state } = await this.#commands.load(stream, paymentDecider);
    if (state.status === 'refund_due' || state.status === 'refund_failed') {
      state = (await this.#commands.execute(stream, paymentDecider, { type: 'StartRefund', now: at }, context)).state;
    }
    if (state.status === 'refunding') {
      await this.#commands.execute(stream, paymentDecider, { type: 'RecordRefund', refund_key: state.refundKey ?? '', outcome: { status: 'refunded' }, now: at }, context);
    } else if (state.status !== 'refunded') {
      this.#tally.note('payments', 'refunded in the older system, but its booking was confirmed: kept as paid');
    }
  }

  /** The older system's sale of a booking by its current payment, late or not; the settling after it finds it done. */
  async #importSale(bookingId: string, transactionId: string, context: CommandContext): Promise<void> {
    const booking = await this.#booking(bookingId);
    if (booking?.status !== 'pending' || booking.payment?.transactionId !== transactionId) return;
    try {
      await this.#writer.submit(booking.concertId, { type: 'ImportSale', booking_id: bookingId, transaction_id: transactionId, now: context.occurredAt }, context);
    } catch (error) {
      // Released, sold to another payment, or the concert is off: settling owes the money back.
      if (isRefusal(error, 'HOLD_RELEASED', 'HOLD_ALREADY_SOLD', 'CONCERT_CANCELLED')) return;
      throw error;
    }
    await this.#commands.execute(bookingStream(bookingId), bookingDecider, { type: 'ConfirmBooking', transaction_id: transactionId, now: context.occurredAt }, context);
  }

  /** Seats whose old status differs from what their bookings made of them (boxoffice follows the bookings). */
  async #seatNotes(rows: readonly LegacySeat[]): Promise<void> {
    const byConcert = new Map<string, { seat: TakenSeat }[]>();
    for (const row of rows) {
      const seat = this.#seats.get(row.id);
      const concert = seat && this.#concerts.get(seat.concertLegacyId);
      if (seat === undefined || concert === undefined) continue;
      byConcert.set(concert.concertId, [...(byConcert.get(concert.concertId) ?? []), { seat }]);
    }
    const names: Record<number, string> = { [SEAT_AVAILABLE]: 'available', [SEAT_HELD]: 'reserved', [SEAT_SOLD]: 'booked' };
    for (const [concertId, seats] of byConcert) {
      const statuses = await this.#writer.read(concertId, (state) => seats.map(({ seat }) => names[state.seatStatus[seatIndexOf(state, seat.seatId)] ?? -1] ?? 'unknown'));
      seats.forEach(({ seat }, i) => {
        if (statuses[i] !== seat.legacyStatus) this.#tally.note('seats', `${seat.legacyStatus} in the older system, ${statuses[i] ?? 'unknown'} by its bookings`);
      });
    }
  }
}

interface OpenedPayment {
  readonly transactionId: string;
  readonly amount: number;
  /** The booking knows this payment (it opened it). */
  readonly known: boolean;
}

/** The gateway's transaction of an old payment (its own number when it has none). */
function transactionOf(payment: LegacyPayment): string {
  return payment.transaction_id?.trim() || `legacy-payment-${payment.id}`;
}

/** The streams a payment's import writes. */
function paymentStreams(payment: LegacyPayment): string[] {
  return [paymentStream(transactionOf(payment)), legacyStream('payment', payment.id)];
}

/** Users worked on at once. */
const LANES = 8;
/** Concerts whose bookings are worked on at once (each concert's one after another). */
const CONCERT_LANES = 16;

async function eachConcurrently<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}

/**
 * The import's own duplicates, decided from the rows alone (so every run decides the same): of
 * the rows that could be taken, the first by id keeps a username (case aside) and an address;
 * a later one is refused as taken.
 */
function duplicateUsers(users: readonly LegacyUser[]): Map<number, string> {
  const names = new Set<string>();
  const addresses = new Set<string>();
  const refused = new Map<number, string>();
  for (const user of users) {
    const email = normalizeEmail(user.email);
    if (user.deleted_at !== null || !USERNAME.test(user.username) || isReservedUsername(user.username) || !EMAIL.test(email) || email.length > 254
      || ROLES[user.role] === undefined || !isBcrypt(user.password)) continue;
    const name = normalizeUsername(user.username);
    if (names.has(name)) refused.set(user.id, 'USERNAME_TAKEN');
    else if (addresses.has(email)) refused.set(user.id, 'EMAIL_TAKEN');
    else {
      names.add(name);
      addresses.add(email);
    }
  }
  return refused;
}

/** Natural order of seat numbers: "A2" before "A10"; ties by old id. */
function bySeatNumber(a: LegacySeat, b: LegacySeat): number {
  const parts = (text: string) => text.trim().toUpperCase().match(/\d+|\D+/g) ?? [];
  const left = parts(a.seat_number);
  const right = parts(b.seat_number);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    return numeric ? Number(x) - Number(y) || x.localeCompare(y) : x.localeCompare(y);
  }
  return left.length - right.length || a.id - b.id;
}

