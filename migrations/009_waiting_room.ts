/**
 * A concert's waiting room flag (ConcertScheduled / ConcertDetailsChanged `waiting_room`), so the
 * query API shows whether booking it needs a pass. Rows projected before this migration read
 * false, as did every concert before waiting rooms existed.
 */
import type { Knex } from 'knex';

export const waitingRoom: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('concerts', (table) => {
      table.boolean('waiting_room').notNullable().defaultTo(false);
    });
  },
  async down(db) {
    await db.schema.alterTable('concerts', (table) => {
      table.dropColumn('waiting_room');
    });
  },
};
