import t from 'tap';
import { databaseFor } from '../test/support/projections.ts';
import { openReadModels } from '../read-models/database.ts';
import { insertMany, upsert } from './bulk.ts';

/** Every character a statement's text must escape, placeholders and driver syntax, and text outside Latin-1. */
const AWKWARD = [
  "it's", 'back\\slash', '"quoted"', 'line\nbreak\r\ttab', 'nul\0byte', 'bell\bsub\x1aend', '?', '??', 'a ? b', '%s %%', ':name',
  '$1', '`tick`', 'Ωmega 😀 café', '', ' ', '\\', "\\'", "''", '-- not a comment', '/* nor this */', ';DROP TABLE x;',
];

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`multi-row writes store every value as given (${kind})`, async (t) => {
    const { options } = await databaseFor(t, kind);
    const db = await openReadModels(options);
    t.teardown(() => db.destroy());
    await db.schema.createTable('bulk_values', (table) => {
      table.string('id', 36).primary();
      table.text('text').nullable();
      table.bigInteger('amount').notNullable();
      table.boolean('flag').notNullable();
    });
    const rows = AWKWARD.map((text, i) => ({ id: `row-${i}`, text, amount: i * 1_000_003 - 7, flag: i % 2 === 0 }));
    await db.transaction((trx) => insertMany(trx, 'bulk_values', [...rows, { id: 'null', text: null, amount: 0, flag: false }]));
    const read = async () => (await db('bulk_values').orderBy('id').select<{ id: string; text: string | null; amount: number | string; flag: number | boolean }[]>())
      .map((row) => ({ id: row.id, text: row.text, amount: Number(row.amount), flag: Boolean(row.flag) }));
    const expected = [...rows, { id: 'null', text: null, amount: 0, flag: false }].sort((a, b) => (a.id < b.id ? -1 : 1));
    t.same(await read(), expected, 'inserted as given');

    // An upsert updates only the columns it names, and inserts what is new.
    const changed = rows.map((row, i) => ({ ...row, text: AWKWARD[AWKWARD.length - 1 - i] ?? null, amount: -row.amount, flag: !row.flag }));
    await db.transaction((trx) => upsert(trx, 'bulk_values', [...changed, { id: 'new', text: "new's", amount: 1, flag: true }], ['id'], ['text', 'flag']));
    const after = await read();
    t.same(after.find((row) => row.id === 'new'), { id: 'new', text: "new's", amount: 1, flag: true });
    for (const [i, row] of rows.entries()) {
      t.same(after.find((stored) => stored.id === row.id), { id: row.id, text: AWKWARD[AWKWARD.length - 1 - i], amount: row.amount, flag: !row.flag }, `row ${i}: text and flag updated, amount kept`);
    }
  });
}
