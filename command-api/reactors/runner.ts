/**
 * Runs a reactor: follow $all from its checkpoint, hand each page of matching events to it, and
 * move the checkpoint once the page is handled. At least once: a page whose handling failed is
 * read again after a back-off, so handlers are idempotent.
 */
import type { AllFilter, EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { Follower } from '../../lib/follow.ts';
import type { ReactorStore } from './reactor-store.ts';

export interface Reactor {
  readonly name: string;
  readonly filter: AllFilter;
  /** Handles a page of events; must be idempotent (a page is read again after a failure). */
  handle(events: readonly RecordedEvent[]): Promise<void>;
}

export class ReactorRunner {
  readonly #follower: Follower;

  constructor(
    store: EventStore,
    reactors: ReactorStore,
    reactor: Reactor,
    onError: (error: unknown, reactor: string) => void,
  ) {
    this.#follower = new Follower({
      store,
      filter: reactor.filter,
      batchSize: 200,
      checkpoint: () => reactors.checkpoint(reactor.name),
      handle: async (_after, page) => {
        await reactor.handle(page.events);
        await reactors.advance(reactor.name, page.position);
        return true;
      },
      onError: (error) => onError(error, reactor.name),
      backoffMs: { first: 250, max: 30_000 },
    });
  }

  start(): void {
    this.#follower.start();
  }

  async stop(): Promise<void> {
    await this.#follower.stop();
  }
}
