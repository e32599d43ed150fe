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
    const loads = await loadsSoFar(db, kind);
    await db.transaction((trx) => insertMany(trx, 'bulk_values', [...rows, { id: 'null', text: null, amount: 0, flag: false }]));
    // MariaDB allows LOAD DATA LOCAL (local_infile is on by default): the rows went that way.
    if (kind === 'mysql') t.ok((await loadsSoFar(db, kind)) > loads, 'inserted with LOAD DATA LOCAL INFILE');
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

  t.test(`an insert of a row that exists, or of a value its column cannot hold, fails and writes nothing (${kind})`, async (t) => {
    const { options } = await databaseFor(t, kind);
    const db = await openReadModels(options);
    t.teardown(() => db.destroy());
    await db.schema.createTable('bulk_keys', (table) => {
      table.string('id', 36).primary();
      table.string('code', 4).notNullable();
    });
    await db('bulk_keys').insert({ id: 'taken', code: 'old' });
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `row-${i}`, code: 'new' }));
    // LOAD DATA LOCAL skips a duplicate with a warning: the write must fail all the same, as an INSERT does.
    await t.rejects(db.transaction((trx) => insertMany(trx, 'bulk_keys', [...rows, { id: 'taken', code: 'new' }])));
    t.same(await db('bulk_keys').select('id', 'code'), [{ id: 'taken', code: 'old' }], 'a duplicate key: nothing written, the row kept');
    if (kind === 'mysql') {
      // …and cuts a value too long for its column with a warning; strict mode refuses it.
      await t.rejects(db.transaction((trx) => insertMany(trx, 'bulk_keys', [...rows, { id: 'long', code: 'too long' }])));
      t.same(await db('bulk_keys').select('id', 'code'), [{ id: 'taken', code: 'old' }], 'a value too long: nothing written');
    }
  });
}

/** LOAD DATA statements the server has run so far (every session); 0 on SQLite. */
async function loadsSoFar(db: Awaited<ReturnType<typeof openReadModels>>, kind: 'mysql' | 'sqlite'): Promise<number> {
  if (kind === 'sqlite') return 0;
  const [rows] = (await db.raw("SHOW GLOBAL STATUS LIKE 'Com_load'")) as [{ Value: string }[]];
  return Number(rows[0]?.Value);
}
