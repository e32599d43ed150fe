/**
 * The refunds reactor: money owed back is paid back through the gateway.
 * - BookingRefundDue: the refund is owed on the payment too (stores written before payments
 *   recorded their own refunds have only the booking's record);
 * - PaymentRefundDue: with AUTO_REFUND, a refund owed is started at once (without, an admin starts it);
 * - RefundStarted: the attempt is paid at the gateway and its answer recorded. A refusal is
 *   recorded (RefundFailed, with the gateway's reason) and tried again only when an admin asks;
 *   a gateway that cannot be reached throws, and the runner reads the page again after a back-off
 *   (the same attempt, the same key: the gateway pays it once).
 */
import type { CommandContext, UpcasterRegistry } from '../../domain/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { RefundService } from '../payments/refunds.ts';
import type { Reactor } from './runner.ts';

const refundEvents = eventsOf('BookingRefundDue', 'PaymentRefundDue', 'RefundStarted');

/** The metadata of what the reactor appends: caused by the event it reacted to, by nobody. */
function causedBy(event: RecordedEvent, now: () => Date): CommandContext {
  const correlation = event.metadata.correlation_id;
  return { correlationId: typeof correlation === 'string' ? correlation : event.id, causationId: event.id, actorId: null, occurredAt: now().toISOString() };
}

export function refundsReactor(deps: { refunds: RefundService; autoRefund: boolean; now: () => Date; upcasters?: UpcasterRegistry }): Reactor {
  return {
    name: 'refunds',
    filter: { streamPrefixes: ['payment-', 'booking-'], eventTypes: refundEvents.types },
    async handle(recorded) {
      for (const raw of recorded) {
        const event = decode(raw, refundEvents, deps.upcasters);
        const context = causedBy(raw, deps.now);
        switch (event.type) {
          case 'BookingRefundDue':
            await deps.refunds.oweOnPayment(event.data.transaction_id, event.data.reason, context);
            break;
          case 'PaymentRefundDue':
            if (deps.autoRefund) await deps.refunds.startOwed(event.data.transaction_id, context);
            break;
          case 'RefundStarted':
            await deps.refunds.pay(event.data.transaction_id, event.data.refund_key, context);
            break;
        }
      }
    },
  };
}
