import { AppError } from '../../lib/errors.ts';

/** Tells people from bots at registration, and at sign-in to an account under a spread-out guess. Adapters: none (embedded default), an HTTP siteverify service. */
export interface Captcha {
  /** Whether a token must come with the request at all. */
  readonly required: boolean;
  /** True when the service vouches for the token; throws when the service cannot be asked. */
  verify(token: string, remoteIp: string): Promise<boolean>;
}

/** The embedded default: no CAPTCHA service, every request passes. */
export const noCaptcha: Captcha = { required: false, verify: async () => true };

/**
 * Asks the CAPTCHA service about the client's token, answering the route's refusals: no token
 * `CAPTCHA_REQUIRED`, not solved `CAPTCHA_FAILED`, the service unreachable `CAPTCHA_UNAVAILABLE`.
 */
export async function requireSolvedCaptcha(captcha: Captcha, token: string | undefined, remoteIp: string, log: { error: (details: object, message: string) => void }): Promise<void> {
  if (token === undefined) throw new AppError('CAPTCHA_REQUIRED', 'solve the CAPTCHA and send its captcha_token');
  let passed: boolean;
  try {
    passed = await captcha.verify(token, remoteIp);
  } catch (error) {
    log.error({ err: error }, 'CAPTCHA service unavailable');
    throw new AppError('CAPTCHA_UNAVAILABLE', 'the CAPTCHA check is unavailable; try again shortly');
  }
  if (!passed) throw new AppError('CAPTCHA_FAILED', 'the CAPTCHA was not solved');
}
