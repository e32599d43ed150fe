import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { eventStoreContract } from '../contract.ts';
import { SqlEventStore } from './sql-event-store.ts';

eventStoreContract(t, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-es-'));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
});
