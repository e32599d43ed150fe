/**
 * The secrets a deployment shares: the JWT signing key, the key that wraps personal-data keys,
 * the key of the personal-data digests, the payment webhook key, the keys that sign tickets' QR
 * codes. Taken from the configuration when set; otherwise (the embedded default) made once and
 * kept in `$BOXOFFICE_DATA_DIR/secrets.json`, readable by the owner only, so tokens, sealed data
 * and printed tickets survive a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../lib/config.ts';

export interface Secrets {
  readonly jwtSecret: string;
  readonly personalDataKey: Buffer;
  /** Keys the email digests and KTP fingerprints (lib/personal-data/digest.ts). */
  readonly personalDataDigestKey: Buffer;
  readonly paymentWebhookSecret: string;
  /** Ed25519 seeds; the first signs tickets' QR codes. */
  readonly ticketSigningKeys: readonly Buffer[];
}

interface StoredSecrets {
  jwt_secret: string;
  personal_data_key: string;
  personal_data_digest_key: string;
  payment_webhook_secret: string;
  ticket_signing_key: string;
}

type SecretsConfig = Pick<Config, 'dataDir' | 'jwtSecret' | 'personalDataKey' | 'personalDataDigestKey' | 'paymentWebhookSecret' | 'ticketSigningKeys'>;

export async function loadSecrets(config: SecretsConfig): Promise<Secrets> {
  const { jwtSecret, personalDataKey, personalDataDigestKey, paymentWebhookSecret, ticketSigningKeys } = config;
  if (jwtSecret !== null && personalDataKey !== null && personalDataDigestKey !== null && paymentWebhookSecret !== null && ticketSigningKeys !== null) {
    return { jwtSecret, personalDataKey, personalDataDigestKey, paymentWebhookSecret, ticketSigningKeys };
  }
  const stored = await storedSecrets(config.dataDir);
  return {
    jwtSecret: jwtSecret ?? stored.jwt_secret,
    personalDataKey: personalDataKey ?? Buffer.from(stored.personal_data_key, 'base64'),
    personalDataDigestKey: personalDataDigestKey ?? Buffer.from(stored.personal_data_digest_key, 'base64'),
    paymentWebhookSecret: paymentWebhookSecret ?? stored.payment_webhook_secret,
    ticketSigningKeys: ticketSigningKeys ?? [Buffer.from(stored.ticket_signing_key, 'base64')],
  };
}

function freshSecrets(): StoredSecrets {
  return {
    jwt_secret: randomBytes(48).toString('base64url'),
    personal_data_key: randomBytes(32).toString('base64'),
    personal_data_digest_key: randomBytes(32).toString('base64'),
    payment_webhook_secret: randomBytes(32).toString('base64url'),
    ticket_signing_key: randomBytes(32).toString('base64'),
  };
}

function isComplete(stored: Partial<StoredSecrets>): stored is StoredSecrets {
  return Object.keys(freshSecrets()).every((name) => typeof stored[name as keyof StoredSecrets] === 'string');
}

async function storedSecrets(dataDir: string): Promise<StoredSecrets> {
  const file = join(dataDir, 'secrets.json');
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<StoredSecrets>;
    return isComplete(stored) ? stored : await completeSecrets(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const fresh = freshSecrets();
  try {
    // 'wx': if another process made the file first, use theirs.
    await writeFile(file, JSON.stringify(fresh, null, 2), { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return storedSecrets(dataDir);
  }
}

/**
 * A data dir made by an older version lacks the secrets added since: they are made now and kept,
 * everything already there unchanged. Processes sharing the data dir (the server, a CLI command)
 * take turns through a lock file made with 'wx', so every one of them ends up with the same keys.
 */
async function completeSecrets(file: string): Promise<StoredSecrets> {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 400; attempt++) {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<StoredSecrets>;
    if (isComplete(stored)) return stored;
    try {
      await writeFile(lock, String(process.pid), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another process is completing the file; a lock older than 10 s was left by a crash.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10_000) await unlink(lock).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      const completed = { ...freshSecrets(), ...(JSON.parse(await readFile(file, 'utf8')) as Partial<StoredSecrets>) };
      await writeFile(`${file}.next`, JSON.stringify(completed, null, 2), { mode: 0o600 });
      await rename(`${file}.next`, file);
      return completed;
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
  throw new Error(`${file} could not be completed: another process holds ${file}.lock`);
}
