import { createHash } from 'node:crypto';
import type { ExpiringKeys } from './expiring-keys.ts';

/**
 * Brute-force protection per account: after `lockoutAfter` failed logins within the lockout
 * window, the account refuses logins until the window ends, whoever asks and from wherever.
 * Accounts are keyed by a hash of the normalized username, so no name sits in Redis, and the
 * same happens for names that do not exist (nothing reveals which do).
 */
export class LoginThrottle {
  constructor(
    private readonly keys: ExpiringKeys,
    private readonly lockoutAfter: number,
    private readonly lockoutSeconds: number,
  ) {}

  /** Seconds until the account may try again, or 0 when it may now. */
  async lockedFor(normalizedUsername: string): Promise<number> {
    const entry = await this.keys.get(key(normalizedUsername));
    return entry !== null && entry.count >= this.lockoutAfter ? Math.max(1, Math.ceil(entry.ttlMs / 1000)) : 0;
  }

  async recordFailure(normalizedUsername: string): Promise<void> {
    await this.keys.increment(key(normalizedUsername), this.lockoutSeconds * 1000);
  }

  async recordSuccess(normalizedUsername: string): Promise<void> {
    await this.keys.delete(key(normalizedUsername));
  }
}

function key(normalizedUsername: string): string {
  return `login-failures:${createHash('sha256').update(normalizedUsername).digest('hex')}`;
}
