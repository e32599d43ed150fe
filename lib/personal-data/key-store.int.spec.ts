/**
 * The key store on SQLite, the embedded default's: a forget that runs while a key is being read
 * leaves no forgotten key in the cache.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KeyStore } from './key-store.ts';

t.test('a forget while the key is being read: the next seal gets a new key, not the forgotten one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const options = { client: 'better-sqlite3' as const, filename: join(dir, 'keys.sqlite') };
  const masterKey = randomBytes(32);
  const userId = randomUUID();
  const maker = await KeyStore.open(options, masterKey);
  t.teardown(() => maker.close());
  const forgotten = await maker.keyFor(userId);

  // Another instance, whose cache does not have the key yet.
  const store = await KeyStore.open(options, masterKey);
  t.teardown(() => store.close());
  const reading = store.keyFor(userId); // its SELECT goes first
  t.equal(await store.forget(userId), true, 'the key is deleted');
  t.equal((await reading).keyId, forgotten.keyId, 'the read began before the forget, and found the key');
  const next = await store.keyFor(userId);
  t.not(next.keyId, forgotten.keyId, 'the forgotten key was not cached: a new one is made');
  t.equal(await store.find(forgotten.keyId), null, 'and the forgotten one is gone from the store');
});
