/**
 * Indexes that no query needs, dropped. An index is written with every row inserted, and with
 * every change of a column it covers: a new booking wrote ten secondary indexes and now six, a
 * booking's change of status three and now two, a seat held, released or sold three and now one;
 * and a rebuild (projectors/rebuild.ts) builds each one from scratch.
 * - bookings (user_id), (concert_id), (status): each is the first column of a wider index that
 *   serves the same lookups, newest first without a sort (001's user one, 006's others).
 * - bookings (expires_at), seats (status), seats (booking_id): no query filters or sorts by
 *   them. Seats are read by concert (the unique index and 007's): by status only within a
 *   concert, and never by booking (booking_seats has a booking's seats).
 *
 * After a rebuild on SQLite an index's name carries its generation (projectors/shadow-tables.ts):
 * each is dropped by the name it has.
 */
import type { Knex } from 'knex';
import { sqlDialectOf } from '../lib/db/dialect.ts';

const DROPPED: readonly { readonly table: string; readonly name: string; readonly columns: readonly string[] }[] = [
  { table: 'bookings', name: 'bookings_user_id_index', columns: ['user_id'] },
  { table: 'bookings', name: 'bookings_concert_id_index', columns: ['concert_id'] },
  { table: 'bookings', name: 'bookings_status_index', columns: ['status'] },
  { table: 'bookings', name: 'bookings_expires_at_index', columns: ['expires_at'] },
  { table: 'seats', name: 'seats_status_index', columns: ['status'] },
  { table: 'seats', name: 'seats_booking_id_index', columns: ['booking_id'] },
];

/** The names the index has now: its own, or on SQLite its own with a rebuild's generation. */
async function namesOf(db: Knex, table: string, name: string): Promise<string[]> {
  if (sqlDialectOf(db) === 'sqlite') {
    const rows = await db.raw<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]);
    return rows.map((row) => row.name).filter((found) => found === name || new RegExp(`^${name}__g\\d+$`).test(found));
  }
  const [rows = []] = await db.raw<[{ name: string }[]]>(
    'SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?', [table, name]);
  return rows.map((row) => row.name);
}

export const redundantIndexes = {
  async up(db: Knex): Promise<void> {
    for (const table of new Set(DROPPED.map((dropped) => dropped.table))) {
      const found: string[] = [];
      for (const dropped of DROPPED) if (dropped.table === table) found.push(...await namesOf(db, table, dropped.name));
      if (found.length === 0) continue;
      if (sqlDialectOf(db) === 'sqlite') for (const name of found) await db.raw('DROP INDEX ??', [name]);
      // One ALTER a table: MySQL locks the table's metadata once.
      else await db.raw(`ALTER TABLE ?? ${found.map(() => 'DROP INDEX ??').join(', ')}`, [table, ...found]);
    }
  },

  async down(db: Knex): Promise<void> {
    for (const { table, name, columns } of DROPPED) {
      if ((await namesOf(db, table, name)).length > 0) continue;
      await db.schema.alterTable(table, (builder) => void builder.index([...columns], name));
    }
  },
} satisfies Knex.Migration;
