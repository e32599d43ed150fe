import type { EventEmitter } from 'node:events';
import type { AllPage, Subscription } from '../port.ts';

export interface PollingOptions {
  /** Reads the next page after a position. */
  readonly readPage: (after: number) => Promise<AllPage>;
  readonly after: number;
  readonly pageSize: number;
  /** How often to look for events appended by other processes. */
  readonly pollIntervalMs: number;
  /** Emits 'appended' after each append in this process, 'close' when the store closes. */
  readonly appended: EventEmitter;
}

/**
 * A subscription as one loop over "read the page after my position": catching up and following
 * live are the same query, so nothing can be lost or repeated at the switch. A page is read only
 * when the consumer asks for the next one. Appends in this process wake it at once; appends by
 * other processes are found by polling.
 */
export function pollingSubscription(options: PollingOptions): Subscription {
  let closed = false;
  let wake: (() => void) | undefined;
  let appendsSeen = 0;
  const onAppended = (): void => {
    appendsSeen++;
    wake?.();
  };
  const onClose = (): void => {
    closed = true;
    wake?.();
  };
  options.appended.on('appended', onAppended);
  options.appended.on('close', onClose);
  const stopListening = (): void => {
    options.appended.off('appended', onAppended);
    options.appended.off('close', onClose);
  };

  const sleep = (): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(done, options.pollIntervalMs);
    function done(): void {
      clearTimeout(timer);
      wake = undefined;
      resolve();
    }
    wake = done;
  });

  async function* pages(): AsyncGenerator<AllPage> {
    let position = options.after;
    try {
      while (!closed) {
        const seenBefore = appendsSeen;
        const page = await options.readPage(position);
        if (closed) return;
        if (page.position > position) {
          position = page.position;
          yield page;
        }
        // A full page means more is waiting; otherwise rest until something is appended.
        if (page.events.length < options.pageSize && appendsSeen === seenBefore) await sleep();
      }
    } finally {
      stopListening();
    }
  }

  const iterator = pages();
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: async () => {
      closed = true;
      wake?.();
      stopListening(); // also when the loop never started, and so has no finally to run
      await iterator.return(undefined);
    },
  };
}
