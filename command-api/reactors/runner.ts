/**
 * Runs a reactor: follow $all from its checkpoint, hand each page of matching events to it, and
 * move the checkpoint once the page is handled. At least once: a page whose handling failed is
 * read again after a back-off, so handlers are idempotent.
 */
import type { AllFilter, EventStore, RecordedEvent, Subscription } from '../../eventstore/port.ts';
import type { ReactorStore } from './reactor-store.ts';

export interface Reactor {
  readonly name: string;
  readonly filter: AllFilter;
  /** Handles a page of events; must be idempotent (a page is read again after a failure). */
  handle(events: readonly RecordedEvent[]): Promise<void>;
}

export class ReactorRunner {
  #subscription: Subscription | undefined;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly reactors: ReactorStore,
    private readonly reactor: Reactor,
    private readonly onError: (error: unknown, reactor: string) => void,
  ) {}

  start(): void {
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#subscription?.close();
    await this.#done;
  }

  async #run(): Promise<void> {
    let backoffMs = 250;
    while (!this.#stopped) {
      try {
        const after = await this.reactors.checkpoint(this.reactor.name);
        this.#subscription = this.store.subscribe({ after, filter: this.reactor.filter, batchSize: 200 });
        for await (const page of this.#subscription) {
          await this.reactor.handle(page.events);
          await this.reactors.advance(this.reactor.name, page.position);
          backoffMs = 250;
          if (this.#stopped) break;
        }
      } catch (error) {
        if (this.#stopped) return;
        this.onError(error, this.reactor.name);
        await this.#subscription?.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }
  }
}
