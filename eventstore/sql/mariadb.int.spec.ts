import { randomUUID } from 'node:crypto';
import t from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { eventStoreContract } from '../contract.ts';
import { SqlEventStore } from './sql-event-store.ts';

eventStoreContract(t, async (t) => {
  const store = await SqlEventStore.open({ client: 'mysql2', url: await freshMysqlDatabase(t) });
  t.teardown(() => store.close());
  return store;
});

t.test("a snapshot bigger than the server's max_allowed_packet is stored and loads back whole", async (t) => {
  const url = await freshMysqlDatabase(t);
  const store = await SqlEventStore.open({ client: 'mysql2', url });
  t.teardown(() => store.close());
  const knex = (await import('knex')).default({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
  t.teardown(() => knex.destroy());
  const [[{ limit }]] = (await knex.raw('SELECT @@max_allowed_packet AS `limit`')) as [[{ limit: number }]];
  // What a long sale leaves: hundreds of thousands of released holds, each a random UUID and a reason.
  const released = Array.from({ length: Math.ceil(limit / 45) + 10_000 }, () => [randomUUID(), 'expired']).flat();
  const data = { version: 2, released };
  t.ok(JSON.stringify(data).length > limit, `the JSON (${JSON.stringify(data).length} bytes) is over max_allowed_packet (${limit})`);
  await store.saveSnapshot('concert-big', { revision: 1_000_000, data });
  const loaded = await store.loadSnapshot('concert-big');
  t.equal(loaded?.revision, 1_000_000);
  t.same(loaded?.data, data);
});
