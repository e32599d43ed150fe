import t from 'tap';
import { openDatabase } from '../lib/db/database.ts';
import { indexNames } from '../test/support/indexes.ts';
import { databaseFor } from '../test/support/projections.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from './index.ts';
import { redundantIndexes } from './010_redundant_indexes.ts';

const DROPPED = ['bookings_user_id_index', 'bookings_concert_id_index', 'bookings_status_index', 'bookings_expires_at_index', 'seats_status_index', 'seats_booking_id_index'];
/** What the same lookups walk instead, and the seats' own: kept. */
const KEPT = ['bookings_user_created_index', 'bookings_concert_created_index', 'bookings_status_created_index', 'seats_concert_class_number_unique', 'seats_concert_class_status_index'];

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`010 drops the indexes no query needs and keeps the rest (${kind})`, async (t) => {
    const { options } = await databaseFor(t, kind);
    const before = Object.fromEntries(Object.entries(readModelMigrations).filter(([name]) => name < '010'));
    const old = await openDatabase(options, { migrationsTable: READ_MODEL_MIGRATIONS_TABLE, migrations: before });
    const shipped = await indexNames(old, 'bookings', 'seats');
    for (const name of [...DROPPED, ...KEPT]) t.ok(shipped.includes(name), `${name} is there before`);
    if (kind === 'sqlite') {
      // A rebuild on SQLite names a table's indexes after its generation (projectors/shadow-tables.ts).
      await old.raw('DROP INDEX seats_status_index');
      await old.raw('CREATE INDEX seats_status_index__g2 ON seats (status)');
    }
    await old.destroy();

    const db = await openDatabase(options, { migrationsTable: READ_MODEL_MIGRATIONS_TABLE, migrations: readModelMigrations });
    t.teardown(() => db.destroy());
    const after = await indexNames(db, 'bookings', 'seats');
    t.strictSame(after.filter((name) => DROPPED.some((dropped) => name.startsWith(dropped))), [], 'none of them is left, under any generation');
    t.strictSame(after, shipped.filter((name) => !DROPPED.includes(name)).sort(), 'every other index is kept');

    await redundantIndexes.down(db);
    t.strictSame(await indexNames(db, 'bookings', 'seats'), [...shipped].sort(), 'down puts them back');
  });
}
