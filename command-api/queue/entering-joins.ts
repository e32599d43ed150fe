/**
 * The joins this instance received before a concert's opening and has not yet recorded (queued in
 * the queue's lane, or losing a race to another instance): while there are any, the instance
 * reports them through the shared keys (QueueLoad.reportEntering), at once and then every fifth of
 * the report's life, and no keeper on any instance draws the opening lottery: a join received
 * before the opening is a lottery entrant only if it is recorded before the draw. The report is
 * renewed by a timer, not by the lane or the keeper's tick, which wait behind those very joins; a
 * report nobody renews (the instance died) expires, and the draw's latest bound stands anyway.
 */
import type { QueueLoad } from './queue-load.ts';

interface Entering {
  /** Joins received before the opening and not yet recorded or refused. */
  count: number;
  readonly timer: NodeJS.Timeout;
}

/** How long after the opening a report can still matter: the draw waits for none past its latest bound. */
export interface EnteringOptions {
  /** The draw's latest bound after the opening (keeper.ts DRAW_WAIT_MAX_MS). */
  readonly drawWaitMaxMs: number;
  /** Epoch ms, by the clock the joins' receipt is taken with. */
  readonly now?: () => number;
}

export class EnteringJoins {
  readonly #concerts = new Map<string, Entering>();

  constructor(
    private readonly load: QueueLoad,
    private readonly onError: (error: unknown, what: string) => void,
    private readonly options: EnteringOptions,
  ) {}

  /**
   * A join of the concert received at `receivedAtMs` for a sale that opens at `opensAtMs` (null:
   * no opening to come): reported until the returned function is called (once the join is
   * recorded or refused), if it was received before the opening.
   */
  enter(concertId: string, receivedAtMs: number, opensAtMs: number | null): () => void {
    if (opensAtMs === null || !(receivedAtMs < opensAtMs)) return () => {};
    let entering = this.#concerts.get(concertId);
    if (entering === undefined) {
      this.#report(concertId);
      // Renewed while any wait; stopped at the first renewal that finds none (the report then
      // expires), or once the draw's latest bound has passed: a join that never settles (a hung
      // store) then no longer writes a report every second for the life of the process.
      const lastUseful = opensAtMs + this.options.drawWaitMaxMs;
      const timer = setInterval(() => {
        if (this.#concerts.get(concertId)?.count !== 0 && (this.options.now ?? Date.now)() < lastUseful) return this.#report(concertId);
        clearInterval(timer);
        this.#concerts.delete(concertId);
      }, Math.max(1, Math.floor(this.load.enteringFreshMs / 5)));
      timer.unref();
      entering = { count: 0, timer };
      this.#concerts.set(concertId, entering);
    }
    const counted = entering;
    counted.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      counted.count--;
    };
  }

  /** Joins of the concert this instance holds, received before the opening and not yet recorded. */
  waiting(concertId: string): number {
    return this.#concerts.get(concertId)?.count ?? 0;
  }

  close(): void {
    for (const entering of this.#concerts.values()) clearInterval(entering.timer);
    this.#concerts.clear();
  }

  #report(concertId: string): void {
    this.load.reportEntering(concertId).catch((error: unknown) => this.onError(error, `joins entering the lottery of ${concertId}`));
  }
}
