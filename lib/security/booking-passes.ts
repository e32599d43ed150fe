/**
 * Booking passes: what the waiting room gives an admitted visitor, and what `POST /bookings`
 * asks for (the `Booking-Pass` header) while a concert's waiting room is on. Signed (HMAC under a
 * key derived from JWT_SECRET, which every instance shares), bound to the account, the concert
 * and an expiry, so the command API refuses a forged, foreign or stale pass without a read; that
 * the pass was issued and not used yet is the queue aggregate's to decide (UsePass).
 */
import { SignedTokens } from './signed-tokens.ts';

export interface BookingPass {
  readonly passId: string;
  readonly userId: string;
  readonly concertId: string;
  /** Epoch milliseconds. */
  readonly expiresAtMs: number;
}

/** The text form's marker, so a pass is told from other tokens at a glance. */
const PREFIX = 'BP1.';

export class BookingPasses {
  readonly #tokens: SignedTokens;

  constructor(jwtSecret: string) {
    this.#tokens = new SignedTokens(jwtSecret, 'boxoffice booking pass v1');
  }

  sign(pass: BookingPass): string {
    return PREFIX + this.#tokens.sign({ p: pass.passId, u: pass.userId, c: pass.concertId, e: pass.expiresAtMs });
  }

  /** The pass a text carries when this deployment signed it; undefined for anything else (expiry is not checked here). */
  read(text: string): BookingPass | undefined {
    if (!text.startsWith(PREFIX)) return undefined;
    const claims = this.#tokens.open(text.slice(PREFIX.length));
    if (claims === undefined) return undefined;
    const { p, u, c, e } = claims;
    if (typeof p !== 'string' || typeof u !== 'string' || typeof c !== 'string' || typeof e !== 'number' || !Number.isSafeInteger(e)) return undefined;
    return { passId: p, userId: u, concertId: c, expiresAtMs: e };
  }
}
