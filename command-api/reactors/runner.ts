/**
 * Runs a reactor: follow $all from its checkpoint, hand each page of matching events to it, and
 * move the checkpoint once the page is handled. At least once, so handlers are idempotent.
 *
 * A reactor never wedges: when a page fails, its events are handed over one at a time, each tried
 * a bounded number of times with a back-off; one that still fails is parked in the reactor store
 * with the reason, and the events after it are handled. A parked event is retried on request.
 */
import type { AllFilter, EventStore, RecordedEvent, SubscribeOptions } from '../../eventstore/port.ts';
import { Follower } from '../../lib/follow.ts';
import type { ParkedEvent, ReactorStore } from './reactor-store.ts';

export interface Reactor {
  readonly name: string;
  readonly filter: AllFilter;
  /** Handles a page of events; must be idempotent (a page is read again after a failure). */
  handle(events: readonly RecordedEvent[]): Promise<void>;
  /**
   * Appends of this process whose events this reactor would handle, done by something else here
   * as they are written: not read back once done (SubscribeOptions.handledHere).
   */
  readonly handledHere?: SubscribeOptions['handledHere'];
}

export interface RunnerOptions {
  /** Tries of one event, once its page failed, before it is parked (default 5). */
  readonly tries?: number;
  /**
   * The back-off between those tries, doubling up to max (default 500 ms to 30 s: five tries span
   * 7.5 s, so a hiccup of the database is ridden out, not parked); also between reads of $all
   * after a failure (default 250 ms to 30 s).
   */
  readonly backoffMs?: { readonly first: number; readonly max: number };
  readonly now?: () => Date;
}

/** What `reactors:status` shows of one reactor. */
export interface ReactorStatus {
  readonly name: string;
  readonly position: number;
  readonly head_position: number;
  readonly lag: number;
  readonly parked_count: number;
  readonly parked: {
    readonly event_id: string;
    readonly position: number;
    readonly stream: string;
    readonly type: string;
    readonly reason: string;
    readonly tries: number;
    readonly first_failed_at: string;
    readonly last_failed_at: string;
  }[];
}

/** The outcome of retrying one parked event. */
export interface RetryOutcome {
  readonly event_id: string;
  readonly handled: boolean;
  readonly reason?: string;
}

/** Why an event failed, for the parked row: the error's name and first line, trimmed. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const firstLine = text.split('\n', 1)[0] ?? '';
  return firstLine.length > 300 ? `${firstLine.slice(0, 299)}…` : firstLine;
}

/** How long a position past only events a reactor does not handle may wait before it is stored. */
const SKIPPED_SAVE_MS = 1_000;

class Stopped extends Error {
  override readonly name = 'Stopped';
}

export class ReactorRunner {
  readonly #follower: Follower;
  readonly #store: EventStore;
  readonly #reactors: ReactorStore;
  readonly #reactor: Reactor;
  readonly #onError: (error: unknown, reactor: string) => void;
  readonly #tries: number;
  readonly #backoff: { readonly first: number; readonly max: number };
  readonly #now: () => Date;
  #stopped = false;
  /** A position past events this reactor does not handle, not stored yet (see #skipped). */
  #unsaved: { position: number; timer: NodeJS.Timeout } | undefined;
  /** Ends the back-off in progress at once (the runner is stopping). */
  #wake: (() => void) | undefined;

  constructor(
    store: EventStore,
    reactors: ReactorStore,
    reactor: Reactor,
    onError: (error: unknown, reactor: string) => void,
    options: RunnerOptions = {},
  ) {
    this.#store = store;
    this.#reactors = reactors;
    this.#reactor = reactor;
    this.#onError = onError;
    this.#tries = Math.max(1, options.tries ?? 5);
    this.#backoff = options.backoffMs ?? { first: 500, max: 30_000 };
    this.#now = options.now ?? (() => new Date());
    this.#follower = new Follower({
      store,
      filter: reactor.filter,
      batchSize: 200,
      checkpoint: () => reactors.checkpoint(reactor.name),
      handle: async (_after, page) => {
        if (page.events.length === 0) {
          this.#skipped(page.position);
          return true;
        }
        try {
          await reactor.handle(page.events);
        } catch (error) {
          onError(error, reactor.name);
          await this.#oneAtATime(page.events);
        }
        await this.#advance(page.position);
        return true;
      },
      onError: (error) => {
        if (!(error instanceof Stopped)) onError(error, reactor.name);
      },
      backoffMs: options.backoffMs ?? { first: 250, max: 30_000 },
      ...(reactor.handledHere === undefined ? {} : { handledHere: reactor.handledHere }),
    });
  }

  get name(): string {
    return this.#reactor.name;
  }

  start(): void {
    this.#stopped = false;
    this.#follower.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#follower.stop();
    const unsaved = this.#unsaved;
    if (unsaved !== undefined) await this.#advance(unsaved.position).catch((error: unknown) => this.#onError(error, this.#reactor.name));
  }

  /**
   * A page of nothing this reactor handles (every append of the door's scans wakes every reactor):
   * its position is stored at most every SKIPPED_SAVE_MS instead of at once, one write a second
   * rather than one per append. Losing it in a crash only means reading those events again.
   */
  #skipped(position: number): void {
    if (this.#unsaved !== undefined) {
      this.#unsaved.position = position;
      return;
    }
    const timer = setTimeout(() => {
      const unsaved = this.#unsaved;
      if (unsaved !== undefined) void this.#advance(unsaved.position).catch((error: unknown) => this.#onError(error, this.#reactor.name));
    }, SKIPPED_SAVE_MS);
    timer.unref();
    this.#unsaved = { position, timer };
  }

  async #advance(position: number): Promise<void> {
    if (this.#unsaved !== undefined) {
      clearTimeout(this.#unsaved.timer);
      const unsaved = Math.max(this.#unsaved.position, position);
      this.#unsaved = undefined;
      position = unsaved;
    }
    await this.#reactors.advance(this.#reactor.name, position);
  }

  /** Each event of a failed page on its own, in order: tried, and parked when it keeps failing. */
  async #oneAtATime(events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      let backoffMs = this.#backoff.first;
      for (let attempt = 1; ; attempt++) {
        if (this.#stopped) throw new Stopped('the reactor stopped while retrying a page');
        try {
          await this.#reactor.handle([event]);
          break;
        } catch (error) {
          if (attempt >= this.#tries) {
            await this.#reactors.park(this.#reactor.name, event, reasonOf(error), attempt, this.#now().getTime());
            this.#onError(new Error(`parked event ${event.id} (${event.type} at position ${event.position}) after ${attempt} tries: ${reasonOf(error)}`), this.#reactor.name);
            break;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, backoffMs);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = undefined;
          backoffMs = Math.min(backoffMs * 2, this.#backoff.max);
        }
      }
    }
  }

  /** Where the reactor is, and what it parked (the count, and the first `listed` of them). */
  async status(listed = 1_000): Promise<ReactorStatus> {
    const [position, head, parkedCount, parked] = await Promise.all([
      this.#reactors.checkpoint(this.#reactor.name),
      this.#store.headPosition(),
      this.#reactors.parkedCount(this.#reactor.name),
      this.#reactors.parked(this.#reactor.name, listed),
    ]);
    return {
      name: this.#reactor.name,
      position,
      head_position: head,
      lag: Math.max(0, head - position),
      parked_count: parkedCount,
      parked: parked.map(viewOf),
    };
  }

  /**
   * Hands parked events to the reactor again, one try each (all of them, or those named): one
   * handled is no longer parked; one that fails again stays, with the new reason.
   */
  async retry(eventIds?: readonly string[]): Promise<RetryOutcome[]> {
    const wanted = eventIds === undefined ? undefined : new Set(eventIds);
    const parked = (await this.#reactors.parked(this.#reactor.name, Number.MAX_SAFE_INTEGER)).filter((row) => wanted?.has(row.eventId) ?? true);
    const outcomes: RetryOutcome[] = [];
    for (const row of parked) {
      const page = await this.#store.readAll({ after: row.position - 1, maxCount: 1 });
      const event = page.events.find((candidate) => candidate.id === row.eventId);
      try {
        if (event === undefined) throw new Error(`event ${row.eventId} is no longer at position ${row.position}`);
        await this.#reactor.handle([event]);
        await this.#reactors.unpark(this.#reactor.name, row.eventId);
        outcomes.push({ event_id: row.eventId, handled: true });
      } catch (error) {
        const reason = reasonOf(error);
        await this.#reactors.park(this.#reactor.name, { id: row.eventId, position: row.position, stream: row.stream, type: row.type }, reason, 1, this.#now().getTime());
        outcomes.push({ event_id: row.eventId, handled: false, reason });
      }
    }
    return outcomes;
  }
}

function viewOf(row: ParkedEvent): ReactorStatus['parked'][number] {
  return {
    event_id: row.eventId,
    position: row.position,
    stream: row.stream,
    type: row.type,
    reason: row.reason,
    tries: row.tries,
    first_failed_at: row.firstFailedAt,
    last_failed_at: row.lastFailedAt,
  };
}
