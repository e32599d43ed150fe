/**
 * Indexes for the concert sales report (query-api/reports/sales-report.ts): the seats of a
 * concert counted per class and status from the index alone. A concert's confirmed bookings are
 * found by 006's (concert_id, status, created_at, id).
 */
import type { Knex } from 'knex';

export const salesReport: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('seats', (table) => {
      table.index(['concert_id', 'ticket_class_id', 'status'], 'seats_concert_class_status_index');
    });
  },

  async down(db) {
    await db.schema.alterTable('seats', (table) => {
      table.dropIndex(['concert_id', 'ticket_class_id', 'status'], 'seats_concert_class_status_index');
    });
  },
};
