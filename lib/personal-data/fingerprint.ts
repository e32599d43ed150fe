import { createHmac } from 'node:crypto';
import { digestSubkey } from './digest.ts';

/**
 * Keyed fingerprints of KTP numbers: the per-KTP ticket limit compares them; nobody can turn one
 * back into a number without the key (a plain hash of a 16-digit number would fall to brute force).
 * The key derives from the digest key (PERSONAL_DATA_DIGEST_KEY), not from the master key that
 * wraps the data keys.
 */
export class KtpFingerprints {
  readonly #key: Buffer;

  constructor(digestKey: Buffer) {
    this.#key = digestSubkey(digestKey, 'boxoffice ktp fingerprint v1');
  }

  of(ktpNumber: string): string {
    return createHmac('sha256', this.#key).update(ktpNumber).digest('base64url');
  }
}
