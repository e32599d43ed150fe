/**
 * The secrets a deployment shares: the JWT signing key, the key that wraps personal-data keys,
 * the payment webhook key. Taken from the configuration when set; otherwise (the embedded
 * default) made once and kept in `$BOXOFFICE_DATA_DIR/secrets.json`, readable by the owner only,
 * so tokens and sealed data survive a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../lib/config.ts';

export interface Secrets {
  readonly jwtSecret: string;
  readonly personalDataKey: Buffer;
  readonly paymentWebhookSecret: string;
}

interface StoredSecrets {
  jwt_secret: string;
  personal_data_key: string;
  payment_webhook_secret: string;
}

export async function loadSecrets(config: Pick<Config, 'dataDir' | 'jwtSecret' | 'personalDataKey' | 'paymentWebhookSecret'>): Promise<Secrets> {
  if (config.jwtSecret !== null && config.personalDataKey !== null && config.paymentWebhookSecret !== null) {
    return { jwtSecret: config.jwtSecret, personalDataKey: config.personalDataKey, paymentWebhookSecret: config.paymentWebhookSecret };
  }
  const stored = await storedSecrets(config.dataDir);
  return {
    jwtSecret: config.jwtSecret ?? stored.jwt_secret,
    personalDataKey: config.personalDataKey ?? Buffer.from(stored.personal_data_key, 'base64'),
    paymentWebhookSecret: config.paymentWebhookSecret ?? stored.payment_webhook_secret,
  };
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
