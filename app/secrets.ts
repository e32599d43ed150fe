/**
 * The secrets a deployment shares: the JWT signing key, the key that wraps personal-data keys,
 * the key of the personal-data digests, the payment webhook key. Taken from the configuration when set; otherwise (the embedded
 * default) made once and kept in `$BOXOFFICE_DATA_DIR/secrets.json`, readable by the owner only,
 * so tokens and sealed data survive a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../lib/config.ts';

export interface Secrets {
  readonly jwtSecret: string;
  readonly personalDataKey: Buffer;
  /** Keys the email digests and KTP fingerprints (lib/personal-data/digest.ts). */
  readonly personalDataDigestKey: Buffer;
  readonly paymentWebhookSecret: string;
}

interface StoredSecrets {
  jwt_secret: string;
  personal_data_key: string;
  /** Missing from a file written before the digest key existed: added on the next start. */
  personal_data_digest_key?: string;
  payment_webhook_secret: string;
}

export async function loadSecrets(
  config: Pick<Config, 'dataDir' | 'jwtSecret' | 'personalDataKey' | 'personalDataDigestKey' | 'paymentWebhookSecret'>,
): Promise<Secrets> {
  if (config.jwtSecret !== null && config.personalDataKey !== null && config.personalDataDigestKey !== null && config.paymentWebhookSecret !== null) {
    return {
      jwtSecret: config.jwtSecret,
      personalDataKey: config.personalDataKey,
      personalDataDigestKey: config.personalDataDigestKey,
      paymentWebhookSecret: config.paymentWebhookSecret,
    };
  }
  const stored = await storedSecrets(config.dataDir);
  return {
    jwtSecret: config.jwtSecret ?? stored.jwt_secret,
    personalDataKey: config.personalDataKey ?? Buffer.from(stored.personal_data_key, 'base64'),
    personalDataDigestKey: config.personalDataDigestKey ?? Buffer.from(await storedDigestKey(config.dataDir, stored), 'base64'),
    paymentWebhookSecret: config.paymentWebhookSecret ?? stored.payment_webhook_secret,
  };
}

/** The digest key of a secrets file; one written before it existed gets one now (a new file renamed over the old). */
async function storedDigestKey(dataDir: string, stored: StoredSecrets): Promise<string> {
  if (stored.personal_data_digest_key !== undefined) return stored.personal_data_digest_key;
  const file = join(dataDir, 'secrets.json');
  const next = `${file}.digest-key`;
  const digestKey = randomBytes(32).toString('base64');
  await writeFile(next, JSON.stringify({ ...stored, personal_data_digest_key: digestKey } satisfies StoredSecrets, null, 2), { mode: 0o600 });
  await rename(next, file);
  return digestKey;
}

async function storedSecrets(dataDir: string): Promise<StoredSecrets> {
  const file = join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const fresh: StoredSecrets = {
    jwt_secret: randomBytes(48).toString('base64url'),
    personal_data_key: randomBytes(32).toString('base64'),
    personal_data_digest_key: randomBytes(32).toString('base64'),
    payment_webhook_secret: randomBytes(32).toString('base64url'),
  };
  try {
    // 'wx': if another process made the file first, use theirs.
    await writeFile(file, JSON.stringify(fresh, null, 2), { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  }
}
