/**
 * Follows $all from a checkpoint, a page at a time: the loop under the reactors and the
 * projections. Each resubscription starts from the checkpoint as stored (so a page handled
 * elsewhere is not handled twice); a failure is reported and retried after a back-off that
 * doubles up to a limit.
 */
import type { AllFilter, AllPage, EventStore, SubscribeOptions, Subscription } from '../eventstore/port.ts';

export interface FollowOptions {
  readonly store: EventStore;
  readonly filter: AllFilter;
  readonly batchSize: number;
  /** Where to start; read again at every resubscription. */
  readonly checkpoint: () => Promise<number>;
  /** Handles the page that follows `after`; false: resubscribe from the stored checkpoint. */
  readonly handle: (after: number, page: AllPage) => Promise<boolean>;
  readonly onError: (error: unknown) => Promise<void> | void;
  readonly backoffMs?: { readonly first: number; readonly max: number };
  /** Appends of this process whose work is done elsewhere here: passed without a read once it is (SubscribeOptions.handledHere). */
  readonly handledHere?: SubscribeOptions['handledHere'];
}

export class Follower {
  #subscription: Subscription | undefined;
  #stopped = true;
  #done: Promise<void> = Promise.resolve();

  constructor(private readonly options: FollowOptions) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#done = this.#run();
  }

  /** Stops after the page in hand is handled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#subscription?.close();
    await this.#done;
  }

  async #run(): Promise<void> {
    const { store, filter, batchSize, checkpoint, handle, onError, handledHere } = this.options;
    const { first, max } = this.options.backoffMs ?? { first: 100, max: 10_000 };
    let backoffMs = first;
    while (!this.#stopped) {
      try {
        let after = await checkpoint();
        this.#subscription = store.subscribe({ after, filter, batchSize, ...(handledHere === undefined ? {} : { handledHere }) });
        let resubscribe = false;
        for await (const page of this.#subscription) {
          if (!(await handle(after, page))) {
            resubscribe = true;
            break;
          }
          after = page.position;
          backoffMs = first;
          if (this.#stopped) break;
        }
        await this.#subscription.close();
        if (resubscribe && !this.#stopped) await sleep(backoffMs);
      } catch (error) {
        if (this.#stopped) return;
        await onError(error);
        await this.#subscription?.close().catch(() => undefined);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, max);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
