/** The keyed digests an app writes, worked out the way the app does, with the key of its data dir. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emailDigest } from '../../lib/personal-data/digest.ts';

/** The digest key and master key the embedded secrets file of this data dir holds. */
export async function storedKeys(dataDir: string): Promise<{ digestKey: Buffer; masterKey: Buffer }> {
  const stored = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as { personal_data_digest_key: string; personal_data_key: string };
  return { digestKey: Buffer.from(stored.personal_data_digest_key, 'base64'), masterKey: Buffer.from(stored.personal_data_key, 'base64') };
}

/** The `email_hash` and claim key of this address in an app whose data dir is `dataDir`. */
export async function emailDigestIn(dataDir: string, email: string): Promise<string> {
  return emailDigest((await storedKeys(dataDir)).digestKey, email);
}
