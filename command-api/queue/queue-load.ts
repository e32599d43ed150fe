/**
 * The write-queue depth of each concert as every command instance measures it, shared through
 * the expiring keys (Redis when configured, SQL otherwise, memory in tests): the waiting room's
 * keeper admits by the busiest instance, not only by its own.
 *
 * Expiring keys hold a count, not an arbitrary number, and cannot be listed; so an instance
 * publishes the highest band its depth reaches (bands double from limit/16 up to the limit:
 * `queue-load:<concert>:<band>`, set for `freshMs`), and a reader asks the bands from the top
 * down. The maximum over the instances is known to within a factor of two, which is all the
 * control law compares, with no instance ids to register and nothing written while queues are short.
 *
 * The same keys carry each instance's report that it holds joins received before a concert's
 * opening and not yet recorded (`queue-entering:<concert>`, set for `enteringFreshMs` and set
 * again while they wait, entering-joins.ts): the opening lottery is drawn once no instance reports
 * any, so a join still queued in one instance's lane is not decided after the draw, as an arrival.
 * A report nobody renews (the instance died) expires.
 */
import type { ExpiringKeys } from '../../lib/security/expiring-keys.ts';

const PREFIX = 'queue-load:';
const ENTERING = 'queue-entering:';

/** How long a report of joins received before the opening and not yet recorded stands unless renewed. */
export const ENTERING_FRESH_MS = 5_000;

export class QueueLoad {
  /** Ascending, distinct, at least 1. */
  readonly bands: readonly number[];

  constructor(
    private readonly keys: ExpiringKeys,
    queueLimit: number,
    private readonly options: {
      /** How long a published band stands (a few ticks: the maximum over the last moment, not one sample). */
      readonly freshMs: number;
      /** How long a report of entering joins stands (ENTERING_FRESH_MS): its instance renews it several times within. */
      readonly enteringFreshMs?: number;
      /** Wall-clock epoch ms: the keys expire by the shared store's clock, not a test's. */
      readonly wallClock?: () => number;
    },
  ) {
    this.bands = [...new Set([16, 8, 4, 2, 1].map((divisor) => Math.max(1, Math.floor(queueLimit / divisor))))];
  }

  /** Publishes this instance's depth for the concert (nothing below the lowest band). */
  async publish(concertId: string, depth: number): Promise<void> {
    const band = this.#bandOf(depth);
    if (band > 0) await this.keys.set(`${PREFIX}${concertId}:${band}`, this.#wallClock() + this.options.freshMs);
  }

  /** The highest band any instance published for the concert lately (a lower bound of the deepest queue), or 0. */
  async deepest(concertId: string): Promise<number> {
    for (let k = this.bands.length - 1; k >= 0; k--) {
      const band = this.bands[k]!;
      if ((await this.keys.get(`${PREFIX}${concertId}:${band}`)) !== null) return band;
    }
    return 0;
  }

  /** How long a report of entering joins stands: a reporter renews it well within. */
  get enteringFreshMs(): number {
    return this.options.enteringFreshMs ?? ENTERING_FRESH_MS;
  }

  /** Reports that this instance holds joins of the concert received before its opening and not yet recorded. */
  async reportEntering(concertId: string): Promise<void> {
    await this.keys.set(`${ENTERING}${concertId}`, this.#wallClock() + this.enteringFreshMs);
  }

  /** Whether any instance reported such joins lately (the lottery waits for them). */
  async entering(concertId: string): Promise<boolean> {
    return (await this.keys.get(`${ENTERING}${concertId}`)) !== null;
  }

  #bandOf(depth: number): number {
    let reached = 0;
    for (const band of this.bands) if (depth >= band) reached = band;
    return reached;
  }

  #wallClock(): number {
    return (this.options.wallClock ?? Date.now)();
  }
}
