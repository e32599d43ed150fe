/**
 * Group commit: items that arrive while a batch is being handled wait, and go together in the
 * next one. Under load, one round trip serves many requests; when idle, an item goes at once.
 * `handle` settles each item itself and must not throw.
 */
export class Batcher<T> {
  readonly #queue: T[] = [];
  #running = false;

  constructor(private readonly maxBatch: number, private readonly handle: (batch: T[]) => Promise<void>) {}

  push(item: T): void {
    this.#queue.push(item);
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) await this.handle(this.#queue.splice(0, this.maxBatch));
    } finally {
      this.#running = false;
    }
  }
}
