/**
 * Live availability of a concert: from the Redis seat cache when it holds the concert, from the
 * concerts tables otherwise (Redis down, key missing or being refilled) — never an error for it.
 */
import type { Knex } from 'knex';
import { checkpointPositionQuery } from '../../read-models/checkpoints.ts';
import type { ReadSource } from '../../read-models/replicas.ts';
import type { CachedAvailability, SeatCache } from '../../read-models/seat-cache.ts';

export interface Availability {
  readonly concertId: string;
  readonly classes: readonly { readonly id: string; readonly available: number }[];
  /** Position of the last event folded into these counts. */
  readonly position: number;
  readonly source: 'cache' | 'database';
}

export class AvailabilityReader {
  /** Cache reads in flight, by concert: requests arriving meanwhile share the answer (single flight). */
  readonly #inFlight = new Map<string, Promise<CachedAvailability | undefined>>();

  constructor(
    private readonly seatCache: SeatCache | undefined,
    private readonly onCacheError: (error: unknown) => void = () => undefined,
    /** Told where each answer came from (metrics: the cache hit ratio). */
    private readonly onAnswer: (source: Availability['source']) => void = () => undefined,
  ) {}

  /**
   * `atLeast`: a position the answer must reflect (`tables` have reached it; the cache may not
   * have). `tables`: where the fallback reads.
   */
  async read(concertId: string, tables: ReadSource, atLeast = 0): Promise<Availability | undefined> {
    if (this.seatCache !== undefined) {
      try {
        const cached = await this.#cached(this.seatCache, concertId);
        if (cached !== undefined && cached.position >= atLeast) {
          this.onAnswer('cache');
          return { concertId, classes: [...cached.classes].map(([id, available]) => ({ id, available })), position: cached.position, source: 'cache' };
        }
      } catch (error) {
        this.onCacheError(error);
      }
    }
    this.onAnswer('database');
    return tables.run((db) => this.#fromDatabase(db, concertId));
  }

  /**
   * During a sale thousands of readers ask for the same concert at once: one Redis call answers
   * all who asked while it was on its way, so an answer is at most one round trip older than its
   * request. A reader who named a position still gets at least that position (read() checks).
   */
  #cached(seatCache: SeatCache, concertId: string): Promise<CachedAvailability | undefined> {
    let read = this.#inFlight.get(concertId);
    if (read === undefined) {
      read = seatCache.availability(concertId).finally(() => this.#inFlight.delete(concertId));
      this.#inFlight.set(concertId, read);
    }
    return read;
  }

  async #fromDatabase(db: Knex, concertId: string): Promise<Availability | undefined> {
    // One statement: the counts and the projection's position come from the same snapshot.
    const rows = await db('concerts')
      .join('ticket_classes', 'ticket_classes.concert_id', 'concerts.id')
      .where('concerts.id', concertId)
      .orderBy('ticket_classes.sort_order')
      .select<{ position: number | string; id: string; available: number | string }[]>(
        checkpointPositionQuery(db, 'concerts').as('position'),
        'ticket_classes.id',
        'ticket_classes.available_seats_in_class as available',
      );
    const first = rows[0];
    if (first === undefined) return undefined;
    return {
      concertId,
      classes: rows.map((row) => ({ id: row.id, available: Number(row.available) })),
      position: Number(first.position),
      source: 'database',
    };
  }
}
