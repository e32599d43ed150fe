/**
 * The importer's command path, made cheap without changing a decision.
 *
 * Rows are imported in units of work (a run of users; a run of one concert's bookings with their
 * payments). Inside a unit the streams it touches are read once (or not at all: a stream found
 * absent when its lane began cannot exist yet, for the importer is its only writer) and then
 * remembered, so each command is decided by the same decider against the same state
 * CommandHandler would have loaded. Its events wait in the unit instead of costing a round trip
 * each, and so do the concert writer's appends to a concert stream the unit has claimed (the
 * writer still decides every concert command, in order, on its state in memory). The unit writes
 * everything that waits in ONE atomic multi-stream append (a write per stream, the streams in the
 * order first written, so a hold comes before its booking) when it ends, and before any command to
 * a concert it has not claimed. So a run killed anywhere leaves what the one-append-at-a-time
 * importer would have left had it been killed between two units; a second run and a resume read
 * what is there as before. A write that finds a stream moved (someone else wrote it meanwhile)
 * stops the run; running it again resumes. The store's multi-stream append is one transaction on
 * MariaDB/MySQL and SQLite; on EventStoreDB its writes are separate, so a kill during one unit's
 * write can leave part of it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { CommandContext, DomainEvent, DomainEventShape, Decider } from '../../domain/index.ts';
import { concertStream, type ConcertCommand } from '../../domain/concert/index.ts';
import {
  WrongExpectedRevision,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadStreamOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamWrite,
} from '../../eventstore/port.ts';
import { CommandHandler, toAppend, type Executed, type Loaded } from '../command-handler.ts';
import { ConcertWriter, type ConcertWriterOptions, type Written } from '../concerts/concert-writer.ts';
import { PassThroughStore, appendOneByOne, pickRevisions } from './stores.ts';

interface Waiting {
  readonly expected: ExpectedRevision;
  readonly events: EventToAppend[];
}

class Unit {
  /** Streams written in this unit, in the order first written, with what waits for each. */
  readonly waiting = new Map<string, Waiting>();
  /** Streams this unit read or wrote: forgotten when it ends. */
  readonly touched = new Set<string>();

  /** The stream's revision after what waits for it, or null when nothing waits. */
  revision(stream: string): number | null {
    const waiting = this.waiting.get(stream);
    if (waiting === undefined) return null;
    return (typeof waiting.expected === 'number' ? waiting.expected : -1) + waiting.events.length;
  }
}

/** Not known until the unit is written: after any position the store has given. */
const WAITING_POSITION = Number.MAX_SAFE_INTEGER;

/**
 * The store as the concert writer sees it during the bookings: a concert stream a unit has
 * claimed takes its appends into the unit (written with the unit's other writes, atomically), and
 * reads of it see them; every other stream is the store's.
 */
class UnitStore extends PassThroughStore {
  constructor(inner: EventStore, private readonly claimedBy: (stream: string) => Unit | undefined) {
    super(inner);
  }

  override append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const unit = this.claimedBy(stream);
    if (unit === undefined) return this.inner.append(stream, events, expected);
    const revision = unit.revision(stream);
    // Nothing waiting yet: the expected revision is checked by the store when the unit is written.
    if (revision !== null && expected !== revision) return Promise.reject(new WrongExpectedRevision(stream, expected, revision));
    const waiting = unit.waiting.get(stream);
    if (waiting === undefined) unit.waiting.set(stream, { expected, events: [...events] });
    else waiting.events.push(...events);
    return Promise.resolve({ nextExpectedRevision: unit.revision(stream) ?? -1, position: WAITING_POSITION });
  }

  override appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    if (!writes.some((write) => this.claimedBy(write.stream) !== undefined)) return this.inner.appendMany(writes);
    return appendOneByOne(this, writes);
  }

  /** A claimed stream's appends wait in its unit: those are left to the caller, one by one (null). */
  override async appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null> {
    return writes.some((write) => this.claimedBy(write.stream) !== undefined) ? null : this.inner.appendAll(writes);
  }

  override async streamRevisions(streams: readonly string[]): Promise<Map<string, number>> {
    const revisions = await this.inner.streamRevisions(streams);
    for (const stream of streams) {
      const revision = this.claimedBy(stream)?.revision(stream) ?? null;
      if (revision !== null) revisions.set(stream, revision);
    }
    return revisions;
  }

  override async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const waiting = this.claimedBy(stream)?.waiting.get(stream);
    if (waiting === undefined) return this.inner.readStream(stream, options);
    const first = (typeof waiting.expected === 'number' ? waiting.expected : -1) + 1;
    const recordedAt = new Date().toISOString();
    return pickRevisions([
      ...(await this.inner.readStream(stream)).filter((event) => event.revision < first),
      ...waiting.events.map((event, i) => ({ id: event.id, stream, revision: first + i, position: WAITING_POSITION, type: event.type, data: event.data, metadata: event.metadata, recordedAt })),
    ], options);
  }

  override saveSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    // A snapshot past what is written would outlive a kill: the next writer to load makes its own.
    if (this.claimedBy(stream)?.waiting.has(stream) === true) return Promise.resolve();
    return this.inner.saveSnapshot(stream, snapshot);
  }
}

export class ImportCommands extends CommandHandler {
  readonly #units = new AsyncLocalStorage<Unit>();
  /** What units know of a stream: its state after the events decided so far (written or waiting). */
  readonly #known = new Map<string, Loaded<unknown>>();
  /** Streams that did not exist when their lane began. */
  readonly #absent = new Set<string>();
  /** Concert streams whose appends go into a unit (see UnitStore). */
  readonly #claims = new Map<string, Unit>();
  /** The store the concert writer appends to. */
  readonly writerStore: EventStore;

  constructor(private readonly importStore: EventStore, private readonly makeId: () => string = randomUUID) {
    super(importStore, makeId);
    this.writerStore = new UnitStore(importStore, (stream) => this.#claims.get(stream));
  }

  /** Marks streams the store does not hold (asked in batches of 500): a unit decides on them without reading. */
  async learnAbsent(streams: readonly string[]): Promise<void> {
    for (let from = 0; from < streams.length; from += 500) {
      const chunk = streams.slice(from, from + 500);
      const revisions = await this.importStore.streamRevisions(chunk);
      for (const stream of chunk) if (!revisions.has(stream) && !this.#known.has(stream)) this.#absent.add(stream);
    }
  }

  /**
   * Runs `work` as one unit: its writes are appended together at its end, and before any command
   * to a concert whose stream it has not claimed. `claims`: concert streams only this unit writes
   * while it runs; their events join the unit's write.
   */
  async inUnit<T>(work: () => Promise<T>, claims: readonly string[] = []): Promise<T> {
    const unit = new Unit();
    for (const stream of claims) {
      if (this.#claims.has(stream)) throw new Error(`${stream} is already claimed by another unit`);
      this.#claims.set(stream, unit);
    }
    try {
      const result = await this.#units.run(unit, work);
      await this.#flush(unit);
      return result;
    } finally {
      for (const stream of claims) this.#claims.delete(stream);
      for (const stream of unit.touched) {
        this.#known.delete(stream);
        this.#absent.delete(stream);
      }
    }
  }

  /** Writes what the current unit has waiting before a command to `stream` (a concert's), unless the unit claimed it. */
  async flushBefore(stream: string): Promise<void> {
    const unit = this.#units.getStore();
    if (unit !== undefined && this.#claims.get(stream) !== unit) await this.#flush(unit);
  }

  override async load<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<Loaded<S>> {
    const unit = this.#units.getStore();
    if (unit === undefined) {
      this.#absent.delete(stream);
      return super.load(stream, decider);
    }
    unit.touched.add(stream);
    // Each stream kind has one decider, so a stream's remembered state is of the decider asked.
    const known = this.#known.get(stream) as Loaded<S> | undefined;
    if (known !== undefined) return known;
    const loaded: Loaded<S> = this.#absent.has(stream)
      ? { state: decider.initialState(), revision: 'no_stream', position: 0 }
      : await super.load(stream, decider);
    this.#known.set(stream, loaded);
    return loaded;
  }

  override async execute<C, E extends DomainEvent, S>(
    stream: string,
    decider: Decider<C, E, S>,
    command: C | ((state: S) => C | Promise<C>),
    context: CommandContext,
  ): Promise<Executed<E, S>> {
    const unit = this.#units.getStore();
    if (unit === undefined) {
      this.#absent.delete(stream);
      return super.execute(stream, decider, command, context);
    }
    const loaded = await this.load(stream, decider);
    const decided = decider.decide(typeof command === 'function' ? await (command as (state: S) => C | Promise<C>)(loaded.state) : command, loaded.state);
    if (decided.length === 0) return { ...loaded, events: [] };
    this.#wait(unit, stream, toAppend(decided, context, this.makeId), loaded.revision);
    let state = loaded.state;
    for (const event of decided) state = decider.evolve(state, event);
    // The position is the last one known; the events get theirs when the unit is written.
    const next: Loaded<S> = { state, revision: (typeof loaded.revision === 'number' ? loaded.revision : -1) + decided.length, position: loaded.position };
    this.#known.set(stream, next);
    return { ...next, events: decided };
  }

  /**
   * Appends `events` to a stream that must not exist yet; false when it does (written by an
   * earlier run). In a unit, a stream known absent waits with the unit's other writes.
   */
  async appendOnce(stream: string, events: readonly DomainEventShape[], context: CommandContext): Promise<boolean> {
    const unit = this.#units.getStore();
    if (unit !== undefined && this.#absent.has(stream) && !this.#known.has(stream)) {
      unit.touched.add(stream);
      this.#wait(unit, stream, toAppend(events, context, this.makeId), 'no_stream');
      this.#known.set(stream, { state: null, revision: events.length - 1, position: 0 });
      return true;
    }
    try {
      await this.importStore.append(stream, toAppend(events, context, this.makeId), 'no_stream');
      return true;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
      return false;
    }
  }

  #wait(unit: Unit, stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): void {
    const waiting = unit.waiting.get(stream);
    if (waiting === undefined) unit.waiting.set(stream, { expected, events: [...events] });
    else waiting.events.push(...events);
  }

  async #flush(unit: Unit): Promise<void> {
    if (unit.waiting.size === 0) return;
    const writes = [...unit.waiting].map(([stream, { expected, events }]) => ({ stream, expected, events }));
    unit.waiting.clear();
    try {
      if (writes.length === 1) {
        const [write] = writes as [(typeof writes)[number]];
        await this.importStore.append(write.stream, write.events, write.expected);
        return;
      }
      const outcomes = await this.importStore.appendMany(writes);
      const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } catch (error) {
      for (const { stream } of writes) {
        this.#known.delete(stream);
        this.#absent.delete(stream);
      }
      if (error instanceof WrongExpectedRevision) {
        throw new Error(`import:legacy: ${error.message}; another writer changed a stream this run was writing: run the import again to resume`, { cause: error });
      }
      throw error;
    }
  }
}

/** The concert writer: on the units' store, with the current unit written before a command to a concert it has not claimed. */
export class UnitConcertWriter extends ConcertWriter {
  constructor(options: ConcertWriterOptions, private readonly commands: ImportCommands) {
    super(commands.writerStore, options);
  }

  override async submit(concertId: string, command: ConcertCommand, context: CommandContext): Promise<Written> {
    await this.commands.flushBefore(concertStream(concertId));
    return super.submit(concertId, command, context);
  }
}
