/**
 * The event store on EventStoreDB, the production default. Thin on purpose: EventStoreDB already
 * does optimistic concurrency, idempotent appends by event id, ordered $all reads and catch-up
 * subscriptions; this maps them to the port.
 *
 * - Our revision is EventStoreDB's stream revision; our position is the commit position in its
 *   transaction log (it only grows, but has gaps: it counts bytes, not events).
 * - Subscriptions filter on the server (stream name prefixes, or exact event types) and report
 *   progress past filtered-out events through checkpoints.
 * - Snapshots live in a stream of their own per stream, `snapshot-v2-<stream>`, in pieces when
 *   they are longer than one append takes (snapshots.ts); reads of $all leave snapshot streams
 *   (any stream named `snapshot-…`) and system events out. The first format's streams
 *   (`snapshot-<stream>`, one event each) are not read: no release ever loaded them back.
 *
 * Its contract spec runs only when EVENTSTORE_URL is set (no EventStoreDB server on the build
 * machines).
 */
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Filter,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  AppendTooLarge,
  WritesConflicted,
  WrongExpectedRevision,
  checkAppend,
  type AllFilter,
  type AllPage,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamWrite,
  type SubscribeOptions,
  type Subscription,
} from '../port.ts';
import { loadSnapshot, saveSnapshot, type SnapshotStream, type SnapshotStreamEvent } from './snapshots.ts';

const SNAPSHOT_PREFIX = 'snapshot-';

export class EsdbEventStore implements EventStore {
  readonly #client: EventStoreDBClient;

  private constructor(client: EventStoreDBClient) {
    this.#client = client;
  }

  /** `esdb://host:2113?tls=false` */
  static connect(url: string): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(url));
  }

  async append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    checkAppend(stream, events, expected);
    try {
      const result = await this.#client.appendToStream(
        stream,
        events.map((event) => jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata: event.metadata })),
        { expectedRevision: expected === 'no_stream' ? NO_STREAM : expected === 'any' ? ANY : BigInt(expected) },
      );
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position: Number(result.position?.commit ?? 0n) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new WrongExpectedRevision(stream, expected, typeof actual === 'bigint' ? Number(actual) : 'no_stream');
      }
      // Its events together are over the server's MaxAppendSize (1 MiB by default): nothing was written.
      if (error instanceof MaxAppendSizeExceededError) throw new AppendTooLarge(`${stream}: ${events.length} events are more than EventStoreDB takes in one append (${error.maxAppendSize} bytes)`, error.maxAppendSize);
      throw error;
    }
  }

  /** EventStoreDB has no transaction across streams: each write is its own append. */
  async appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    return Promise.allSettled(writes.map((write) => this.append(write.stream, write.events, write.expected)));
  }

  /** No transaction across streams here: one write is an append, several are left to the caller (null). */
  async appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null> {
    const [only] = writes;
    if (only === undefined || writes.length > 1) return null;
    try {
      return [await this.append(only.stream, only.events, only.expected)];
    } catch (error) {
      if (error instanceof WrongExpectedRevision) throw new WritesConflicted(error.message);
      throw error;
    }
  }

  async streamRevisions(streams: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    await Promise.all(streams.map(async (stream) => {
      const [last] = await this.readStream(stream, { direction: 'backward', maxCount: 1 });
      if (last !== undefined) found.set(stream, last.revision);
    }));
    return found;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.#client.readStream(stream, {
        direction: backward ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backward ? END : START,
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      })) {
        const recorded = toRecorded(resolved);
        if (recorded) events.push(recorded);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<AllPage> {
    const after = options.after ?? 0;
    const maxCount = options.maxCount ?? 1_000;
    const events: RecordedEvent[] = [];
    let position = after;
    // $all reads take no filter in this client: the filter applies here, the read goes on.
    for await (const resolved of this.#client.readAll({ fromPosition: after === 0 ? START : at(after), maxCount: maxCount * 4 })) {
      const commit = Number(resolved.event?.position.commit ?? 0n);
      if (commit <= after) continue;
      position = commit;
      const recorded = toRecorded(resolved);
      if (recorded && matches(recorded, options.filter)) events.push(recorded);
      if (events.length === maxCount) break;
    }
    return { events, position };
  }

  async headPosition(): Promise<number> {
    for await (const resolved of this.#client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1_000 })) {
      if (toRecorded(resolved)) return Number(resolved.event?.position.commit ?? 0n);
    }
    return 0;
  }

  /** EventStoreDB pushes new events to its subscribers: nothing to do. */
  appendedElsewhere(): void {}

  subscribe(options: SubscribeOptions = {}): Subscription {
    const batchSize = options.batchSize ?? 500;
    let checkpoint: number | null = null;
    const filter = serverFilter(options.filter, (position) => {
      checkpoint = Number(position.commit);
    });
    const subscription = this.#client.subscribeToAll({
      fromPosition: options.after ? at(options.after) : START,
      ...(filter ? { filter } : {}),
    });
    const iterator = subscription[Symbol.asyncIterator]() as AsyncIterator<AllStreamResolvedEvent>;
    async function* pages(): AsyncGenerator<AllPage> {
      let last = options.after ?? 0;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const events: RecordedEvent[] = [];
        let resolved: AllStreamResolvedEvent | undefined = next.value;
        // Hand over what has already arrived, up to a page, without waiting for more.
        while (resolved) {
          last = Math.max(last, Number(resolved.event?.position.commit ?? 0n));
          const recorded = toRecorded(resolved);
          if (recorded && matches(recorded, options.filter)) events.push(recorded);
          if (events.length >= batchSize || subscription.readableLength === 0) break;
          const more = await iterator.next();
          resolved = more.done ? undefined : more.value;
        }
        if (checkpoint !== null) last = Math.max(last, checkpoint);
        yield { events, position: last };
      }
    }
    const generator = pages();
    return {
      [Symbol.asyncIterator]: () => generator,
      close: async () => {
        await subscription.unsubscribe();
        await generator.return(undefined);
      },
    };
  }

  async saveSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    await saveSnapshot(this.#snapshotStream(stream), snapshot);
  }

  async loadSnapshot(stream: string): Promise<Snapshot | null> {
    return loadSnapshot(this.#snapshotStream(stream));
  }

  /** The stream of `stream`'s snapshots, read raw: readStream leaves every snapshot stream's events out. */
  #snapshotStream(stream: string): SnapshotStream {
    const client = this.#client;
    const name = `${SNAPSHOT_PREFIX}v2-${stream}`;
    return {
      async append(type, data, expected) {
        try {
          const result = await client.appendToStream(name, jsonEvent({ type, data }), { expectedRevision: expected === 'no_stream' ? NO_STREAM : BigInt(expected) });
          return Number(result.nextExpectedRevision);
        } catch (error) {
          if (error instanceof WrongExpectedVersionError) return false;
          throw error;
        }
      },
      async readBackward(count, from) {
        const events: SnapshotStreamEvent[] = [];
        try {
          for await (const { event } of client.readStream(name, { direction: BACKWARDS, fromRevision: from === undefined ? END : BigInt(from), maxCount: count })) {
            if (event?.isJson) events.push({ revision: Number(event.revision), type: event.type, data: event.data });
          }
        } catch (error) {
          if (error instanceof StreamNotFoundError) return [];
          throw error;
        }
        return events;
      },
      async truncateBefore(revision) {
        await client.setStreamMetadata(name, { truncateBefore: revision });
      },
    };
  }

  async close(): Promise<void> {
    await this.#client.dispose();
  }
}

function at(position: number): Position {
  return { commit: BigInt(position), prepare: BigInt(position) };
}

/** Our view of a resolved event; undefined for system events and snapshot streams. */
function toRecorded(resolved: ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event?.isJson || event.type.startsWith('$') || event.streamId.startsWith('$') || event.streamId.startsWith(SNAPSHOT_PREFIX)) {
    return undefined;
  }
  return {
    id: event.id,
    stream: event.streamId,
    revision: Number(event.revision),
    position: Number(event.position?.commit ?? 0n),
    type: event.type,
    data: event.data,
    metadata: (event.metadata ?? {}) as Record<string, unknown>,
    recordedAt: event.created.toISOString(),
  };
}

function matches(event: RecordedEvent, filter: AllFilter | undefined): boolean {
  if (filter?.streamPrefixes && !filter.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) return false;
  if (filter?.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  return true;
}

/** The server filters on one thing: stream prefixes if asked, else exact event types. */
function serverFilter(filter: AllFilter | undefined, onCheckpoint: (position: Position) => void): Filter | undefined {
  const checkpoint = { checkpointInterval: 1, checkpointReached: (_: unknown, position: Position) => onCheckpoint(position) };
  if (filter?.streamPrefixes) return streamNameFilter({ prefixes: [...filter.streamPrefixes], ...checkpoint });
  if (filter?.eventTypes) {
    const regex = `^(${filter.eventTypes.map((type) => type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
    return eventTypeFilter({ regex, ...checkpoint });
  }
  return undefined;
}
