/**
 * import:legacy's bookings and payments: each booking held on its concert in import order (an earlier run's refusal
 * re-decided as it was), placed, its payments opened, what the older system decided of it applied, and what the gateway
 * said of each payment settled as the webhook settles it.
 */
import type { CommandContext } from '../../domain/index.ts';
import { instant } from '../../domain/index.ts';
import { bookingDecider, bookingStream, isOpen, type PaymentMethod } from '../../domain/booking/index.ts';
import { MAX_TICKETS_PER_BOOKING, concertDecider, concertEvents, concertStream, type HoldSeats, type SeatsHeld } from '../../domain/concert/index.ts';
import { legacyStream } from '../../domain/legacy/index.ts';
import { paymentDecider, paymentStream, type PaymentState } from '../../domain/payment/index.ts';
import { normalizeEmail } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { isRefusal } from '../../lib/errors.ts';
import { ensureBookingPlaced, findHold } from '../bookings/placement.ts';
import { EMAIL, Refused, legacyId, type ImportRun, type TakenSeat } from './import-run.ts';
import { legacyInstant, rupiah, type LegacyBooking, type LegacyBuyer, type LegacyPayment } from './legacy-source.ts';

const KTP = /^[0-9]{16}$/;
const PHONE = /^[0-9]{10,15}$/;
const METHODS: Readonly<Record<string, PaymentMethod>> = { credit_card: 'card', card: 'card', bank_transfer: 'bank_transfer', virtual_account: 'virtual_account', e_wallet: 'e_wallet' };

/** For each booking of a concert (in import order), the first one after it that an earlier run placed already. */
export async function placedAfter(run: ImportRun, bookings: readonly LegacyBooking[]): Promise<(string | null)[]> {
  const keys = bookings.map((b) => b.id.toLowerCase());
  const placed = new Set<string>();
  const absent: string[] = [];
  for (let from = 0; from < keys.length; from += 500) {
    const chunk = keys.slice(from, from + 500);
    const revisions = await run.store.streamRevisions(chunk.map(bookingStream));
    for (const key of chunk) {
      if (revisions.has(bookingStream(key))) placed.add(key);
      else absent.push(bookingStream(key));
    }
  }
  // Not placed when the lane began: its units decide on them without reading them.
  await run.commands.learnAbsent(absent);
  const after: (string | null)[] = [];
  for (let i = keys.length - 1, next: string | null = null; i >= 0; i--) {
    after[i] = next;
    if (placed.has(keys[i] ?? '')) next = keys[i] ?? null;
  }
  return after;
}

export async function importBooking(
  run: ImportRun,
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
  const concert = run.concerts.get(booking.concert_id);
  if (concert === undefined) throw new Refused('CONCERT_NOT_IMPORTED');
  const userId = run.users.get(booking.user_id);
  if (userId === undefined) throw new Refused('USER_NOT_IMPORTED');
  const seats = seatIds.map((id) => run.seats.get(id));
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
  const context = run.context(heldAt, `bookings:${bookingId}`);

  const hold: HoldSeats = {
    type: 'HoldSeats',
    booking_id: bookingId,
    user_id: userId,
    selection: { by: 'seat', seat_ids: known.map((seat) => seat.seatId) },
    ktp_fingerprints: holders.map((h) => run.deps.ktpFingerprint(h.ktp_number)),
    personal_data: {
      buyer: await run.deps.seal(userId, buyerData),
      ticket_holders: await Promise.all(holders.map((h) => run.deps.seal(userId, h))),
      buyer_email_digest: run.deps.emailDigest(buyerData.email),
    },
    expires_at: expiresAt,
    now: heldAt,
  };
  if (placedLater !== null && !(await run.writer.read(concert.concertId, (state) => state.holds.has(bookingId) || state.released.has(bookingId)))
    && (await run.booking(bookingId)) === null) {
    // An earlier run went past this booking and refused it: it is refused again for the same
    // reason, decided on the inventory as it was then, not on what later rows made of it.
    const reason = await refusalAsOf(run, concert.concertId, placedLater, { ...hold, never_held: true });
    if (reason !== null) throw new Refused(reason);
  }
  let held: SeatsHeld['data'] | null;
  for (let neverHeld = false; ;) {
    try {
      const written = await run.writer.submit(concert.concertId, { ...hold, never_held: neverHeld }, context);
      const [event] = written.events;
      if (event?.type !== 'SeatsHeld') throw new Error('a hold decided no SeatsHeld');
      held = event.data;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // A concert that forgot released holds: the booking's stream tells whether an earlier run held it
      // (a hold is released only once its booking stream exists: see HoldExpirer and bookings.ts).
      if (isRefusal(error, 'HOLD_FORGOTTEN') && !neverHeld && (await run.booking(bookingId)) === null) {
        neverHeld = true;
        continue;
      }
      if (!isRefusal(error, 'BOOKING_ALREADY_EXISTS', 'HOLD_FORGOTTEN')) throw new Refused(error.code);
      // Held by an earlier run: placed too, unless that run was killed in between (then the hold
      // is looked up in the concert's stream, the slow path).
      held = (await run.booking(bookingId)) === null ? await findHold(run.commands.writerStore, concert.concertId, bookingId) : null;
    }
    break;
  }
  if (held !== null) await ensureBookingPlaced(run.store, run.commands, held, context);

  // Its payments are opened first, then what the older system decided of the booking itself
  // (cancelled, failed) is applied, then what the gateway said of each payment: money that
  // came for a booking given up is owed back, never lost.
  const live = payments.filter((p) => p.deleted_at === null);
  const opened: { payment: LegacyPayment; opened: OpenedPayment | null }[] = [];
  for (const payment of payments) {
    settled.add(payment.id);
    if (payment.deleted_at !== null) {
      run.tally.refused('payments', 'SOFT_DELETED');
      run.countRow();
      continue;
    }
    await run.row('payments', async () => {
      opened.push({ payment, opened: await openPayment(run, payment, bookingId, userId) });
    });
  }
  const failedByGateway = live.some((p) => p.status === 'failed' && opened.some((o) => o.payment === p && o.opened?.known === true));
  if (booking.status === 'cancelled' || (booking.status === 'failed' && !failedByGateway)) {
    await giveUp(run, concert.concertId, bookingId, booking.status === 'cancelled' ? 'owner' : 'admin', legacyInstant(booking.updated_at) ?? heldAt);
  }
  for (const { payment, opened: open } of opened) await settlePayment(run, payment, open, booking.status === 'confirmed' ? bookingId : null);
  const final = await run.booking(bookingId);
  const expected = booking.status === 'failed' ? ['failed', 'cancelled'] : [booking.status];
  if (final !== null && !expected.includes(final.status)) run.tally.note('bookings', `${booking.status} in the older system, ${final.status} by boxoffice's rules`);
}

/** Why `hold` was refused when an earlier run decided it: on the concert as it was before `laterBooking`'s hold. */
async function refusalAsOf(run: ImportRun, concertId: string, laterBooking: string, hold: HoldSeats): Promise<string | null> {
  const [placed] = await run.store.readStream(bookingStream(laterBooking), { maxCount: 1 });
  const before = placed?.position ?? Number.MAX_SAFE_INTEGER;
  let state = concertDecider.initialState();
  for (const recorded of await run.commands.writerStore.readStream(concertStream(concertId))) {
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

async function giveUp(run: ImportRun, concertId: string, bookingId: string, by: 'owner' | 'admin', at: string): Promise<void> {
  const booking = await run.booking(bookingId);
  if (booking?.status !== 'pending') return;
  const context = run.context(at, `bookings:${bookingId}`);
  await run.writer.submit(concertId, { type: 'ReleaseHold', booking_id: bookingId, reason: 'cancelled', now: at }, context);
  await run.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'CancelBooking', cancelled_by: by, now: at }, context);
}

/**
 * Records a payment: on its booking when the booking can still take it (pending, no other open
 * payment, opened before the hold expired, for the booking's amount), and on its own stream
 * when it is the booking's or took money. A payment that took no money and that no booking can
 * take is refused: there is nothing of it to keep.
 */
export async function openPayment(run: ImportRun, payment: LegacyPayment, bookingId: string | null, userId: string): Promise<OpenedPayment> {
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
  const context = run.context(openedAt, `payments:${payment.id}`);
  let known = false;
  if (bookingId !== null) {
    const booking = await run.booking(bookingId);
    known = booking?.payment?.paymentId === paymentId;
    if (!known && booking !== null && booking.status === 'pending' && !isOpen(booking.payment)
      && instant(openedAt) < booking.expiresAtMs && amount === booking.totalPrice) {
      await run.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'OpenPayment', payment_id: paymentId, method, amount, now: openedAt }, context);
      known = true;
    }
  }
  if (!known && !moneyTaken) throw new Refused(bookingId === null ? 'NO_BOOKING' : 'BOOKING_NOT_PAYABLE');
  try {
    await run.commands.execute(paymentStream(transactionId), paymentDecider, {
      type: 'RequestPayment', payment_id: paymentId, transaction_id: transactionId, booking_id: bookingId ?? payment.booking_id?.toLowerCase() ?? paymentId,
      user_id: userId, amount, method, checkout_url: '', now: openedAt,
    }, context);
  } catch (error) {
    if (isRefusal(error, 'PAYMENT_ALREADY_EXISTS')) throw new Refused('DUPLICATE_TRANSACTION');
    throw error;
  }
  if (known && bookingId !== null) {
    await run.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'StartPayment', payment_id: paymentId, transaction_id: transactionId, now: openedAt }, context);
  }
  await run.legacyIds('payment', payment.id, [{ legacy_id: payment.id, id: paymentId }], openedAt);
  return { transactionId, amount, known };
}

/**
 * What the gateway said of the payment, settled as the webhook settles it (sold, failed, or owed
 * back). `confirmedBooking`: the booking the older system confirmed with it, whose sale stands
 * even when the payment came after the hold's time (ImportSale).
 */
export async function settlePayment(run: ImportRun, payment: LegacyPayment, opened: OpenedPayment | null, confirmedBooking: string | null = null): Promise<void> {
  if (opened === null || payment.status === 'pending') return;
  const at = legacyInstant(payment.updated_at) ?? legacyInstant(payment.created_at) ?? '';
  const context = run.context(at, `payments:${payment.id}`);
  const stream = paymentStream(opened.transactionId);
  const recorded = await run.commands.execute(stream, paymentDecider, {
    type: 'RecordGatewayNotification',
    status: payment.status === 'failed' ? 'failed' : 'succeeded',
    amount: opened.amount,
    reason: payment.status === 'failed' ? 'declined by the gateway' : null,
    now: at,
  }, context);
  if (confirmedBooking !== null && opened.known && payment.status === 'completed') await importSale(run, confirmedBooking, opened.transactionId, context);
  await run.payments.settle(recorded.state as Exclude<PaymentState, { status: 'none' }>, context);
  if (payment.status !== 'refunded') return;
  // Paid back in the older system: the refund owed is recorded as paid.
  let { state } = await run.commands.load(stream, paymentDecider);
  if (state.status === 'refund_due' || state.status === 'refund_failed') {
    state = (await run.commands.execute(stream, paymentDecider, { type: 'StartRefund', now: at }, context)).state;
  }
  if (state.status === 'refunding') {
    await run.commands.execute(stream, paymentDecider, { type: 'RecordRefund', refund_key: state.refundKey ?? '', outcome: { status: 'refunded' }, now: at }, context);
  } else if (state.status !== 'refunded') {
    run.tally.note('payments', 'refunded in the older system, but its booking was confirmed: kept as paid');
  }
}

/** The older system's sale of a booking by its current payment, late or not; the settling after it finds it done. */
async function importSale(run: ImportRun, bookingId: string, transactionId: string, context: CommandContext): Promise<void> {
  const booking = await run.booking(bookingId);
  if (booking?.status !== 'pending' || booking.payment?.transactionId !== transactionId) return;
  try {
    await run.writer.submit(booking.concertId, { type: 'ImportSale', booking_id: bookingId, transaction_id: transactionId, now: context.occurredAt }, context);
  } catch (error) {
    // Released, sold to another payment, or the concert is off: settling owes the money back.
    if (isRefusal(error, 'HOLD_RELEASED', 'HOLD_FORGOTTEN', 'HOLD_ALREADY_SOLD', 'CONCERT_CANCELLED')) return;
    throw error;
  }
  await run.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'ConfirmBooking', transaction_id: transactionId, now: context.occurredAt }, context);
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
export function paymentStreams(payment: LegacyPayment): string[] {
  return [paymentStream(transactionOf(payment)), legacyStream('payment', payment.id)];
}
