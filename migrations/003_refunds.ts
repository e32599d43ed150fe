/**
 * Refunds on the payments read model: where the money owed back stands (owed, being paid,
 * paid, refused by the gateway), why it is owed, what the gateway said when it refused, and
 * when it last changed; the admin's list of refunds filters on the status and pages by time.
 */
import type { Knex } from 'knex';

const INSTANT = 24;

export const refunds: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('payments', (table) => {
      /** refund_due, refunding, refunded or refund_failed; null while nothing is owed. */
      table.string('refund_status', 16).nullable();
      /** Why the money is owed back: late_payment, concert_cancelled, duplicate_payment, unknown_booking. */
      table.string('refund_reason', 32).nullable();
      /** The gateway's reason for refusing the last attempt; null unless refund_failed. */
      table.text('refund_failure').nullable();
      table.string('refund_updated_at', INSTANT).nullable();
      table.string('refunded_at', INSTANT).nullable();
      table.index(['refund_status', 'refund_updated_at', 'id'], 'payments_refund_status_index');
      table.index(['refund_updated_at', 'id'], 'payments_refund_updated_at_index');
    });
    // Owed before this migration: listed as owed (why is not on the row; a rebuild fills it in).
    await db('payments').where('status', 'refund_due').update({ refund_status: 'refund_due', refund_updated_at: db.ref('updated_at') });
  },
  async down(db) {
    await db.schema.alterTable('payments', (table) => {
      table.dropIndex(['refund_updated_at', 'id'], 'payments_refund_updated_at_index');
      table.dropIndex(['refund_status', 'refund_updated_at', 'id'], 'payments_refund_status_index');
      table.dropColumn('refunded_at');
      table.dropColumn('refund_updated_at');
      table.dropColumn('refund_failure');
      table.dropColumn('refund_reason');
      table.dropColumn('refund_status');
    });
  },
};
