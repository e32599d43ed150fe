/**
 * A server whose own sql_mode would change what our SQL means (NO_BACKSLASH_ESCAPES: a backslash
 * is a plain character; ANSI_QUOTES: "…" names an identifier) still stores and returns every
 * byte: every pool pins its session's mode (lib/db/mysql-session.ts). The server is this spec's
 * own, so its GLOBAL mode can be set without touching the one the other specs share.
 */
import { randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import t from 'tap';
import { openDatabase } from '../../lib/db/database.ts';
import { startMariaDb } from '../../test/harness/servers.ts';
import { SqlEventStore } from './sql-event-store.ts';

const HOSTILE_MODE = 'NO_BACKSLASH_ESCAPES,ANSI_QUOTES,STRICT_TRANS_TABLES';
/** What the literal writers escape (quote, backslash, NUL) and what they must leave alone. */
const AWKWARD = `it's "quoted" \\ back\\slash \\' \\0 \\n ${'\0'} nul '' "" \\\\ end\\`;

async function one<T>(db: Knex, sql: string): Promise<T> {
  const [[row]] = (await db.raw(sql)) as [[T]];
  return row;
}

t.test('on a server with NO_BACKSLASH_ESCAPES and ANSI_QUOTES, events and read-model rows keep every byte', async (t) => {
  const server = await startMariaDb({ bufferPool: '64M', logFileSize: '16M' });
  t.teardown(() => server.stop());
  const admin = knex({ client: 'mysql2', connection: server.url, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`SET GLOBAL sql_mode = '${HOSTILE_MODE}'`);
    await admin.raw('CREATE DATABASE es CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    await admin.raw('CREATE DATABASE rm CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  } finally {
    await admin.destroy();
  }
  // A connection that does not pin its mode gets the server's: the ground this spec stands on.
  const plain = knex({ client: 'mysql2', connection: server.url, pool: { min: 0, max: 1 } });
  const { mode } = await one<{ mode: string }>(plain, 'SELECT @@SESSION.sql_mode AS mode').finally(() => plain.destroy());
  t.match(mode, /NO_BACKSLASH_ESCAPES/, 'a new session starts with NO_BACKSLASH_ESCAPES');
  t.match(mode, /ANSI_QUOTES/, 'and with ANSI_QUOTES');

  t.test('the event store: append, appendAll, appendMany and snapshots, read back byte for byte', async (t) => {
    const store = await SqlEventStore.open({ client: 'mysql2', url: `${server.url}/es` });
    t.teardown(() => store.close());
    const stream = `awkward-o'brien\\${randomUUID()}`;
    const event = (n: number) => ({
      id: randomUUID(),
      type: `Awkward'\\Happened`,
      data: { n, text: AWKWARD, [AWKWARD]: [AWKWARD] },
      metadata: { note: AWKWARD },
    });
    const single = [event(1), event(2)];
    await store.append(stream, single, 'no_stream');
    const together = [{ stream, events: [event(3)], expected: 1 }, { stream: `${stream}-2`, events: [event(4)], expected: 'no_stream' as const }];
    await store.appendAll(together);
    const many = [{ stream, events: [event(5)], expected: 2 }, { stream: `${stream}-3`, events: [event(6)], expected: 'no_stream' as const }];
    const outcomes = await store.appendMany(many);
    t.strictSame(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled'], 'appendMany wrote both');

    const written = [...single, ...together.map((w) => w.events[0]), ...many.map((w) => w.events[0])];
    const read = (await store.readAll()).events;
    t.equal(read.length, written.length, 'every event was stored');
    for (const [i, expected] of written.entries()) {
      const got = read[i];
      t.equal(got?.id, expected?.id, `event ${i + 1}: in order`);
      t.equal(got?.type, expected?.type, `event ${i + 1}: its type`);
      t.strictSame(got?.data, expected?.data, `event ${i + 1}: its data`);
      t.strictSame(got?.metadata, expected?.metadata, `event ${i + 1}: its metadata`);
    }
    t.strictSame((await store.readStream(stream)).map((e) => e.stream), [stream, stream, stream, stream], 'the stream name is stored as written');

    await store.saveSnapshot(stream, { revision: 3, data: { text: AWKWARD } });
    t.strictSame(await store.loadSnapshot(stream), { revision: 3, data: { text: AWKWARD } }, 'a snapshot loads back');
  });

  t.test('a read-model pool (openDatabase): a row written and found by its value', async (t) => {
    const db = await openDatabase({ client: 'mysql2', url: `${server.url}/rm` }, {
      migrationsTable: 'sql_mode_migrations',
      migrations: {
        '001_notes': {
          up: (schema) => schema.schema.createTable('notes', (table) => {
            table.string('id').primary();
            table.text('text').notNullable();
          }),
          down: (schema) => schema.schema.dropTable('notes'),
        },
      },
    });
    t.teardown(() => db.destroy());
    await db('notes').insert({ id: 'n1', text: AWKWARD });
    await db.raw(`insert into notes (id, text) values ('n2', 'a\\'b\\\\c')`);
    t.strictSame(await db('notes').where({ id: 'n1' }).select('text'), [{ text: AWKWARD }], 'read back as written');
    t.strictSame(await db('notes').where({ text: AWKWARD }).select('id'), [{ id: 'n1' }], 'found by its value');
    t.strictSame(await db('notes').where({ id: 'n2' }).select('text'), [{ text: "a'b\\c" }], 'a literal with backslash escapes means what it says');
  });
});
