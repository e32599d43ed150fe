/**
 * A concert's sales window, edited as events (ConcertDetailsChanged) like its other details, so
 * GET /api/v1/concerts/:id shows when its sales open and close. Null: open at once / close at the
 * concert's date. Rows projected before this migration read null until the concerts projection
 * is rebuilt (the admin API set no window before it).
 */
import type { Knex } from 'knex';

const INSTANT = 24;

export const concertEdits: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('concerts', (table) => {
      table.string('sales_open_at', INSTANT).nullable();
      table.string('sales_close_at', INSTANT).nullable();
    });
  },
  async down(db) {
    await db.schema.alterTable('concerts', (table) => {
      table.dropColumn('sales_close_at');
      table.dropColumn('sales_open_at');
    });
  },
};
