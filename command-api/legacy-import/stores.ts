/**
 * The event store as the importer sees it: every append counted (the reconciliation says how many
 * events a run appended, 0 on a second run), and for `--dry-run` an overlay that reads the real
 * store and keeps its own appends in memory, so the same decisions are made and nothing is written.
 */
import {
  WrongExpectedRevision,
  type AllPage,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadStreamOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamWrite,
  type Subscription,
} from '../../eventstore/port.ts';

/**
 * An event store that hands every call to another and closes nothing (the store belongs to
 * whoever opened it): the importer's views of the store override only what they change.
 */
export class PassThroughStore implements EventStore {
  constructor(protected readonly inner: EventStore) {}

  append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.inner.append(stream, events, expected);
  }

  appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    return this.inner.appendMany(writes);
  }

  appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null> {
    return this.inner.appendAll(writes);
  }

  streamRevisions(streams: readonly string[]): Promise<Map<string, number>> {
    return this.inner.streamRevisions(streams);
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream, options);
  }

  readAll(options?: Parameters<EventStore['readAll']>[0]): Promise<AllPage> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  subscribe(options?: Parameters<EventStore['subscribe']>[0]): Subscription {
    return this.inner.subscribe(options);
  }

  saveSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    return this.inner.saveSnapshot(stream, snapshot);
  }

  loadSnapshot(stream: string): Promise<Snapshot | null> {
    return this.inner.loadSnapshot(stream);
  }

  appendedElsewhere(position: number): void {
    this.inner.appendedElsewhere(position);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A store's writes one after another through its own `append`, each settled on its own. */
export async function appendOneByOne(store: EventStore, writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
  const outcomes: PromiseSettledResult<AppendResult>[] = [];
  for (const write of writes) {
    try {
      outcomes.push({ status: 'fulfilled', value: await store.append(write.stream, write.events, write.expected) });
    } catch (reason) {
      outcomes.push({ status: 'rejected', reason });
    }
  }
  return outcomes;
}

/** What `readStream` with these options gives of a whole stream's events. */
export function pickRevisions(all: readonly RecordedEvent[], options: ReadStreamOptions): RecordedEvent[] {
  const backward = options.direction === 'backward';
  const from = options.fromRevision ?? (backward ? Number.MAX_SAFE_INTEGER : 0);
  const picked = backward ? all.filter((e) => e.revision <= from).reverse() : all.filter((e) => e.revision >= from);
  return options.maxCount === undefined ? picked : picked.slice(0, options.maxCount);
}

export class CountingStore extends PassThroughStore {
  appended = 0;

  override async append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const result = await this.inner.append(stream, events, expected);
    this.appended += events.length;
    return result;
  }

  override async appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    const outcomes = await this.inner.appendMany(writes);
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') this.appended += writes[i]?.events.length ?? 0;
    });
    return outcomes;
  }

  override async appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null> {
    const results = await this.inner.appendAll(writes);
    if (results !== null) this.appended += writes.reduce((sum, write) => sum + write.events.length, 0);
    return results;
  }
}

/** Reads through to the real store; appends stay here. For `--dry-run`. */
export class DryRunStore extends CountingStore {
  readonly #streams = new Map<string, RecordedEvent[]>();
  #position = 0;

  override async append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const existing = await this.readStream(stream);
    const current = existing.at(-1)?.revision ?? -1;
    if (expected !== 'any' && (expected === 'no_stream' ? current !== -1 : current !== expected)) {
      throw new WrongExpectedRevision(stream, expected, current === -1 ? 'no_stream' : current);
    }
    if (this.#position === 0) this.#position = await this.inner.headPosition();
    const local = this.#streams.get(stream) ?? [];
    let revision = current;
    for (const event of events) {
      revision++;
      this.#position++;
      local.push({ id: event.id, stream, revision, position: this.#position, type: event.type, data: event.data, metadata: event.metadata, recordedAt: new Date().toISOString() });
    }
    this.#streams.set(stream, local);
    this.appended += events.length;
    return { nextExpectedRevision: revision, position: this.#position };
  }

  override appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    return appendOneByOne(this, writes);
  }

  /** Nothing reaches the real store: the caller writes each stream on its own (here). */
  override async appendAll(): Promise<null> {
    return null;
  }

  override async streamRevisions(streams: readonly string[]): Promise<Map<string, number>> {
    const revisions = await this.inner.streamRevisions(streams);
    for (const stream of streams) {
      const last = this.#streams.get(stream)?.at(-1);
      if (last !== undefined) revisions.set(stream, last.revision);
    }
    return revisions;
  }

  override async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return pickRevisions([...(await this.inner.readStream(stream)), ...(this.#streams.get(stream) ?? [])], options);
  }

  override saveSnapshot(): Promise<void> {
    return Promise.resolve();
  }

  override async loadSnapshot(): Promise<Snapshot | null> {
    return null; // the overlay's streams are read whole
  }
}
