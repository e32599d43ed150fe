/**
 * Paying for a booking: the booking opens its one payment (its stream decides; the gateway is
 * asked after), for the booking's amount (never the client's), then settle what the gateway
 * reports. Settling is idempotent, so the webhook and the payments reactor may both do it:
 * success sells the held seats and confirms the booking; money that cannot buy them (hold
 * expired or released, concert cancelled, another payment's booking) becomes a refund owed on
 * the payment, and the seats are not given to the late payer; a failure releases the seats.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type CommandContext } from '../../domain/index.ts';
import { bookingDecider, bookingEvents, bookingStream, isOpen, type BookingPayment, type BookingState, type PaymentMethod } from '../../domain/booking/index.ts';
import { paymentDecider, paymentEvents, paymentStream, type PaymentRefundReason, type PaymentState } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import { loadOwnedByCaller } from '../../lib/http/authorization.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { PaymentGateway } from './gateway.ts';

export interface PaymentAnswer {
  readonly id: string;
  readonly booking_id: string;
  readonly amount: number;
  readonly status: 'pending';
  readonly transaction_id: string;
  readonly checkout_url: string;
  readonly position: number;
}

/** The booking's open payment; `created` when this request opened it (201), not when it found it open (200). */
export interface OpenedPayment {
  readonly answer: PaymentAnswer;
  readonly created: boolean;
}

export interface GatewayNotification {
  readonly transaction_id: string;
  readonly status: 'succeeded' | 'failed';
  readonly amount: number;
}

type PlacedBooking = Exclude<BookingState, { status: 'none' }>;
type KnownPayment = Exclude<PaymentState, { status: 'none' }>;

export class PaymentService {
  constructor(
    private readonly deps: {
      readonly store: EventStore;
      readonly commands: CommandHandler;
      readonly writer: ConcertWriter;
      readonly gateway: PaymentGateway;
      readonly now: () => Date;
    },
  ) {}

  async start(principal: Principal, input: { booking_id: string; payment_method: PaymentMethod }, idempotencyKey: string | undefined, request: RequestContext): Promise<OpenedPayment> {
    // Only the owner pays for a booking: someone else's is a 404, for an admin too.
    const booking = await loadOwnedByCaller(principal, input.booking_id, (id) => this.#booking(id), (state) => state.userId, 'booking');
    const context: CommandContext = { ...request, actorId: principal.userId, occurredAt: this.deps.now().toISOString() };
    // One open payment per booking: whatever this request's key, it gets the open one (while the booking can be paid).
    if (booking.status === 'pending' && isOpen(booking.payment)) return { answer: await this.#finishOpening(booking.bookingId, context), created: false };
    const paymentId = idempotencyKey === undefined ? randomUUID() : derivedUuid('payment', principal.userId, booking.bookingId, idempotencyKey);
    // The booking's stream decides, before any gateway is asked: of concurrent requests exactly one
    // appends (expected revision), the others are refused PAYMENT_IN_PROGRESS and answer its payment.
    let created: boolean;
    try {
      const opened = await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
        type: 'OpenPayment', payment_id: paymentId, method: input.payment_method, amount: booking.totalPrice, now: context.occurredAt,
      }, context);
      created = opened.events.length > 0;
    } catch (error) {
      if (!isRefusal(error, 'PAYMENT_IN_PROGRESS')) throw error;
      created = false;
    }
    return { answer: await this.#finishOpening(booking.bookingId, context), created };
  }

  /**
   * Finishes opening a payment the booking opened, if it is still the booking's and the gateway's
   * transaction is not recorded yet (a request died half-way): the payments reactor calls it.
   */
  async finishOpening(bookingId: string, paymentId: string, context: CommandContext): Promise<void> {
    const booking = await this.#booking(bookingId);
    if (booking?.payment?.paymentId !== paymentId || booking.payment.transactionId !== null) return;
    await this.#open(booking, booking.payment, context);
  }

  /** A verified gateway notification: record it on the payment, then settle the booking. */
  async notify(notification: GatewayNotification, request: RequestContext): Promise<{ duplicate: boolean; position: number }> {
    const context: CommandContext = { ...request, actorId: null, occurredAt: this.deps.now().toISOString() };
    const recorded = await this.deps.commands.execute(paymentStream(notification.transaction_id), paymentDecider, {
      type: 'RecordGatewayNotification',
      status: notification.status,
      amount: notification.amount,
      reason: notification.status === 'failed' ? 'declined by the gateway' : null,
      now: context.occurredAt,
    }, context);
    const settled = await this.settle(recorded.state as KnownPayment, context);
    return { duplicate: recorded.events.length === 0, position: Math.max(recorded.position, settled) };
  }

  /**
   * Brings the booking and the seats in line with a settled payment; idempotent. Money taken
   * either bought the booking's seats or is owed back (PaymentRefundDue), never neither: paid for
   * a booking that is gone (expired, cancelled, failed), whose concert is off, that another
   * payment pays, or that does not know this payment. Returns the last position it wrote (or 0).
   */
  async settle(payment: KnownPayment, context: CommandContext): Promise<number> {
    // Pending: nothing to settle yet; owed back (or being paid back): settled already.
    if (payment.status !== 'succeeded' && payment.status !== 'failed') return 0;
    const found = await this.#booking(payment.bookingId);
    if (found === null) return payment.status === 'failed' ? 0 : this.#oweRefund(payment, 'unknown_booking', null, context);
    const booking = await this.#knowing(found, payment, context);
    const isCurrent = booking.payment?.paymentId === payment.paymentId && booking.payment.transactionId === payment.transactionId;
    const stream = bookingStream(booking.bookingId);
    const now = context.occurredAt;
    if (payment.status === 'failed') {
      if (!isCurrent) return 0; // not the booking's payment: it holds nothing to release
      const failed = await this.deps.commands.execute(stream, bookingDecider, { type: 'RecordPaymentFailure', transaction_id: payment.transactionId, reason: 'declined by the gateway', now }, context);
      if (failed.state.status !== 'failed') return failed.position;
      const released = await this.deps.writer.submit(booking.concertId, { type: 'ReleaseHold', booking_id: booking.bookingId, reason: 'payment_failed', now }, context)
        .catch((error: unknown) => {
          if (isRefusal(error, 'HOLD_ALREADY_SOLD', 'HOLD_NOT_FOUND')) return { position: failed.position };
          throw error;
        });
      return Math.max(failed.position, released.position);
    }
    // A second payment: the booking's seats are its current payment's; this money goes back.
    if (!isCurrent) return this.#oweRefund(payment, 'duplicate_payment', null, context);
    if (booking.status !== 'pending' && booking.status !== 'confirmed') {
      // Cancelled, expired, failed (or refund-due already): the seats are not this booking's any more.
      const reason = (await this.#concertCancelled(booking.concertId)) ? 'concert_cancelled' : 'late_payment';
      return this.#oweRefund(payment, reason, booking, context);
    }
    let position: number;
    try {
      const sold = await this.deps.writer.submit(booking.concertId, { type: 'SellSeats', booking_id: booking.bookingId, transaction_id: payment.transactionId, now }, context);
      const confirmed = await this.deps.commands.execute(stream, bookingDecider, { type: 'ConfirmBooking', transaction_id: payment.transactionId, now }, context);
      position = Math.max(sold.position, confirmed.position);
    } catch (error) {
      // HOLD_FORGOTTEN: released so long ago that the concert no longer remembers it (this booking's
      // stream, written from its hold, says it was held there): late, like any released one.
      if (!isRefusal(error, 'HOLD_EXPIRED', 'HOLD_RELEASED', 'HOLD_FORGOTTEN', 'HOLD_ALREADY_SOLD', 'CONCERT_CANCELLED')) throw error;
      // Money without seats: it is owed back, and the seats stay with whoever has them now.
      return this.#oweRefund(payment, error.code === 'CONCERT_CANCELLED' ? 'concert_cancelled' : 'late_payment', booking, context);
    }
    // Sold, and then the concert was cancelled (or while this ran): the money goes back all the same.
    if (!(await this.#concertCancelled(booking.concertId))) return position;
    return Math.max(position, await this.#oweRefund(payment, 'concert_cancelled', booking, context));
  }

  /** A cancelled concert: every sold booking's money is owed back. Idempotent. */
  async refundCancelledConcert(concertId: string, context: CommandContext): Promise<void> {
    const sold = await this.deps.writer.read(concertId, (state) => [...state.holds.values()].filter((hold) => hold.status === 'sold').map((hold) => hold.bookingId));
    for (const bookingId of sold) {
      const transactionId = (await this.#booking(bookingId))?.payment?.transactionId;
      if (transactionId === null || transactionId === undefined) continue;
      const { state } = await this.deps.commands.load(paymentStream(transactionId), paymentDecider);
      if (state.status !== 'none') await this.settle(state, context);
    }
  }

  /** The money of this payment is owed back: on the payment always, and on the booking when it was the booking's own. */
  async #oweRefund(payment: KnownPayment, reason: PaymentRefundReason, booking: PlacedBooking | null, context: CommandContext): Promise<number> {
    let position = 0;
    if (booking !== null && (reason === 'late_payment' || reason === 'concert_cancelled')) {
      const due = await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
        type: 'MarkRefundDue', reason, transaction_id: payment.transactionId, amount: payment.amount, now: context.occurredAt,
      }, context);
      position = due.position;
    }
    const owed = await this.deps.commands.execute(paymentStream(payment.transactionId), paymentDecider, { type: 'OweRefund', reason, now: context.occurredAt }, context);
    return Math.max(position, owed.position);
  }

  /** The booking opened this payment, and a crash came before it learnt its transaction: it learns it now. */
  async #knowing(booking: PlacedBooking, payment: KnownPayment, context: CommandContext): Promise<PlacedBooking> {
    if (booking.payment?.paymentId !== payment.paymentId || booking.payment.transactionId !== null) return booking;
    const started = await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
      type: 'StartPayment', payment_id: payment.paymentId, transaction_id: payment.transactionId, now: context.occurredAt,
    }, context);
    return started.state.status === 'none' ? booking : started.state;
  }

  async #concertCancelled(concertId: string): Promise<boolean> {
    return this.deps.writer.read(concertId, (state) => state.status === 'cancelled');
  }

  /** Answers the booking's current payment, opening it at the gateway first if that is not done yet. */
  async #finishOpening(bookingId: string, context: CommandContext): Promise<PaymentAnswer> {
    const booking = await this.#booking(bookingId);
    const payment = booking?.payment;
    if (booking === null || payment === null || payment === undefined) throw new DomainError('PAYMENT_NOT_FOUND', 'this booking has no payment');
    if (payment.transactionId === null) await this.#open(booking, payment, context);
    return this.#answerFor(bookingId, payment.paymentId);
  }

  /**
   * The gateway, then the payment's stream, then the booking learns the transaction. Every step
   * is idempotent by the payment id, so whoever comes next (a request, the reactor) finishes it.
   */
  async #open(booking: PlacedBooking, payment: BookingPayment, context: CommandContext): Promise<void> {
    const opened = await this.deps.gateway.createPayment({ paymentId: payment.paymentId, bookingId: booking.bookingId, amount: payment.amount, method: payment.method });
    await this.deps.commands.execute(paymentStream(opened.transactionId), paymentDecider, {
      type: 'RequestPayment',
      payment_id: payment.paymentId,
      transaction_id: opened.transactionId,
      booking_id: booking.bookingId,
      user_id: booking.userId,
      amount: payment.amount,
      method: payment.method,
      checkout_url: opened.checkoutUrl,
      now: context.occurredAt,
    }, context);
    await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
      type: 'StartPayment', payment_id: payment.paymentId, transaction_id: opened.transactionId, now: context.occurredAt,
    }, context);
  }

  async #booking(bookingId: string): Promise<PlacedBooking | null> {
    const { state } = await this.deps.commands.load(bookingStream(bookingId), bookingDecider);
    return state.status === 'none' ? null : state;
  }

  /** The answer for a payment of a booking: the same every time it is asked. */
  async #answerFor(bookingId: string, paymentId: string): Promise<PaymentAnswer> {
    const events = (await this.deps.store.readStream(bookingStream(bookingId))).map((recorded) => decode(recorded, bookingEvents));
    const started = events.flatMap((e) => (e.type === 'BookingPaymentStarted' && e.data.payment_id === paymentId ? [e] : []))[0];
    if (started === undefined) throw new DomainError('PAYMENT_NOT_FOUND', 'no such payment for this booking');
    const { data } = started;
    const [first] = await this.deps.store.readStream(paymentStream(data.transaction_id), { maxCount: 1 });
    const requested = first && decode(first, paymentEvents);
    const checkoutUrl = requested?.type === 'PaymentRequested' ? requested.data.checkout_url : '';
    return {
      id: paymentId,
      booking_id: bookingId,
      amount: data.amount,
      status: 'pending',
      transaction_id: data.transaction_id,
      checkout_url: checkoutUrl,
      position: started.position,
    };
  }
}
