/**
 * Read-your-writes: a read that names a position waits until the projection it reads has
 * reached it. Positions arrive as news from the projectors (NATS, or in process); the
 * checkpoint table is polled too — often when there is no news channel, now and then when there
 * is one (a lost message costs a poll interval, never a wrong answer).
 */
import type { ProjectionPositions } from '../../read-models/positions.ts';

export interface WaiterOptions {
  /** How long a read waits before it is answered 503 PROJECTION_LAGGING. */
  readonly timeoutMs: number;
  /** Poll interval of the checkpoint table while news flows, and while it does not. */
  readonly pollMs?: { readonly withNews: number; readonly withoutNews: number };
}

export class ProjectionWaiter {
  readonly #known = new Map<string, number>();
  /** When each projection's checkpoint was last read (epoch ms). */
  readonly #readAt = new Map<string, number>();
  readonly #wakers = new Set<() => void>();
  readonly #stopListening: () => void;

  constructor(
    private readonly positions: ProjectionPositions,
    private readonly readCheckpoint: (projection: string) => Promise<number>,
    private readonly options: WaiterOptions,
  ) {
    this.#stopListening = positions.listen((projection, position) => this.#learn(projection, position));
  }

  #learn(projection: string, position: number): number {
    const known = Math.max(this.#known.get(projection) ?? 0, position);
    this.#known.set(projection, known);
    for (const wake of this.#wakers) wake();
    return known;
  }

  /**
   * The position the projection has reached, as far as this process knows: from the news, or,
   * while there is none (NATS away), from the checkpoint read at most once per poll interval.
   */
  async position(projection: string): Promise<number> {
    return this.knownPosition(projection) ?? this.#check(projection);
  }

  /** position(), when it is known without reading the checkpoint. */
  knownPosition(projection: string): number | undefined {
    const known = this.#known.get(projection);
    const fresh = this.positions.connected || Date.now() - (this.#readAt.get(projection) ?? 0) < this.#pollMs();
    return fresh ? known : undefined;
  }

  /** The last position this process learned, however long ago (positions only grow: the projection is at least there). */
  lastKnown(projection: string): number | undefined {
    return this.#known.get(projection);
  }

  async #check(projection: string): Promise<number> {
    const position = await this.readCheckpoint(projection);
    this.#readAt.set(projection, Date.now());
    return this.#learn(projection, position);
  }

  #pollMs(): number {
    return this.positions.connected ? this.options.pollMs?.withNews ?? 500 : this.options.pollMs?.withoutNews ?? 50;
  }

  /**
   * Resolves with the projection's position once it is at least `minimum`, or with undefined
   * when the timeout passes first.
   */
  async reached(projection: string, minimum: number): Promise<number | undefined> {
    const known = this.#known.get(projection) ?? 0;
    if (known >= minimum) return known;
    const deadline = Date.now() + this.options.timeoutMs;
    let checked = await this.#check(projection);
    while (checked < minimum) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      const woken = await this.#sleep(Math.min(left, this.#pollMs()));
      checked = woken ? this.#known.get(projection) ?? 0 : await this.#check(projection);
    }
    return checked;
  }

  /** Sleeps until news arrives (true) or the time is up (false). */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => finish(true);
      const timer = setTimeout(() => finish(false), ms);
      const finish = (woken: boolean): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve(woken);
      };
      this.#wakers.add(wake);
    });
  }

  close(): void {
    this.#stopListening();
  }
}
