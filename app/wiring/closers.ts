/** What a wiring opened, closed in the reverse order it was opened; a failing closer does not stop the rest. */
export class Closers {
  readonly #closers: (() => Promise<unknown>)[] = [];

  add(closer: () => Promise<unknown>): void {
    this.#closers.push(closer);
  }

  async close(): Promise<void> {
    for (const closer of this.#closers.splice(0).reverse()) await closer().catch(() => undefined);
  }
}
