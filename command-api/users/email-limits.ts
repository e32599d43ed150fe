/**
 * How many verification mails an email change (or a resend) may cause: per user, and per address
 * whoever asks, so nobody can flood an address that is not theirs. Counted before checked (the
 * count is taken first, then compared), so parallel requests cannot all slip under the limit.
 */
import { AppError } from '../../lib/errors.ts';
import type { ExpiringKeys } from '../../lib/security/expiring-keys.ts';

export interface EmailMailLimitOptions {
  /** Mails a user may cause per window. */
  readonly perUser: number;
  /** Mails one address may be sent per window, whoever asks. */
  readonly perAddress: number;
  readonly windowMs: number;
}

export const DEFAULT_EMAIL_MAIL_LIMITS: EmailMailLimitOptions = { perUser: 3, perAddress: 3, windowMs: 60 * 60_000 };

export class EmailMailLimits {
  constructor(
    private readonly keys: ExpiringKeys,
    /** The counters are out of reach (Redis down): the mail goes, as a sign-in does, and this is told. */
    private readonly onUnavailable: (error: unknown) => void,
    private readonly options: EmailMailLimitOptions = DEFAULT_EMAIL_MAIL_LIMITS,
  ) {}

  /**
   * Counts one mail from `userId` to the address with this keyed digest; throws 429
   * EMAIL_CHANGE_LIMIT (with when to retry) when either count is over its limit.
   */
  async count(userId: string, addressDigest: string): Promise<void> {
    const { perUser, perAddress, windowMs } = this.options;
    let byUser;
    let byAddress;
    try {
      [byUser, byAddress] = await Promise.all([
        this.keys.increment(`email-mail:user:${userId}`, windowMs),
        this.keys.increment(`email-mail:to:${addressDigest}`, windowMs),
      ]);
    } catch (error) {
      this.onUnavailable(error);
      return;
    }
    const over = [byUser.count > perUser ? byUser.ttlMs : 0, byAddress.count > perAddress ? byAddress.ttlMs : 0];
    const waitMs = Math.max(...over);
    if (waitMs > 0) {
      throw new AppError('EMAIL_CHANGE_LIMIT', 'too many verification mails for this account or to this address; try again later', {
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      });
    }
  }
}
