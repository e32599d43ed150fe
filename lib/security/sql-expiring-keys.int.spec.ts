import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import type { DatabaseOptions } from '../db/database.ts';
import { SqlExpiringKeys } from './sql-expiring-keys.ts';

async function where(t: Test, kind: 'mysql' | 'sqlite'): Promise<DatabaseOptions> {
  if (kind === 'mysql') return { client: 'mysql2', url: await freshMysqlDatabase(t) };
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { client: 'better-sqlite3', filename: join(dir, 'expiring-keys.sqlite') };
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`counts, sets, expires and deletes keys (${kind})`, async (t) => {
    let now = 1_000_000;
    const keys = await SqlExpiringKeys.open(await where(t, kind), { now: () => now });
    t.teardown(() => keys.close());

    t.strictSame(await keys.increment('login:a', 60_000), { count: 1, ttlMs: 60_000 });
    now += 10_000;
    t.strictSame(await keys.increment('login:a', 60_000), { count: 2, ttlMs: 50_000 }, 'the first count set the expiry');
    t.strictSame(await keys.get('login:a'), { count: 2, ttlMs: 50_000 });
    now += 50_000;
    t.equal(await keys.get('login:a'), null, 'expired');
    t.strictSame(await keys.increment('login:a', 60_000), { count: 1, ttlMs: 60_000 }, 'an expired key starts again');

    await keys.set('lock:a', now + 5_000);
    t.strictSame(await keys.get('lock:a'), { count: 1, ttlMs: 5_000 });
    await keys.set('lock:past', now - 1);
    t.equal(await keys.get('lock:past'), null, 'a key set in the past is not set');
    await keys.delete('lock:a');
    t.equal(await keys.get('lock:a'), null, 'deleted');
  });

  t.test(`parallel increments each get their own count, as Redis's INCR gives (${kind})`, async (t) => {
    const database = await where(t, kind);
    const [one, two] = [await SqlExpiringKeys.open(database), await SqlExpiringKeys.open(database)];
    t.teardown(async () => {
      await one.close();
      await two.close();
    });
    const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? one : two).increment('login-wait:x', 60_000)));
    t.strictSame(counts.map((c) => c.count).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1), 'exactly one caller got 1, one got 2, …');
  });

  t.test(`mirrored keys: kept across a reopen, seen by another instance within its poll (${kind})`, async (t) => {
    const database = await where(t, kind);
    const first = await SqlExpiringKeys.open(database, { mirrored: ['revoked:'], pollMs: 50 });
    const second = await SqlExpiringKeys.open(database, { mirrored: ['revoked:'], pollMs: 50 });
    t.teardown(() => second.close());
    await first.set('revoked:t1', Date.now() + 60_000);
    t.ok(await first.get('revoked:t1'), 'at once on the instance that set it');
    const deadline = Date.now() + 2_000;
    while ((await second.get('revoked:t1')) === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    t.ok(await second.get('revoked:t1'), 'on the other instance after its poll');
    await first.close();

    const reopened = await SqlExpiringKeys.open(database, { mirrored: ['revoked:'] });
    t.teardown(() => reopened.close());
    t.ok(await reopened.get('revoked:t1'), 'after a restart');
    t.equal(await reopened.get('revoked:t2'), null);
  });
}
