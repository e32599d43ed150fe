import type { Logger } from 'pino';

/**
 * How long one closer may take before the next goes ahead without it: a safety net so that
 * shutdown ends, not a budget for it (the limit is per closer). A client that never answers (a
 * server gone quiet, a promise no one settles) would otherwise hold the process, and a test's
 * teardown, for good. Longer than any one call a closer waits for (a gateway's 10 s).
 */
export const CLOSER_TIME_LIMIT_MS = 30_000;

/**
 * What a wiring opened, closed in the reverse order it was opened, each by name. A closer that
 * fails or outlives its time is logged, and the rest are closed all the same.
 */
export class Closers {
  readonly #closers: { readonly name: string; readonly close: () => Promise<unknown> }[] = [];

  constructor(private readonly logger: Logger, private readonly timeLimitMs = CLOSER_TIME_LIMIT_MS) {}

  add(name: string, close: () => Promise<unknown>): void {
    this.#closers.push({ name, close });
  }

  /** Closes everything; answers the names of the closers that failed or were given up (none: a clean close). */
  async close(): Promise<string[]> {
    const unclean: string[] = [];
    for (const { name, close } of this.#closers.splice(0).reverse()) {
      let givenUp = false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), this.timeLimitMs);
      });
      // A closer that throws before it returns a promise is a failed one too.
      const closed = Promise.resolve().then(close).then(
        () => {
          if (givenUp) this.logger.warn({ closer: name }, 'closed after all, after its time limit');
          return 'closed' as const;
        },
        (error: unknown) => {
          this.logger.error({ err: error, closer: name }, givenUp ? 'closing failed, after its time limit' : 'closing failed; closing the rest');
          return 'failed' as const;
        },
      );
      const outcome = await Promise.race([closed, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        givenUp = true;
        this.logger.error({ closer: name, timeLimitMs: this.timeLimitMs }, 'closing took too long; closing the rest without waiting for it');
      }
      if (outcome !== 'closed') unclean.push(name);
    }
    return unclean;
  }
}
