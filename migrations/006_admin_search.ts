/**
 * The back office's booking search: the buyer's email as its keyed digest (never the address),
 * and one index per way of filtering, each ending in (created_at, id) so that a filtered list
 * walks its index newest first with the keyset cursor and never sorts. A user's bookings walk
 * bookings_user_created_index (001); the username prefix search walks users_username_unique.
 */
import type { Knex } from 'knex';

const INDEXES = [
  { name: 'bookings_created_index', columns: ['created_at', 'id'] },
  { name: 'bookings_status_created_index', columns: ['status', 'created_at', 'id'] },
  { name: 'bookings_concert_created_index', columns: ['concert_id', 'created_at', 'id'] },
  { name: 'bookings_concert_status_created_index', columns: ['concert_id', 'status', 'created_at', 'id'] },
  { name: 'bookings_buyer_email_created_index', columns: ['buyer_email_digest', 'created_at', 'id'] },
] as const;

export const adminSearch: Knex.Migration = {
  async up(db) {
    await db.schema.alterTable('bookings', (table) => {
      /** HMAC-SHA256 (hex) of the buyer's normalized email under the digest key; null once forgotten, or for bookings placed before it was recorded. */
      table.string('buyer_email_digest', 64).nullable();
    });
    for (const index of INDEXES) {
      await db.schema.alterTable('bookings', (table) => void table.index([...index.columns], index.name));
    }
  },

  async down(db) {
    for (const index of INDEXES) {
      await db.schema.alterTable('bookings', (table) => void table.dropIndex([...index.columns], index.name));
    }
    await db.schema.alterTable('bookings', (table) => void table.dropColumn('buyer_email_digest'));
  },
};
