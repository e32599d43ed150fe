import t from 'tap';
import { openDatabase } from '../lib/db/database.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';
import { indexNames } from '../test/support/indexes.ts';
import { databaseFor } from '../test/support/projections.ts';
import { copyTableShape } from './shadow-tables.ts';

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a shadow gets the indexes its table has when they are built, not those it had when copied (${kind})`, async (t) => {
    const { options } = await databaseFor(t, kind);
    const db = await openDatabase(options, { migrationsTable: 'shadow_spec_migrations', migrations: {} });
    t.teardown(() => db.destroy());
    await db.schema.createTable('things', (table) => {
      table.string('id', 36).primary();
      table.string('owner', 36).notNullable().index('things_owner_index');
      table.string('status', 16).notNullable().index('things_status_index');
      table.string('code', 16).notNullable().unique({ indexName: 'things_code_unique' });
    });
    const addIndexes = await copyTableShape(db, sqlDialectOf(db), 'things', 'things__shadow', 2);
    t.strictSame(await indexNames(db, 'things__shadow'), [], 'the copy starts with its primary key only');

    // A migration runs while the shadow is filled: one index dropped, one added.
    await db.schema.alterTable('things', (table) => void table.dropIndex(['status'], 'things_status_index'));
    await db.schema.alterTable('things', (table) => void table.index(['status', 'owner'], 'things_status_owner_index'));
    await addIndexes();
    const expected = ['things_code_unique', 'things_owner_index', 'things_status_owner_index'];
    t.strictSame(await indexNames(db, 'things__shadow'), kind === 'sqlite' ? expected.map((name) => `${name}__g2`) : expected, 'the table\'s indexes now: the dropped one is not brought back');
    await db('things__shadow').insert({ id: 'a', owner: 'o', status: 's', code: 'c' });
    await t.rejects(db('things__shadow').insert({ id: 'b', owner: 'o', status: 's', code: 'c' }), 'a unique index stays unique');
  });
}
