import type { Logger } from 'pino';

/**
 * How long one closer may take before the next goes ahead without it. Shutdown must end: a
 * client that never answers (a server gone quiet, a promise no one settles) would otherwise hold
 * the process, and a test's teardown, for good.
 */
export const CLOSER_TIME_LIMIT_MS = 10_000;

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

  async close(): Promise<void> {
    for (const { name, close } of this.#closers.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), this.timeLimitMs);
      });
      // A closer that throws before it returns a promise is a failed one too.
      const closed = Promise.resolve().then(close).then(
        () => 'closed' as const,
        (error: unknown) => {
          this.logger.error({ err: error, closer: name }, 'closing failed; closing the rest');
          return 'failed' as const;
        },
      );
      const outcome = await Promise.race([closed, late]);
      clearTimeout(timer);
      if (outcome === 'late') this.logger.error({ closer: name, timeLimitMs: this.timeLimitMs }, 'closing took too long; closing the rest without waiting for it');
    }
  }
}
