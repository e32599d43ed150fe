import { createHash } from 'node:crypto';
import type { ExpiringKeys } from './expiring-keys.ts';

export interface LoginThrottleLimits {
  /** Attempts on one account from one address before each further one waits (LOGIN_LOCKOUT_AFTER). */
  readonly freeAttempts: number;
  /** How long attempts and failures are remembered, from the first one (LOGIN_LOCKOUT_SECONDS). */
  readonly windowSeconds: number;
  /** The longest wait between two attempts from one address (LOGIN_DELAY_MAX_SECONDS). */
  readonly maxDelaySeconds: number;
  /** Failures on one account from every address together before it is guarded (LOGIN_CAPTCHA_AFTER). */
  readonly guardAfter: number;
}

/** Whether an attempt may have its password checked now, and if not, when it may try again. */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterSeconds: number };

export const ADMITTED: Admission = { admitted: true };

/** The account-wide wait, without a CAPTCHA, stays modest: it is felt only by addresses that have failed. */
const ACCOUNT_DELAY_CAP_SECONDS = 60;

/**
 * Brute-force protection that a stranger cannot turn against the owner.
 *
 * Per account AND client address: the first `freeAttempts` are checked at once; from then on
 * each attempt waits a growing delay (1 s, 2 s, 4 s … up to `maxDelaySeconds`) after the
 * previous one, answered with its Retry-After. Attempts are counted before they are checked:
 * the counter is incremented atomically first, and one over the limit is refused without
 * running argon2, so parallel guesses buy no more evaluations than sequential ones. Who may go
 * when the delay ends is decided by an atomic increment of a gate key (the one that gets 1
 * goes, and the gate stays shut for the next delay). A success clears that address's counter
 * for the account. Another address's failures never stop the owner.
 *
 * Per account, from every address together: once `guardAfter` failures are remembered the
 * account is guarded. With a CAPTCHA configured the route then asks every sign-in for a solved
 * `captcha_token`. Without one, an address that has already tried this account in the window
 * must also pass an account-wide gate (1 s, 2 s … up to 60 s), while an address with no
 * attempts on it goes straight to the password check: the owner on their usual network signs
 * in with the right password, and a guess spread over many addresses gets one try per address
 * plus one per account-wide delay. The account-wide count records failures after the check: it
 * is a threshold for the guard, not a budget of evaluations (the per-address counter is that).
 *
 * Keys hold hashes of the normalized username (and address), so no name or address sits in
 * Redis; names that do not exist are throttled the same way (nothing reveals which do).
 */
export class LoginThrottle {
  constructor(private readonly keys: ExpiringKeys, private readonly limits: LoginThrottleLimits) {}

  /** Whether the account has had `guardAfter` failed sign-ins (from any address) in the window. */
  async guarded(account: string): Promise<boolean> {
    const failures = await this.keys.get(accountKey('login-failures', account));
    return failures !== null && failures.count >= this.limits.guardAfter;
  }

  /**
   * Counts the attempt, then says whether its password may be checked now. `accountDelay`: the
   * account is guarded and no CAPTCHA stands in front, so addresses that tried before also pass
   * the account-wide gate.
   */
  async admit(account: string, address: string, accountDelay: boolean): Promise<Admission> {
    const { freeAttempts, windowSeconds, maxDelaySeconds, guardAfter } = this.limits;
    const gate = addressKey('login-wait', account, address);
    // A shut gate refuses without counting, so waiting clients who ask again do not lengthen their wait.
    const shut = await this.keys.get(gate);
    if (shut !== null) return refused(shut.ttlMs);
    const { count } = await this.keys.increment(addressKey('login-attempts', account, address), windowSeconds * 1000);
    if (count >= freeAttempts) {
      const delayMs = growingDelayMs(count - freeAttempts, maxDelaySeconds);
      const turn = await this.keys.increment(gate, delayMs);
      if (turn.count > 1) return refused(turn.ttlMs);
    }
    if (accountDelay && count > 1) {
      const failures = (await this.keys.get(accountKey('login-failures', account)))?.count ?? guardAfter;
      const delayMs = growingDelayMs(failures - guardAfter, Math.min(maxDelaySeconds, ACCOUNT_DELAY_CAP_SECONDS));
      const turn = await this.keys.increment(accountKey('login-account-wait', account), delayMs);
      if (turn.count > 1) return refused(turn.ttlMs);
    }
    return ADMITTED;
  }

  /** A checked attempt failed: it counts towards the account's guard (the address's was counted on admission). */
  async failed(account: string): Promise<void> {
    await this.keys.increment(accountKey('login-failures', account), this.limits.windowSeconds * 1000);
  }

  /** The right password: this address starts afresh on this account (others' counts and the guard stay). */
  async succeeded(account: string, address: string): Promise<void> {
    await Promise.all([
      this.keys.delete(addressKey('login-attempts', account, address)),
      this.keys.delete(addressKey('login-wait', account, address)),
    ]);
  }
}

/** 1 s for the first attempt at the limit, doubling each time, never more than `capSeconds`. */
function growingDelayMs(overLimit: number, capSeconds: number): number {
  return Math.min(capSeconds, 2 ** Math.min(Math.max(overLimit, 0), 30)) * 1000;
}

function refused(ttlMs: number): Admission {
  return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');
const accountKey = (kind: string, account: string): string => `${kind}:${digest(account)}`;
const addressKey = (kind: string, account: string, address: string): string => `${kind}:${digest(`${account}\n${address}`)}`;
