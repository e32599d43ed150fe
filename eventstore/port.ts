/**
 * The event store port: the write side's source of truth. One interface, one contract suite
 * (contract.ts), adapters in sql/ (MariaDB/MySQL and SQLite through knex) and esdb/ (EventStoreDB).
 *
 * Revisions count the events of one stream from 0; positions order every event of the store and
 * only grow. A reader that has seen position N and asks for what comes after it never misses an
 * event that commits later.
 */

/** The revision the stream must be at: the revision of its last event, or that it must not exist. */
export type ExpectedRevision = number | 'no_stream' | 'any';

export interface EventToAppend {
  /** A UUID chosen by the writer. Appending an id the stream already has again is a no-op. */
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** When the store recorded it (ISO-8601 UTC). */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** The revision of the stream's last event: the expected revision of the next append. */
  readonly nextExpectedRevision: number;
  /** The global position of the last event appended. */
  readonly position: number;
}

export interface ReadStreamOptions {
  readonly direction?: 'forward' | 'backward';
  /** Inclusive. Default: the first event forward, the last event backward. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface AllFilter {
  /** Only events whose stream name starts with one of these. */
  readonly streamPrefixes?: readonly string[];
  /** Only events of these types. */
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. Default 0, the beginning. */
  readonly after?: number;
  readonly maxCount?: number;
  readonly filter?: AllFilter;
}

export interface AllPage {
  /** The matching events, in position order. */
  readonly events: readonly RecordedEvent[];
  /**
   * How far the read looked, counting events the filter left out: resume after it. Equals the
   * position of the last event when the page is full.
   */
  readonly position: number;
}

export interface SubscribeOptions extends Omit<ReadAllOptions, 'maxCount'> {
  /** The most events handed over at once (default 500). */
  readonly batchSize?: number;
  /**
   * Asked about each append made in this process that the filter passes, with the writes as they
   * were given to the store: a promise when something else in this process does the subscriber's
   * work on it. Once that promise resolves (the work is done and durable), the subscription moves
   * past the append without reading it, as it does past an append its filter leaves out; when it
   * rejects, the append is read as usual. It must settle in bounded time: the subscription does
   * not poll while one is pending. A store whose subscriptions do not follow its own appends
   * (EventStoreDB) never asks, and its subscriber reads everything.
   */
  readonly handledHere?: (writes: readonly StreamWrite[]) => Promise<void> | undefined;
}

/**
 * Catches up from `after`, then follows new events live, one page at a time: the next page is
 * read only when the consumer asks for it (backpressure). Ends when closed.
 */
export interface Subscription extends AsyncIterable<AllPage> {
  close(): Promise<void>;
}

export interface Snapshot {
  /** The revision of the last event folded into `data`. */
  readonly revision: number;
  readonly data: unknown;
}

/** One stream's part of an appendMany. */
export interface StreamWrite {
  readonly stream: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
}

export interface EventStore {
  append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * Appends to several streams, each as `append` would, and answers each write on its own: one
   * stream's conflict does not refuse the others. An adapter may commit them together (SQL
   * does, falling back to one at a time when one of them conflicts); none is ever half written.
   */
  appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]>;
  /**
   * Appends to several streams in one transaction: every write lands, or none does and it throws
   * (a conflict in any of them: WritesConflicted). Null, with nothing written, from a store that
   * cannot commit several streams together (EventStoreDB): the caller writes them its own way.
   */
  appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null>;
  /** The current revision of each stream that exists (one read for many streams). */
  streamRevisions(streams: readonly string[]): Promise<Map<string, number>>;
  /** The stream's events, in the direction asked; an empty list when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<AllPage>;
  /** The position of the newest committed event (0 when the store is empty). */
  headPosition(): Promise<number>;
  subscribe(options?: SubscribeOptions): Subscription;
  /** Keeps the newest snapshot of a stream's folded state; an older one never replaces a newer. */
  saveSnapshot(stream: string, snapshot: Snapshot): Promise<void>;
  loadSnapshot(stream: string): Promise<Snapshot | null>;
  /**
   * News that another process appended events up to `position` (over NATS): a store whose
   * subscriptions find new events by polling looks now instead of at its next poll. A store that
   * pushes new events to its subscribers ignores it.
   */
  appendedElsewhere(position: number): void;
  close(): Promise<void>;
}

/** One of an appendAll's writes was not at its expected revision (or its new stream existed): nothing was written. */
export class WritesConflicted extends Error {
  override readonly name = 'WritesConflicted';
}

/** The stream was not at the expected revision: someone else appended first. */
export class WrongExpectedRevision extends Error {
  override readonly name = 'WrongExpectedRevision';

  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`${stream}: expected revision ${String(expected)}, but it is at ${String(actual)}`);
  }
}

/**
 * The write is longer than the store takes in one append (`limit` bytes): nothing was written.
 * EventStoreDB refuses an append of more than its MaxAppendSize (1 MiB by default) of events;
 * the SQL store splits a long append over several statements and refuses only an event that
 * does not fit in one (max_allowed_packet).
 */
export class AppendTooLarge extends Error {
  override readonly name = 'AppendTooLarge';

  constructor(message: string, readonly limit: number) {
    super(message);
  }
}

/** A programming error in what was asked of the store (an empty stream name, a bad id). */
export class InvalidAppend extends Error {
  override readonly name = 'InvalidAppend';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_STREAM_NAME_LENGTH = 255;

/** Checks what every adapter must refuse before touching its driver. */
export function checkAppend(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): void {
  if (stream.length === 0 || stream.length > MAX_STREAM_NAME_LENGTH) {
    throw new InvalidAppend(`a stream name has 1 to ${MAX_STREAM_NAME_LENGTH} characters`);
  }
  if (stream.startsWith('$')) throw new InvalidAppend('stream names starting with $ are reserved');
  if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
    throw new InvalidAppend(`expected revision must be a revision, 'no_stream' or 'any', not ${expected}`);
  }
  if (events.length === 0) throw new InvalidAppend('an append has at least one event');
  const ids = new Set<string>();
  for (const event of events) {
    if (!UUID.test(event.id)) throw new InvalidAppend(`event id ${JSON.stringify(event.id)} is not a UUID`);
    if (ids.has(event.id.toLowerCase())) throw new InvalidAppend(`event id ${event.id} appears twice in one append`);
    ids.add(event.id.toLowerCase());
    if (event.type.length === 0 || event.type.length > 255) throw new InvalidAppend('an event type has 1 to 255 characters');
  }
}
