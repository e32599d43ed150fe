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
 */
import type { ExpiringKeys } from '../../lib/security/expiring-keys.ts';

const PREFIX = 'queue-load:';

export class QueueLoad {
  /** Ascending, distinct, at least 1. */
  readonly bands: readonly number[];

  constructor(
    private readonly keys: ExpiringKeys,
    queueLimit: number,
    private readonly options: {
      /** How long a published band stands (a few ticks: the maximum over the last moment, not one sample). */
      readonly freshMs: number;
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

  #bandOf(depth: number): number {
    let reached = 0;
    for (const band of this.bands) if (depth >= band) reached = band;
    return reached;
  }

  #wallClock(): number {
    return (this.options.wallClock ?? Date.now)();
  }
}
