import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { ReactorStore } from './reactor-store.ts';

for (const client of ['mysql2', 'better-sqlite3'] as const) {
  t.test(`${client}: a checkpoint only moves forward, and many first writes at once all succeed`, async (t) => {
    let store: ReactorStore;
    if (client === 'mysql2') {
      store = await ReactorStore.open({ client, url: await freshMysqlDatabase(t) });
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'boxoffice-reactors-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      store = await ReactorStore.open({ client, filename: join(dir, 'reactors.sqlite') });
    }
    t.teardown(() => store.close());
    t.equal(await store.checkpoint('bookings'), 0);
    // Twenty instances write their first checkpoint at the same moment (it deadlocked on MySQL).
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.advance('bookings', 100 + i)));
    t.equal(await store.checkpoint('bookings'), 119, 'the furthest wins');
    await store.advance('bookings', 50);
    t.equal(await store.checkpoint('bookings'), 119, 'never back');
    await store.advance('bookings', 500);
    t.equal(await store.checkpoint('bookings'), 500);
    t.equal(await store.checkpoint('payments'), 0, 'each reactor its own');
  });
}
