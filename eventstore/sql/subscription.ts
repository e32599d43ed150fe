import type { EventEmitter } from 'node:events';
import type { AllFilter, AllPage, Subscription } from '../port.ts';

/** What an append in this process wrote, told with its 'appended' (appends elsewhere tell only a position). */
export type AppendedWrites = readonly { readonly stream: string; readonly events: readonly { readonly type: string }[] }[];

export interface PollingOptions {
  /** Reads the next page after a position. */
  readonly readPage: (after: number) => Promise<AllPage>;
  readonly after: number;
  readonly pageSize: number;
  /** How often to look for events appended by other processes. */
  readonly pollIntervalMs: number;
  /**
   * Emits 'appended' (position, and the writes when they were made in this process) after each
   * append, 'close' when the store closes.
   */
  readonly appended: EventEmitter;
  /** The subscription's filter: an append in this process with no event it passes does not wake it. */
  readonly filter?: AllFilter;
}

/** Whether an append in this process wrote anything `filter` lets through (unknown writes: yes). */
function concerns(filter: AllFilter | undefined, writes: AppendedWrites | undefined): boolean {
  if (filter === undefined || writes === undefined) return true;
  const { streamPrefixes: prefixes, eventTypes: types } = filter;
  return writes.some(({ stream, events }) => (prefixes === undefined || prefixes.some((prefix) => stream.startsWith(prefix)))
    && (types === undefined || events.some((event) => types.includes(event.type))));
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
  const onAppended = (_position: number, writes?: AppendedWrites): void => {
    // A flash sale appends holds and bookings many times a second: a reactor that handles neither sleeps on.
    if (!concerns(options.filter, writes)) return;
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
