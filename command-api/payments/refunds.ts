/**
 * Paying money owed back through the gateway. A refund owed (PaymentRefundDue) is started —
 * by the refunds reactor when AUTO_REFUND, or by an admin — as an attempt with its own key
 * (RefundStarted); the attempt is paid at the gateway and its answer recorded (RefundPaid, or
 * RefundFailed with the gateway's reason). Asking the gateway again with the same key is the
 * same refund, so an attempt interrupted by a crash or an unreachable gateway is simply asked again.
 */
import type { CommandContext } from '../../domain/index.ts';
import type { RefundReason } from '../../domain/booking/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { isRefusal, notFound } from '../../lib/errors.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { PaymentGateway } from './gateway.ts';

/** How many refund records one look-up reads at a time. */
const LOOKUP_PAGE = 500;
const refundsOwed = eventsOf('PaymentRefundDue');

export class RefundService {
  constructor(
    private readonly deps: {
      readonly store: EventStore;
      readonly commands: CommandHandler;
      readonly gateway: PaymentGateway;
      readonly now: () => Date;
    },
  ) {}

  /**
   * An admin asks to pay a refund now (owed, or refused by the gateway before): a new attempt,
   * which the refunds reactor pays. Returns the position of what it wrote.
   */
  async startNow(paymentId: string, context: CommandContext): Promise<{ transactionId: string; position: number }> {
    const transactionId = await this.#transactionOf(paymentId);
    if (transactionId === null) throw notFound('no refund is owed for this payment');
    const started = await this.deps.commands.execute(paymentStream(transactionId), paymentDecider, { type: 'StartRefund', now: context.occurredAt }, context);
    return { transactionId, position: started.position };
  }

  /** Starts a refund that is owed and not yet tried; anything else is left as it is (idempotent). */
  async startOwed(transactionId: string, context: CommandContext): Promise<void> {
    const { state } = await this.deps.commands.load(paymentStream(transactionId), paymentDecider);
    if (state.status !== 'refund_due') return;
    await this.deps.commands.execute(paymentStream(transactionId), paymentDecider, { type: 'StartRefund', now: context.occurredAt }, context);
  }

  /**
   * A refund the booking owes (BookingRefundDue) is owed on its payment too. Stores written before
   * payments recorded their own refunds have only the booking's record: this owes it on the payment.
   */
  async oweOnPayment(transactionId: string, reason: RefundReason, context: CommandContext): Promise<void> {
    const { state } = await this.deps.commands.load(paymentStream(transactionId), paymentDecider);
    if (state.status !== 'succeeded') return; // owed already, or no money taken that we know of
    try {
      await this.deps.commands.execute(paymentStream(transactionId), paymentDecider, { type: 'OweRefund', reason, now: context.occurredAt }, context);
    } catch (error) {
      if (!isRefusal(error, 'REFUND_NOT_APPLICABLE')) throw error;
    }
  }

  /**
   * Pays the attempt `refundKey` at the gateway, if it is still the one under way, and records the
   * gateway's answer. A gateway that cannot be reached throws (GATEWAY_UNAVAILABLE): the attempt
   * stays under way and is asked again, under the same key.
   */
  async pay(transactionId: string, refundKey: string, context: CommandContext): Promise<void> {
    const { state } = await this.deps.commands.load(paymentStream(transactionId), paymentDecider);
    if (state.status !== 'refunding' || state.refundKey !== refundKey) return; // answered already, or another attempt's
    const outcome = await this.deps.gateway.refund({
      transactionId,
      amount: state.amount,
      refundKey,
      reason: `boxoffice refund of payment ${state.paymentId}`,
    });
    await this.deps.commands.execute(paymentStream(transactionId), paymentDecider, {
      type: 'RecordRefund', refund_key: refundKey, outcome, now: this.deps.now().toISOString(),
    }, context);
  }

  /**
   * The transaction of a payment whose money is owed back, found by its refund record: payment
   * streams are named by the gateway's transaction, and only payments owed back can be refunded.
   */
  async #transactionOf(paymentId: string): Promise<string | null> {
    let after = 0;
    for (;;) {
      const page = await this.deps.store.readAll({ after, maxCount: LOOKUP_PAGE, filter: { streamPrefixes: ['payment-'], eventTypes: refundsOwed.types } });
      for (const recorded of page.events) {
        const owed = decode(recorded, refundsOwed);
        if (owed.data.payment_id === paymentId) return owed.data.transaction_id;
      }
      if (page.events.length < LOOKUP_PAGE || page.position <= after) return null;
      after = page.position;
    }
  }
}
