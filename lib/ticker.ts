/**
 * Background work done again and again: `work` runs, then waits `intervalMs`, then runs again (never
 * two at once, however long one takes); a failure is told to `onError` and the next round comes
 * anyway. `stop()` resolves once the round in flight has finished.
 */
export class Ticker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    const tick = (): void => {
      this.#running = this.work().then(() => undefined, this.onError).finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.#timer = setTimeout(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
