/**
 * Email verification tokens: signed (HMAC-SHA256), expiring, and naming the address they were
 * sent to (by hash). They work once because verifying twice is refused by the user's stream
 * (EMAIL_ALREADY_VERIFIED); a token for an address since changed is refused as stale.
 */
import { AppError } from '../../lib/errors.ts';
import { SignedTokens } from '../../lib/security/signed-tokens.ts';

interface Claims {
  /** user id */
  sub: string;
  /** sha256 of the normalized address */
  eh: string;
  /** expiry, epoch seconds */
  exp: number;
}

export class EmailTokens {
  readonly #tokens: SignedTokens;

  constructor(secret: string, private readonly ttlSeconds: number, private readonly now: () => number = Date.now) {
    // Its own key, derived from the deployment's secret, so it signs nothing but these tokens.
    this.#tokens = new SignedTokens(secret, 'boxoffice email verification v1');
  }

  issue(userId: string, emailHash: string): string {
    const claims: Claims = { sub: userId, eh: emailHash, exp: Math.floor(this.now() / 1000) + this.ttlSeconds };
    return this.#tokens.sign(claims);
  }

  /** The user and address the token was issued for; a 400 when it is forged, malformed or expired. */
  read(token: string): { userId: string; emailHash: string } {
    const claims: Partial<Claims> | undefined = this.#tokens.open(token);
    if (claims === undefined) throw invalid();
    if (typeof claims.sub !== 'string' || typeof claims.eh !== 'string' || typeof claims.exp !== 'number') throw invalid();
    if (claims.exp * 1000 <= this.now()) throw new AppError('VERIFICATION_TOKEN_EXPIRED', 'this verification link has expired; sign in and ask for a new one');
    return { userId: claims.sub, emailHash: claims.eh };
  }
}

const invalid = (): AppError => new AppError('VERIFICATION_TOKEN_INVALID', 'this verification link is not valid');
