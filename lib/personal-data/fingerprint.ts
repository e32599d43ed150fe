import { createHmac } from 'node:crypto';

/**
 * Keyed fingerprints of KTP numbers: the per-KTP ticket limit compares them; nobody can turn one
 * back into a number without the key (a plain hash of a 16-digit number would fall to brute force).
 */
export class KtpFingerprints {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    this.#key = createHmac('sha256', masterKey).update('boxoffice ktp fingerprint v1').digest();
  }

  of(ktpNumber: string): string {
    return createHmac('sha256', this.#key).update(ktpNumber).digest('base64url');
  }
}
