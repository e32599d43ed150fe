import type { EventEmitter } from 'node:events';
import type { AllFilter, AllPage, StreamWrite, SubscribeOptions, Subscription } from '../port.ts';

/** What an append in this process wrote, told with its 'appended' (appends elsewhere tell only a position). */
export type AppendedWrites = readonly StreamWrite[];

export interface PollingOptions {
  /** Reads the next page after a position. */
  readonly readPage: (after: number) => Promise<AllPage>;
  readonly after: number;
  readonly pageSize: number;
  /** How long to rest before looking for events appended by other processes (asked at each rest). */
  readonly pollIntervalMs: () => number;
  /**
   * Emits 'appended' (position, and the writes when they were made in this process) after each
   * append, 'close' when the store closes.
   */
  readonly appended: EventEmitter;
  /** The subscription's filter: an append in this process with no event it passes does not wake it. */
  readonly filter?: AllFilter;
  /** An append in this process whose work is done elsewhere here is passed once it is (SubscribeOptions.handledHere). */
  readonly handledHere?: SubscribeOptions['handledHere'];
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
 *
 * An append in this process with nothing its filter passes is not read: when it follows the
 * subscription's position with nothing in between (positions are gap-free, and its own tell where
 * it starts), the subscription moves past it with a page of no events, as a read would have; when
 * something may lie between (another process's append, told later or never), it reads as before.
 * So is one whose work `handledHere` took on, once that work is done; until then the subscription
 * does not poll (a poll would read it), and if the work fails it reads the append after all.
 */
export function pollingSubscription(options: PollingOptions): Subscription {
  let closed = false;
  let wake: (() => void) | undefined;
  let appendsSeen = 0;
  /** Everything at or before it was read or passed. */
  let position = options.after;
  /** The last position any append has told: each one up to it wakes a read, or is passable. */
  let told = options.after;
  /** Positions from+1..to: appends in this process with nothing the filter passes, one after another. */
  let passable: { from: number; to: number } | undefined;
  /** Appends whose work handledHere took on and has not finished: no poll meanwhile. */
  let handling = 0;
  const read = (): void => {
    appendsSeen++;
    wake?.();
  };
  /**
   * Makes an append this subscription need not read passable. `gap`: positions before it were not
   * told when it was (another process's append may lie there): then it is read all the same, also
   * when it joins a run (one whose work handledHere finished late may join a run of appends told
   * after it, whose own gap check saw it told).
   */
  const pass = (from: number, last: number, gap: boolean): void => {
    if (last <= position) return;
    const run = passable !== undefined && passable.to > position ? passable : undefined;
    if (run !== undefined && from === run.to) run.to = last;
    else if (run !== undefined && last === run.from) run.from = from;
    else {
      passable = { from, to: last };
      // A run given up: read.
      if (run !== undefined) appendsSeen++;
    }
    if (gap) appendsSeen++;
    wake?.();
  };
  const onAppended = (last: number, writes?: AppendedWrites): void => {
    const reached = Math.max(position, told);
    told = Math.max(told, last);
    if (writes === undefined) {
      read();
      return;
    }
    const from = last - writes.reduce((count, write) => count + write.events.length, 0);
    if (!concerns(options.filter, writes)) {
      // A flash sale appends holds and bookings many times a second: a reactor that handles neither
      // reads nothing for them, and a projection is told their position without a read.
      pass(from, last, from > reached);
      return;
    }
    const handled = options.handledHere?.(writes);
    if (handled === undefined) {
      read();
      return;
    }
    handling++;
    handled.then(
      () => {
        handling--;
        pass(from, last, from > reached);
      },
      () => {
        handling--;
        read();
      },
    );
  };
  /** Where the subscription may move without a read (the passable run it has reached), or undefined. */
  const passed = (): number | undefined => {
    const run = passable;
    if (run === undefined || run.from > position) return undefined;
    passable = undefined;
    return run.to > position ? run.to : undefined;
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

  /** Rests until woken (true) or until it is time to poll (false). */
  const sleep = (): Promise<boolean> => new Promise((resolve) => {
    const timer = setTimeout(() => done(false), options.pollIntervalMs());
    function done(woken: boolean): void {
      clearTimeout(timer);
      wake = undefined;
      resolve(woken);
    }
    wake = () => done(true);
  });

  async function* pages(): AsyncGenerator<AllPage> {
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
        if (page.events.length >= options.pageSize) continue;
        while (!closed && appendsSeen === seenBefore) {
          const to = passed();
          if (to !== undefined) {
            position = to;
            yield { events: [], position };
          } else if (!(await sleep()) && handling === 0) break;
        }
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
