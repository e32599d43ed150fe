/**
 * Paying for a booking: open a payment at the gateway for the booking's amount (never the
 * client's), then settle what the gateway reports. Settling is idempotent, so the webhook and
 * the payments reactor may both do it: success sells the held seats and confirms the booking;
 * a success too late (hold expired or released, concert cancelled) becomes a refund due, and
 * the seats are not given to the late payer; a failure releases the seats.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type CommandContext } from '../../domain/index.ts';
import { bookingDecider, bookingEvents, bookingStream, type BookingState, type PaymentMethod } from '../../domain/booking/index.ts';
import { paymentDecider, paymentEvents, paymentStream, type PaymentState } from '../../domain/payment/index.ts';
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

  async start(principal: Principal, input: { booking_id: string; payment_method: PaymentMethod }, idempotencyKey: string | undefined, request: RequestContext): Promise<PaymentAnswer> {
    // Only the owner pays for a booking: someone else's is a 404, for an admin too.
    const booking = await loadOwnedByCaller(principal, input.booking_id, (id) => this.#booking(id), (state) => state.userId, 'booking');
    if (booking.payment?.status === 'pending') return this.#answerFor(booking.bookingId, booking.payment.paymentId);
    const context: CommandContext = { ...request, actorId: principal.userId, occurredAt: this.deps.now().toISOString() };
    // Refuse early what the booking would refuse (paid, expired, cancelled) before asking the gateway.
    bookingDecider.decide({ type: 'StartPayment', payment_id: 'check', transaction_id: 'check', method: input.payment_method, amount: booking.totalPrice, now: context.occurredAt }, booking);
    const paymentId = idempotencyKey === undefined ? randomUUID() : derivedUuid('payment', principal.userId, booking.bookingId, idempotencyKey);
    const opened = await this.deps.gateway.createPayment({ paymentId, bookingId: booking.bookingId, amount: booking.totalPrice, method: input.payment_method });
    await this.deps.commands.execute(paymentStream(opened.transactionId), paymentDecider, {
      type: 'RequestPayment',
      payment_id: paymentId,
      transaction_id: opened.transactionId,
      booking_id: booking.bookingId,
      user_id: booking.userId,
      amount: booking.totalPrice,
      method: input.payment_method,
      checkout_url: opened.checkoutUrl,
      now: context.occurredAt,
    }, context);
    try {
      await this.deps.commands.execute(bookingStream(booking.bookingId), bookingDecider, {
        type: 'StartPayment',
        payment_id: paymentId,
        transaction_id: opened.transactionId,
        method: input.payment_method,
        amount: booking.totalPrice,
        now: context.occurredAt,
      }, context);
    } catch (error) {
      // Two requests raced: the other payment is the booking's; answer with it.
      if (!isRefusal(error, 'PAYMENT_IN_PROGRESS')) throw error;
      const current = await this.#booking(booking.bookingId);
      if (current?.payment === null || current?.payment === undefined) throw error;
      return this.#answerFor(booking.bookingId, current.payment.paymentId);
    }
    return this.#answerFor(booking.bookingId, paymentId);
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

  /** Brings the booking and the seats in line with a settled payment. Returns the last position it wrote (or 0). */
  async settle(payment: KnownPayment, context: CommandContext): Promise<number> {
    if (payment.status === 'pending') return 0;
    const booking = await this.#booking(payment.bookingId);
    if (booking === null) throw new Error(`payment ${payment.paymentId} names booking ${payment.bookingId}, which does not exist`);
    const stream = bookingStream(booking.bookingId);
    const now = context.occurredAt;
    if (payment.status === 'failed') {
      const failed = await this.deps.commands.execute(stream, bookingDecider, { type: 'RecordPaymentFailure', transaction_id: payment.transactionId, reason: 'declined by the gateway', now }, context);
      if (failed.state.status !== 'failed') return failed.position;
      const released = await this.deps.writer.submit(booking.concertId, { type: 'ReleaseHold', booking_id: booking.bookingId, reason: 'payment_failed', now }, context)
        .catch((error: unknown) => {
          if (isRefusal(error, 'HOLD_ALREADY_SOLD', 'HOLD_NOT_FOUND')) return { position: failed.position };
          throw error;
        });
      return Math.max(failed.position, released.position);
    }
    try {
      const sold = await this.deps.writer.submit(booking.concertId, { type: 'SellSeats', booking_id: booking.bookingId, transaction_id: payment.transactionId, now }, context);
      const confirmed = await this.deps.commands.execute(stream, bookingDecider, { type: 'ConfirmBooking', transaction_id: payment.transactionId, now }, context);
      return Math.max(sold.position, confirmed.position);
    } catch (error) {
      if (!isRefusal(error, 'HOLD_EXPIRED', 'HOLD_RELEASED', 'HOLD_ALREADY_SOLD', 'CONCERT_CANCELLED')) throw error;
      // Money without seats: it is owed back, and the seats stay with whoever has them now.
      const reason = error.code === 'CONCERT_CANCELLED' ? 'concert_cancelled' : 'late_payment';
      const refund = await this.deps.commands.execute(stream, bookingDecider, {
        type: 'MarkRefundDue', reason, transaction_id: payment.transactionId, amount: payment.amount, now,
      }, context);
      return refund.position;
    }
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
