import knex, { type Knex } from 'knex';
import t from 'tap';
import { startMariaDb } from '../test/harness/servers.ts';
import { databaseFor } from '../test/support/projections.ts';
import { openReadModels } from '../read-models/database.ts';
import { LocalInfile, insertMany, upsert } from './bulk.ts';

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
    await db.transaction((trx) => insertMany(trx, 'bulk_values', [...rows, { id: 'null', text: null, amount: 0, flag: false }], new LocalInfile()));
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
    const localInfile = new LocalInfile();
    // LOAD DATA LOCAL skips a duplicate with a warning: the write must fail all the same, as an INSERT does.
    const duplicate = await db.transaction((trx) => insertMany(trx, 'bulk_keys', [...rows, { id: 'taken', code: 'new' }], localInfile)).then(() => undefined, (error: unknown) => error);
    t.ok(duplicate instanceof Error, 'a duplicate key fails the write');
    t.same(await db('bulk_keys').select('id', 'code'), [{ id: 'taken', code: 'old' }], 'a duplicate key: nothing written, the row kept');
    if (kind === 'mysql') {
      // The failure names the key, never the value (a projection's failure is logged and shown to admins).
      t.match((duplicate as Error).message, /Duplicate entry for key 'PRIMARY'/, 'the failure says which key');
      t.notMatch((duplicate as Error).message, /taken/, 'and not the duplicate value');
      // …and cuts a value too long for its column with a warning; strict mode refuses it.
      await t.rejects(db.transaction((trx) => insertMany(trx, 'bulk_keys', [...rows, { id: 'long', code: 'too long' }], localInfile)));
      t.same(await db('bulk_keys').select('id', 'code'), [{ id: 'taken', code: 'old' }], 'a value too long: nothing written');
    }
  });
}

t.test('LOAD DATA: rows over many packets, a value longer than a packet, multi-byte characters at every offset, all stored as given', async (t) => {
  const { options } = await databaseFor(t, 'mysql');
  const db = await openReadModels(options);
  t.teardown(() => db.destroy());
  await db.schema.createTable('bulk_packets', (table) => {
    table.string('id', 36).primary();
    table.text('text', 'mediumtext').notNullable();
  });
  // Lengths that drift against the packet size, so values and lines end at every offset of a
  // packet; two- to four-byte characters and escaped ones among them.
  const pieces = ['é', '😀', 'Ω', 'a', '\t', '\\', '漢'];
  const rows = Array.from({ length: 4_000 }, (_, i) => ({
    id: `row-${String(i).padStart(5, '0')}`,
    text: Array.from({ length: 200 + (i * 37) % 900 }, (_, c) => pieces[(i + c) % pieces.length]).join(''),
  }));
  // Longer than a packet even before it is encoded (over 1 MiB of UTF-16 units, up to 3 bytes each).
  rows.push({ id: 'row-long', text: 'x😀é\\'.repeat(300_000) });
  const loads = await loadsSoFar(db, 'mysql');
  await db.transaction((trx) => insertMany(trx, 'bulk_packets', rows, new LocalInfile()));
  t.ok((await loadsSoFar(db, 'mysql')) > loads, 'loaded with LOAD DATA LOCAL INFILE');
  const stored = new Map((await db('bulk_packets').select<{ id: string; text: string }[]>()).map((row) => [row.id, row.text]));
  t.equal(stored.size, rows.length, 'every row stored');
  t.equal(rows.filter((row) => stored.get(row.id) !== row.text).length, 0, 'every value as given');
  t.ok(rows.reduce((bytes, row) => bytes + Buffer.byteLength(row.text), 0) > 4 * (1 << 20), 'more than four packets of text');

  // Half a surrogate pair is no character: stored as U+FFFD, as an INSERT's text would be.
  const before = await loadsSoFar(db, 'mysql');
  await db.transaction((trx) => insertMany(trx, 'bulk_packets', [{ id: 'lone', text: 'a\uD800b\uDC00c\uD83D' }], new LocalInfile()));
  t.ok((await loadsSoFar(db, 'mysql')) > before, 'loaded with LOAD DATA LOCAL INFILE');
  t.equal(await db('bulk_packets').where({ id: 'lone' }).first('text').then((row: { text: string }) => row.text), 'a\uFFFDb\uFFFDc\uFFFD', 'a lone surrogate is stored as U+FFFD');
});

t.test('a database that refuses LOAD DATA LOCAL is written with INSERTs, and from then on without asking; another database still loads', async (t) => {
  const server = await startMariaDb({ bufferPool: '64M', logFileSize: '16M', settings: ['local_infile=0'] });
  t.teardown(() => server.stop());
  const admin = knex({ client: 'mysql2', connection: server.url, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE rm CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  } finally {
    await admin.destroy();
  }
  const refusing = await openReadModels({ client: 'mysql2', url: `${server.url}/rm` });
  t.teardown(() => refusing.destroy());
  const { options } = await databaseFor(t, 'mysql');
  const loading = await openReadModels(options);
  t.teardown(() => loading.destroy());
  for (const db of [refusing, loading]) {
    await db.schema.createTable('bulk_loads', (table) => {
      table.string('id', 36).primary();
      table.text('text').notNullable();
    });
  }
  const rows = (prefix: string) => AWKWARD.map((text, i) => ({ id: `${prefix}-${i}`, text }));
  /** LOAD DATA statements the write ran, counted on its own connection (other specs load beside this one). */
  const loadsIn = (db: Knex, localInfile: LocalInfile, prefix: string) => db.transaction(async (trx) => {
    const loads = async () => Number(((await trx.raw("SHOW SESSION STATUS LIKE 'Com_load'")) as [{ Value: string }[]])[0][0]?.Value);
    const before = await loads();
    await insertMany(trx, 'bulk_loads', rows(prefix), localInfile);
    return (await loads()) - before;
  });
  const refused = new LocalInfile();
  await loadsIn(refusing, refused, 'first');
  t.ok(refused.refused, 'the refusal is remembered for that database');
  t.equal(await loadsIn(refusing, refused, 'second'), 0, 'its next write asks no more');
  t.equal(await loadsIn(loading, new LocalInfile(), 'other'), 1, "another database's writes still load");
  const count = async (db: Knex) => Number((await db('bulk_loads').count<{ n: number }[]>({ n: '*' }))[0]?.n);
  t.equal(await count(refusing), AWKWARD.length * 2, 'both writes to the refusing database stored every row');
  t.equal(await count(loading), AWKWARD.length, 'the loaded write stored every row');
});

/** LOAD DATA statements the server has run so far (every session); 0 on SQLite. */
async function loadsSoFar(db: Awaited<ReturnType<typeof openReadModels>>, kind: 'mysql' | 'sqlite'): Promise<number> {
  if (kind === 'sqlite') return 0;
  const [rows] = (await db.raw("SHOW GLOBAL STATUS LIKE 'Com_load'")) as [{ Value: string }[]];
  return Number(rows[0]?.Value);
}
