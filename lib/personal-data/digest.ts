/**
 * Keyed digests of personal data (HMAC-SHA256 under PERSONAL_DATA_DIGEST_KEY): what the events
 * and the claim streams carry in place of an address, so that an address can be found again by
 * whoever holds the key, and by nobody else — a plain hash of a known address could be confirmed
 * by anyone who reads the events. The digest key is not the master key that wraps the data keys:
 * in production it comes only from the environment, never from beside the data.
 */
import { createHmac } from 'node:crypto';
import { normalizeEmail } from '../../domain/user/normalize.ts';

/** A key of its own for each kind of digest, derived from the digest key. */
export function digestSubkey(digestKey: Buffer, purpose: string): Buffer {
  if (digestKey.length !== 32) throw new Error('the personal data digest key must be 32 bytes');
  return createHmac('sha256', digestKey).update(purpose).digest();
}

/**
 * The keyed digest of an email address (normalized first), 64 hex digits: the `email_hash` of the
 * user events, the `email-<digest>` claim stream, and what a back office searches by.
 */
export function emailDigest(digestKey: Buffer, email: string): string {
  return emailDigester(digestKey)(email);
}

/** emailDigest with its subkey derived once: the booking path digests every buyer's address. */
export function emailDigester(digestKey: Buffer): (email: string) => string {
  const subkey = digestSubkey(digestKey, 'boxoffice email digest v1');
  return (email) => createHmac('sha256', subkey).update(normalizeEmail(email)).digest('hex');
}
