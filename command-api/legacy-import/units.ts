/**
 * The importer's command path, made cheap without changing a decision.
 *
 * A row (a user, a booking with its payments) is imported as one unit of work. Inside it the
 * streams it touches are read once (or not at all: a stream found absent when its lane began
 * cannot exist yet, for the importer is its only writer) and then remembered, so each command is
 * decided by the same decider against the same state CommandHandler would have loaded, and its
 * events wait in the unit instead of costing a round trip each. The unit writes what waits in one
 * atomic multi-stream append (one per stream, in the order the streams were first written)
 * before any command goes to the concert's writer and when the row is done: so the concert's
 * inventory never sees a command before the booking's writes that preceded it, and a run killed
 * anywhere leaves what the one-append-at-a-time importer would have left had it been killed
 * between two units' writes. A flush that finds a stream moved (someone else wrote it) stops the
 * run; running again resumes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { CommandContext, DomainEvent, DomainEventShape, Decider } from '../../domain/index.ts';
import type { ConcertCommand } from '../../domain/concert/index.ts';
import { WrongExpectedRevision, type EventStore, type EventToAppend, type ExpectedRevision } from '../../eventstore/port.ts';
import { CommandHandler, toAppend, type Executed, type Loaded } from '../command-handler.ts';
import { ConcertWriter, type ConcertWriterOptions, type Written } from '../concerts/concert-writer.ts';

interface Waiting {
  readonly expected: ExpectedRevision;
  readonly events: EventToAppend[];
}

class Unit {
  /** Streams written in this unit, in the order first written, with what waits for each. */
  readonly waiting = new Map<string, Waiting>();
  /** Streams this unit read or wrote: forgotten when it ends. */
  readonly touched = new Set<string>();
}

export class ImportCommands extends CommandHandler {
  readonly #units = new AsyncLocalStorage<Unit>();
  /** What units know of a stream: its state after the events decided so far (written or waiting). */
  readonly #known = new Map<string, Loaded<unknown>>();
  /** Streams that did not exist when their lane began. */
  readonly #absent = new Set<string>();

  constructor(private readonly importStore: EventStore, private readonly makeId: () => string = randomUUID) {
    super(importStore, makeId);
  }

  /** Marks streams the store does not hold (asked in batches of 500): a unit decides on them without reading. */
  async learnAbsent(streams: readonly string[]): Promise<void> {
    for (let from = 0; from < streams.length; from += 500) {
      const chunk = streams.slice(from, from + 500);
      const revisions = await this.importStore.streamRevisions(chunk);
      for (const stream of chunk) if (!revisions.has(stream) && !this.#known.has(stream)) this.#absent.add(stream);
    }
  }

  /** Runs `work` as one unit: its writes are appended together before each concert command and at its end. */
  async inUnit<T>(work: () => Promise<T>): Promise<T> {
    const unit = new Unit();
    try {
      const result = await this.#units.run(unit, work);
      await this.#flush(unit);
      return result;
    } finally {
      for (const stream of unit.touched) {
        this.#known.delete(stream);
        this.#absent.delete(stream);
      }
    }
  }

  /** Writes what the current unit has waiting (before a command goes elsewhere). */
  async flush(): Promise<void> {
    const unit = this.#units.getStore();
    if (unit !== undefined) await this.#flush(unit);
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

/** The concert writer, with the current unit written before each of its commands. */
export class UnitConcertWriter extends ConcertWriter {
  constructor(store: EventStore, options: ConcertWriterOptions, private readonly commands: ImportCommands) {
    super(store, options);
  }

  override async submit(concertId: string, command: ConcertCommand, context: CommandContext): Promise<Written> {
    await this.commands.flush();
    return super.submit(concertId, command, context);
  }
}
