/**
 * Feeds the Redis seat caches from the concerts projection, and keeps the one promise readers
 * rely on: the cache's position key (what an availability answer reports) only moves while
 * every concert key is either true at that position or absent. A failed write breaks that
 * promise for the keys it missed, so the position stops until a refill from MySQL has rewritten
 * them all.
 */
import type { Knex } from 'knex';
import { readCheckpointPosition } from '../../read-models/checkpoints.ts';
import type { ConcertCacheChange, SeatCache } from '../../read-models/seat-cache.ts';
import { refillSeatCache } from './seat-cache-sync.ts';

export class SeatCacheFeed {
  #failures = 0;
  /** False until a refill has completed since the last failure (and at start). */
  #complete = false;

  constructor(readonly cache: SeatCache, private readonly requestRefill: () => void) {}

  /** After a batch committed: its changes, then (if the cache is whole) its position. */
  async committed(generation: number, changes: readonly ConcertCacheChange[], position: number): Promise<void> {
    try {
      // Keys with a gap are dropped by the script: readers go to MySQL for them until the refill.
      const gaps = await this.cache.apply(generation, changes);
      if (gaps.length > 0) this.requestRefill();
      if (this.#complete) await this.cache.advance(generation, position);
    } catch (error) {
      this.#failures++;
      this.#complete = false;
      this.requestRefill();
      throw error;
    }
  }

  /** Rewrites every concert's keys from the tables, then marks the cache whole at the position read first. */
  async refill(db: Knex, generation: number): Promise<void> {
    const failuresBefore = this.#failures;
    const position = await readCheckpointPosition(db, 'concerts');
    await refillSeatCache(db, this.cache, generation);
    await this.cache.advance(generation, position);
    await this.cache.activate(generation);
    if (this.#failures === failuresBefore) this.#complete = true;
    else this.requestRefill();
  }
}
