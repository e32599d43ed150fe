/**
 * The status poll of the waiting room (GET /api/v1/queue/:token): the board's place and concert
 * (one Redis round trip, read-models/queue-board.ts) turned into what its holder is told. No
 * event store, no MySQL, no token check: the place id is the capability, and the pass it hands
 * out is bound to the account that took the place.
 */
import { AppError } from '../../lib/errors.ts';
import type { BookingPasses } from '../../lib/security/booking-passes.ts';
import type { BoardReading, QueueBoard } from '../../read-models/queue-board.ts';

export type QueueStatusName = 'waiting' | 'admitted' | 'sold_out' | 'expired';

export interface QueueStatusAnswer {
  readonly status: QueueStatusName;
  readonly position: number | null;
  readonly ahead: number | null;
  readonly estimated_wait_seconds: number | null;
  readonly pass: string | null;
  readonly pass_expires_at: string | null;
  /** When to poll next (the Retry-After header), 1–30 seconds. */
  readonly retryAfter: number;
}

/** Signed passes kept, so a place polled again is not signed again (an HMAC per poll). */
const SIGNED_KEPT = 50_000;

/** The longest a waiting place is told to wait before its next poll. */
const LONGEST_POLL_SECONDS = 30;

export class QueueStatus {
  readonly #signed = new Map<string, string>();
  readonly #longestPoll: number;

  constructor(
    private readonly board: QueueBoard,
    private readonly passes: BookingPasses,
    private readonly now: () => number,
    /** BOOKING_PASS_TTL_SECONDS: a place is polled at least three times a pass's life, so a pass is seen with most of its time left. */
    passTtlSeconds: number,
  ) {
    this.#longestPoll = Math.max(1, Math.min(LONGEST_POLL_SECONDS, Math.floor(passTtlSeconds / 3)));
  }

  /** The place's status, or undefined when there is no such place. */
  async read(placeId: string): Promise<QueueStatusAnswer | undefined> {
    let place: BoardReading | undefined;
    try {
      place = await this.board.read(placeId);
    } catch (error) {
      throw new AppError('QUEUE_UNAVAILABLE', 'the waiting room cannot be read now; poll again shortly', { cause: error });
    }
    if (place === undefined) return undefined;
    const position = place.index >= 0 ? place.index + 1 : null;
    // Admitted means a pass is named (API.md), also once used: it then buys nothing but a keyed retry of its own booking.
    if (place.spent === 'used') return { status: 'admitted', position, ahead: null, estimated_wait_seconds: null, pass: this.#sign(place), pass_expires_at: place.expiresAt, retryAfter: 30 };
    const now = this.now();
    if (place.passId !== '') {
      if (place.spent === 'expired' || now >= place.expiresAtMs) {
        return { status: 'expired', position, ahead: null, estimated_wait_seconds: null, pass: null, pass_expires_at: null, retryAfter: 30 };
      }
      return { status: 'admitted', position, ahead: null, estimated_wait_seconds: null, pass: this.#sign(place), pass_expires_at: place.expiresAt, retryAfter: 2 };
    }
    if (place.soldOut) return { status: 'sold_out', position, ahead: null, estimated_wait_seconds: null, pass: null, pass_expires_at: null, retryAfter: 30 };
    const ahead = place.index >= 0 ? Math.max(0, place.index - place.admitted) : null;
    const untilOpening = now < place.opensAtMs ? (place.opensAtMs - now) / 1000 : 0;
    const admitting = ahead !== null && place.admissionRate > 0 ? ahead / place.admissionRate : null;
    const wait = untilOpening > 0 ? untilOpening + (admitting ?? 0) : admitting;
    // Close to the front (or to the opening): soon; far back: later, as the queue moves.
    const retryAfter = this.#clamp(wait !== null ? wait / 4 : ahead !== null ? 1 + ahead / 100 : 10);
    return { status: 'waiting', position, ahead, estimated_wait_seconds: wait === null ? null : Math.ceil(wait), pass: null, pass_expires_at: null, retryAfter };
  }

  #clamp(seconds: number): number {
    return Math.min(this.#longestPoll, Math.max(1, Math.ceil(seconds)));
  }

  #sign(place: BoardReading): string {
    let text = this.#signed.get(place.passId);
    if (text === undefined) {
      text = this.passes.sign({ passId: place.passId, userId: place.userId, concertId: place.concertId, expiresAtMs: place.expiresAtMs });
      if (this.#signed.size >= SIGNED_KEPT) this.#signed.clear();
      this.#signed.set(place.passId, text);
    }
    return text;
  }
}
