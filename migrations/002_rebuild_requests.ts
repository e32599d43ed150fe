/**
 * A rebuild asked for in one process (the admin route of a query-api) is run by another (the
 * projector): the request waits on the projection's checkpoint row until a projector takes it.
 */
import type { Knex } from 'knex';

export const rebuildRequests: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('projection_checkpoints', (table) => {
      /** When a rebuild was asked for and not yet taken by a projector (ISO instant), or null. */
      table.string('rebuild_requested_at', 24).nullable();
    });
  },
  async down(db) {
    await db.schema.alterTable('projection_checkpoints', (table) => {
      table.dropColumn('rebuild_requested_at');
    });
  },
};
