import knex from 'knex';
import t from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { runMigrations } from './migrations.ts';

const migrations = {
  '001_things': {
    async up(db: knex.Knex) {
      await db.schema.createTable('things', (table) => table.increments('id'));
    },
    async down(db: knex.Knex) {
      await db.schema.dropTableIfExists('things');
    },
  },
};

t.test('ten processes migrating one fresh MariaDB database at once all start, and leave one lock row', async (t) => {
  const url = await freshMysqlDatabase(t);
  const instances = Array.from({ length: 10 }, () => knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 3 } }));
  t.teardown(() => Promise.all(instances.map((db) => db.destroy())));
  await Promise.all(instances.map((db) => runMigrations(db, 'thing_migrations', migrations)));
  const [db] = instances as [knex.Knex];
  t.same(await db('thing_migrations').pluck('name'), ['001_things'], 'migrated once');
  t.same((await db('thing_migrations_lock').select('is_locked')).map((row: { is_locked: number }) => Number(row.is_locked)), [0], 'one lock row, free');
  // A later start has nothing to do and is not held up.
  await runMigrations(db, 'thing_migrations', migrations);
});
