/**
 * The refunds as admins list them, from the payments read model: every payment whose money is
 * owed back, oldest change first, by keyset on (refund_updated_at, id).
 */
import type { Knex } from 'knex';
import type { AsRead, PaymentRow, RefundStatus } from '../../read-models/tables.ts';
import { decodeCursor, pageOf } from '../pagination.ts';

export interface RefundView {
  payment_id: string;
  booking_id: string;
  amount: number;
  /** The gateway's reason when it refused the last attempt; else why the money is owed back. */
  reason: string | null;
  status: RefundStatus;
  updated_at: string;
}

type RefundRow = Pick<AsRead<PaymentRow>, 'id' | 'booking_id' | 'amount' | 'refund_reason' | 'refund_failure' | 'refund_status' | 'refund_updated_at'>;

export async function listRefunds(db: Knex, query: { status?: RefundStatus; limit: number; cursor?: string }): Promise<{ items: RefundView[]; next_cursor: string | null }> {
  let select = db('payments').orderBy([{ column: 'refund_updated_at' }, { column: 'id' }]).limit(query.limit + 1);
  select = query.status === undefined ? select.whereNotNull('refund_status') : select.where('refund_status', query.status);
  if (query.cursor !== undefined) {
    const [updatedAt, id] = decodeCursor(query.cursor, ['string', 'string']) as [string, string];
    select = select.where((where) => void where.where('refund_updated_at', '>', updatedAt).orWhere((same) => void same.where('refund_updated_at', updatedAt).andWhere('id', '>', id)));
  }
  const rows = await select.select<RefundRow[]>('id', 'booking_id', 'amount', 'refund_reason', 'refund_failure', 'refund_status', 'refund_updated_at');
  const page = pageOf(rows, query.limit, (last) => [last.refund_updated_at ?? '', last.id]);
  return {
    items: page.items.flatMap((row) => row.refund_status === null ? [] : [{
      payment_id: row.id,
      booking_id: row.booking_id,
      amount: Number(row.amount),
      reason: row.refund_status === 'refund_failed' ? row.refund_failure : row.refund_reason,
      status: row.refund_status,
      updated_at: row.refund_updated_at ?? '',
    }]),
    next_cursor: page.next_cursor,
  };
}
