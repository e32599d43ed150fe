/**
 * The payments read model: one row per payment attempt, found by id, booking or gateway
 * transaction id. Money owed back (PaymentRefundDue; BookingRefundDue in streams written before
 * it) turns a succeeded payment into refund_due; paying it back goes refunding → refunded, or
 * refund_failed with the gateway's reason. The refund columns list what is owed, for the admins.
 */
import type { AsRead, PaymentRow } from '../../read-models/tables.ts';
import { inKeyOrder, insertMany, instant, selectIn, upsert } from '../bulk.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

const EVENT_TYPES = [
  'PaymentRequested', 'PaymentSucceeded', 'PaymentFailed', 'PaymentRefundDue', 'BookingRefundDue', 'RefundStarted', 'RefundPaid', 'RefundFailed',
] as const;

/** What a refund event makes of the payment's status; the refund columns follow it. */
const REFUND_STATUS = { PaymentRefundDue: 'refund_due', BookingRefundDue: 'refund_due', RefundStarted: 'refunding', RefundPaid: 'refunded', RefundFailed: 'refund_failed' } as const;

export function paymentsProjection(): Projection {
  return {
    name: 'payments',
    tables: ['payments'],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const events = ofTypes(batch, EVENT_TYPES);
      const table = context.table('payments');
      const transactionIds = events.flatMap((event) => event.type === 'PaymentRequested' ? [] : [event.data.transaction_id]);
      const byTransaction = new Map<string, PaymentRow>();
      for (const row of await selectIn<AsRead<PaymentRow>>(context.trx, table, 'transaction_id', transactionIds)) {
        byTransaction.set(row.transaction_id, { ...row, amount: Number(row.amount), position: Number(row.position) });
      }
      const touched = new Set<PaymentRow>();
      // A payment's stream is its transaction's: the same payment id requested again on another
      // transaction (a gateway changed between a crash and the retry) merges into the row it has,
      // as it always did. Every other payment this batch requests has no row yet, and is loaded.
      const requestedIds = events.flatMap((event) => (event.type === 'PaymentRequested' ? [event.data.payment_id] : []));
      const stored = new Set((await selectIn<AsRead<PaymentRow>>(context.trx, table, 'id', requestedIds)).map((row) => row.id));
      const requested = new Map<string, PaymentRow>();
      for (const event of events) {
        if (event.type === 'PaymentRequested') {
          const data = event.data;
          const at = instant(data.requested_at);
          const row: PaymentRow = {
            id: data.payment_id,
            booking_id: data.booking_id,
            user_id: data.user_id,
            transaction_id: data.transaction_id,
            amount: data.amount,
            payment_method: data.method,
            status: 'pending',
            checkout_url: data.checkout_url,
            created_at: at,
            updated_at: at,
            position: event.position,
            refund_status: null,
            refund_reason: null,
            refund_failure: null,
            refund_updated_at: null,
            refunded_at: null,
          };
          byTransaction.set(row.transaction_id, row);
          if (stored.has(row.id) || requested.has(row.id)) touched.add(row);
          else requested.set(row.id, row);
          continue;
        }
        const payment = byTransaction.get(event.data.transaction_id);
        if (payment === undefined) continue; // a refund for a transaction never requested here
        const at = instant(event.metadata.occurred_at);
        if (event.type === 'PaymentFailed') {
          payment.status = 'failed';
        } else if (event.type === 'PaymentSucceeded') {
          // Money owed back stays owed back: a repeated success does not hide it.
          if (payment.refund_status === null) payment.status = 'succeeded';
        } else if (event.type === 'PaymentRefundDue' || event.type === 'BookingRefundDue') {
          // Owed once: the booking's record and the payment's say the same, whichever comes second
          // does not undo a refund already under way.
          payment.refund_reason = event.data.reason;
          if (payment.refund_status === null) {
            payment.status = payment.refund_status = REFUND_STATUS[event.type];
            payment.refund_updated_at = at;
          }
        } else {
          payment.status = payment.refund_status = REFUND_STATUS[event.type];
          payment.refund_failure = event.type === 'RefundFailed' ? event.data.reason : null;
          if (event.type === 'RefundPaid') payment.refunded_at = at;
          payment.refund_updated_at = at;
        }
        payment.updated_at = at;
        payment.position = event.position;
        if (requested.get(payment.id) !== payment) touched.add(payment);
      }
      return {
        writes: [async (trx) => {
          await insertMany(trx, table, inKeyOrder([...requested.values()], 'id'), context.localInfile);
          await upsert(trx, table, inKeyOrder([...touched], 'id'), ['id'], [
            'status', 'updated_at', 'position', 'refund_status', 'refund_reason', 'refund_failure', 'refund_updated_at', 'refunded_at',
          ]);
        }],
      };
    },
  };
}
