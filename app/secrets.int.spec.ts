/** The embedded default's secrets file: made once, kept, and given the keys added since when it predates them. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../lib/config.ts';
import { loadSecrets } from './secrets.ts';

async function dataDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-secrets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the embedded default makes a digest key of its own, apart from the master key, and keeps it', async (t) => {
  const dir = await dataDir(t);
  const first = await loadSecrets(loadConfig({ BOXOFFICE_DATA_DIR: dir }));
  t.equal(first.personalDataDigestKey.length, 32);
  t.notOk(first.personalDataDigestKey.equals(first.personalDataKey), 'not the master key');
  const again = await loadSecrets(loadConfig({ BOXOFFICE_DATA_DIR: dir }));
  t.ok(again.personalDataDigestKey.equals(first.personalDataDigestKey), 'the same after a restart');
  t.equal((await stat(join(dir, 'secrets.json'))).mode & 0o777, 0o600);
});

t.test('a secrets file written before the digest key existed gets one, and keeps everything else', async (t) => {
  const dir = await dataDir(t);
  const old = { jwt_secret: 'j'.repeat(64), personal_data_key: Buffer.alloc(32, 7).toString('base64'), payment_webhook_secret: 'w'.repeat(43) };
  await writeFile(join(dir, 'secrets.json'), JSON.stringify(old), { mode: 0o600 });
  const secrets = await loadSecrets(loadConfig({ BOXOFFICE_DATA_DIR: dir }));
  t.equal(secrets.jwtSecret, old.jwt_secret);
  t.ok(secrets.personalDataKey.equals(Buffer.alloc(32, 7)));
  const stored = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
  t.match(stored, old);
  t.equal(stored.personal_data_digest_key, secrets.personalDataDigestKey.toString('base64'));
  t.equal((await stat(join(dir, 'secrets.json'))).mode & 0o777, 0o600);
  t.ok((await loadSecrets(loadConfig({ BOXOFFICE_DATA_DIR: dir }))).personalDataDigestKey.equals(secrets.personalDataDigestKey), 'kept');
});

t.test('a digest key from the environment is used as given, and nothing is written', async (t) => {
  const dir = await dataDir(t);
  const env = {
    BOXOFFICE_DATA_DIR: dir, JWT_SECRET: 'j'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: Buffer.alloc(32, 9).toString('base64'), PAYMENT_WEBHOOK_SECRET: 'w'.repeat(20),
    TICKET_SIGNING_KEYS: Buffer.alloc(32, 3).toString('base64'),
  };
  t.ok((await loadSecrets(loadConfig(env))).personalDataDigestKey.equals(Buffer.alloc(32, 9)));
  await t.rejects(stat(join(dir, 'secrets.json')), { code: 'ENOENT' });
});

t.test('processes completing an older file at once all get the same new keys', async (t) => {
  const dir = await dataDir(t);
  const older = { jwt_secret: 'j'.repeat(64), personal_data_key: Buffer.alloc(32, 7).toString('base64'), payment_webhook_secret: 'w'.repeat(43) };
  await writeFile(join(dir, 'secrets.json'), JSON.stringify(older), { mode: 0o600 });
  const config = loadConfig({ BOXOFFICE_DATA_DIR: dir });
  const loaded = await Promise.all(Array.from({ length: 8 }, () => loadSecrets(config)));
  t.equal(new Set(loaded.map((secrets) => secrets.ticketSigningKeys[0]?.toString('base64'))).size, 1, 'one ticket signing key for all');
  t.equal(new Set(loaded.map((secrets) => secrets.personalDataDigestKey.toString('base64'))).size, 1, 'one digest key for all');
  const stored = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
  t.equal(stored.ticket_signing_key, loaded[0]?.ticketSigningKeys[0]?.toString('base64'), 'kept for the next start');
  t.equal(stored.jwt_secret, older.jwt_secret, 'the older secrets unchanged');
});
