import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../lib/config.ts';
import { loadSecrets } from './secrets.ts';

t.test('a data dir made before a secret existed gets it once, the same for every process that asks at once', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-secrets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const older = { jwt_secret: 'j'.repeat(64), personal_data_key: Buffer.alloc(32, 7).toString('base64'), payment_webhook_secret: 'w'.repeat(43) };
  await writeFile(join(dataDir, 'secrets.json'), JSON.stringify(older), { mode: 0o600 });
  const config = loadConfig({ BOXOFFICE_DATA_DIR: dataDir });
  const loaded = await Promise.all(Array.from({ length: 8 }, () => loadSecrets(config)));
  const keys = new Set(loaded.map((secrets) => secrets.ticketSigningKeys[0]?.toString('base64')));
  t.equal(keys.size, 1, 'one ticket signing key for all');
  t.equal(loaded[0]?.jwtSecret, older.jwt_secret, 'the older secrets are kept');
  t.same(loaded[0]?.personalDataKey, Buffer.alloc(32, 7));
  const stored = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
  t.equal(stored.ticket_signing_key, [...keys][0], 'and kept in the file for the next start');
  t.equal((await loadSecrets(config)).ticketSigningKeys[0]?.toString('base64'), stored.ticket_signing_key);
});
