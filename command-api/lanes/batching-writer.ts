/**
 * The batching writer: one aggregate's commands per stream, decided in batches and appended in
 * one write. The hot path of a flash sale (ConcertWriter) and of the on-sale minute's waiting room
 * (a queue's joins).
 *
 * Each stream's state lives in memory. Its commands queue up in one in-process lane; the lane
 * takes what has queued, decides the whole batch against the evolving state (each command gets
 * its own events or its own refusal), and appends every event of the batch in ONE write at the
 * expected revision. Thousands of commands a second become a few dozen appends, and no two
 * requests race on the stream.
 *
 * If another instance appended first (WrongExpectedRevision), the lane reloads from the store
 * and decides the same batch again: no answer is given until its batch is committed, so nobody
 * is told "done" for a decision that lost. A full queue is refused at once (503 OVERLOADED)
 * instead of growing without bound.
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext, DomainEvent, Owned, OwningDecider } from '../../domain/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { AppendTooLarge, WritesConflicted, WrongExpectedRevision, type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type StreamWrite } from '../../eventstore/port.ts';
import { AppError } from '../../lib/errors.ts';
import { toAppend } from '../command-handler.ts';

export interface BatchingWriterOptions {
  /** Commands waiting per stream before new ones are refused with 503. */
  readonly queueLimit: number;
  /** Commands decided and appended together at most. */
  readonly maxBatch: number;
  readonly onBackgroundError: (error: unknown, what: string) => void;
  readonly newId?: () => string;
  /** Told the number of commands of each batch decided and appended together (metrics). */
  readonly onBatch?: (commands: number) => void;
  /** Conflicts in a row before a command is refused with the conflict (default 20). */
  readonly maxAttempts?: number;
}

export interface Written<Event> {
  /** What this command decided (empty: nothing to do, e.g. already released). */
  readonly events: readonly Event[];
  /** The position of the last event of the append that carried them (or the stream's last, if none). */
  readonly position: number;
  /**
   * The positions of the streams written with the command's events in the same transaction
   * (companionsOf), in its order; absent when they were not (the caller writes them itself).
   */
  readonly companions?: readonly number[];
}

/** What a command decided: its events, what a read right after them saw, the streams to write with them. */
interface Decided<Event> {
  readonly events: Event[];
  readonly read?: unknown;
  readonly companions: readonly StreamWrite[];
}

type Outcome<Event> = Decided<Event> | { readonly error: unknown };

/** A command's outcome with what `submitThenRead` read right after it. */
export interface WrittenAndRead<Event, T> extends Written<Event> {
  readonly read: T;
}

interface Submitted<Command, Event> {
  readonly kind: 'command';
  readonly command: Command;
  readonly context: CommandContext;
  attempts: number;
  /** Read on the state right after this command's events (submitThenRead). */
  readonly after?: ((state: never) => unknown) | undefined;
  readonly resolve: (written: Written<Event> & { read?: unknown }) => void;
  readonly reject: (error: unknown) => void;
}

interface Reading<State> {
  readonly kind: 'read';
  /** The stream's revision in the store when asked (readCurrent): a lane behind it loads again before reading. */
  readonly current?: number;
  readonly read: (state: State, position: number) => void;
  readonly reject: (error: unknown) => void;
}

export interface Lane<Command, Event, State> {
  /** The committed state; null while a batch has it (or after a failed append: load again). */
  state: Owned<State> | null;
  /** The state is right up to `revision` but the stream has moved on: fold its tail before deciding. */
  behind: boolean;
  revision: ExpectedRevision;
  position: number;
  readonly queue: (Submitted<Command, Event> | Reading<State>)[];
  running: boolean;
  /**
   * Bytes of events at which a batch stops taking commands, once the store refused an append of
   * this lane as too long (AppendTooLarge: EventStoreDB takes 1 MiB of events in one append);
   * undefined until then, and nothing is measured.
   */
  appendBytes: number | undefined;
  /**
   * Commands a batch takes at most: maxBatch, halved with each refusal as too long in a row, so a
   * command the store can never take ends up alone and is refused (the budget above is checked
   * only once a command is decided); maxBatch again once a batch is committed.
   */
  batchLimit: number;
}

/** What a lane's load found: the state, and the revision and position of the last event folded into it. */
export interface Loaded<State> {
  readonly state: Owned<State>;
  readonly revision: ExpectedRevision;
  readonly position: number;
}

/** Conflicts in a row before a command gives up (another writer keeps winning), unless the options say. */
const MAX_ATTEMPTS = 20;

/**
 * After this many conflicts in a row a lane waits a random while (up to 2 ms per conflict, at most
 * 50 ms) before it catches up and decides again: the writer that keeps winning appends again the
 * moment its last append lands, while the loser still has the winner's events to read, so without
 * a pause the loser can lose every race for as long as the winner is busy.
 */
const BACK_OFF_AFTER = 2;

export const overloaded = (): AppError => new AppError('OVERLOADED', 'this concert is busy; retry with the same Idempotency-Key');

export class BatchingWriter<Command, Event extends DomainEvent, State> {
  readonly #lanes = new Map<string, Lane<Command, Event, State>>();
  readonly #newId: () => string;
  readonly #maxAttempts: number;
  #idle: (() => void)[] = [];

  constructor(
    protected readonly store: EventStore,
    protected readonly decider: OwningDecider<Command, Event, State>,
    /** The stream of an aggregate id. */
    private readonly streamOf: (id: string) => string,
    protected readonly options: BatchingWriterOptions,
  ) {
    this.#newId = options.newId ?? randomUUID;
    this.#maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  }

  /** Queues a command for the aggregate; resolves once its batch is committed. */
  submit(id: string, command: Command, context: CommandContext): Promise<Written<Event>> {
    const lane = this.#lane(id);
    if (lane.queue.length >= this.options.queueLimit) return Promise.reject(overloaded());
    return new Promise<Written<Event>>((resolve, reject) => {
      lane.queue.push({ kind: 'command', command, context, attempts: 0, resolve, reject });
      this.#pump(id, lane);
    });
  }

  /**
   * Like `submit`, and reads the state right after the command's events, inside the batch: a
   * separate `read` would end the lane's batch before it (reads see the commands queued ahead of
   * them), so a crowd of submit-then-read requests would be appended one by one. `read` must copy
   * what it keeps (the state changes on) and not change it.
   */
  submitThenRead<T>(id: string, command: Command, context: CommandContext, read: (state: State) => T): Promise<WrittenAndRead<Event, T>> {
    const lane = this.#lane(id);
    if (lane.queue.length >= this.options.queueLimit) return Promise.reject(overloaded());
    return new Promise<WrittenAndRead<Event, T>>((resolve, reject) => {
      lane.queue.push({
        kind: 'command', command, context, attempts: 0, after: read,
        resolve: (written) => resolve({ ...written, read: written.read as T }), reject,
      });
      this.#pump(id, lane);
    });
  }

  /** Commands waiting in one aggregate's queue, or in every one's. */
  queueDepth(id?: string): number {
    if (id !== undefined) return this.#lanes.get(id)?.queue.length ?? 0;
    let depth = 0;
    for (const lane of this.#lanes.values()) depth += lane.queue.length;
    return depth;
  }

  /** Reads the committed state, in line with the aggregate's commands. `read` must not change it. */
  read<T>(id: string, read: (state: State, position: number) => T): Promise<T> {
    const lane = this.#lane(id);
    return new Promise<T>((resolve, reject) => {
      lane.queue.push({ kind: 'read', read: (state, position) => resolve(read(state, position)), reject });
      this.#pump(id, lane);
    });
  }


  /**
   * Reads the state at least as new as the store's stream when asked: a lane that another
   * instance's appends left behind folds them first (read() answers from memory, which only a
   * conflict refreshes). One revision lookup in the store, and a read of the new events if any.
   */
  async readCurrent<T>(id: string, read: (state: State, position: number) => T): Promise<T> {
    const stream = this.streamOf(id);
    const current = (await this.store.streamRevisions([stream])).get(stream);
    const lane = this.#lane(id);
    return new Promise<T>((resolve, reject) => {
      lane.queue.push({ kind: 'read', ...(current === undefined ? {} : { current }), read: (state, position) => resolve(read(state, position)), reject });
      this.#pump(id, lane);
    });
  }

  /** Resolves when every queued command has been answered (graceful shutdown). */
  async drain(): Promise<void> {
    if (![...this.#lanes.values()].every((lane) => !lane.running)) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** The committed states of the lanes in memory, by id (a lane whose batch is running is skipped). */
  protected *committed(): Iterable<[string, State]> {
    for (const [id, lane] of this.#lanes) if (lane.state !== null) yield [id, lane.state];
  }

  /** Whether a lane left idle with this state keeps no memory (an aggregate that does not exist: random ids cost nothing). */
  protected isAbsent(_state: State): boolean {
    return false;
  }

  /** Loads the state from the store: the whole stream folded (ConcertWriter starts from a snapshot). */
  protected async load(stream: string): Promise<Loaded<State>> {
    let state = this.decider.initialState();
    let revision: ExpectedRevision = 'no_stream';
    let position = 0;
    for (const recorded of await this.store.readStream(stream)) {
      state = this.decider.evolve(state, decode(recorded, this.decider.events));
      revision = recorded.revision;
      position = recorded.position;
    }
    return { state, revision, position };
  }

  /**
   * Takes a batch's uncommitted events back out of the state, newest first, after its append lost
   * a race: true when it could (the lane then folds only the stream's new events), false when not
   * (the lane loads afresh). None can by default.
   */
  protected undo(_state: Owned<State>, _events: readonly Event[]): boolean {
    return false;
  }

  /**
   * Streams that a command's events bring into being, written in the same transaction as the
   * batch where the store can (appendAll), else left to the caller: ConcertWriter writes each
   * hold's booking stream so, one commit per batch instead of two. None by default.
   */
  protected companionsOf(_events: readonly Event[], _context: CommandContext, _newId: () => string): StreamWrite[] {
    return [];
  }

  /**
   * The form in which a command's event is stored when its companions are committed in the same
   * transaction (appendAll), where they may carry part of it: ConcertWriter leaves a hold's buyer
   * to the booking stream written with it. Appended alone (a store that cannot, or the joint
   * write failed), the event is stored as decided. The event itself by default.
   */
  protected storedWithCompanions(event: Event): Event {
    return event;
  }

  /**
   * Told the writes of a batch with its companions just before they are appended in one
   * transaction, with the batch's events (ConcertWriter: the holds whose due times are indexed
   * here, not read back). The same array is what the store tells its subscriptions, if it commits.
   */
  protected writingTogether(_writes: readonly StreamWrite[], _events: readonly Event[]): void {}

  /** After a batch is committed (ConcertWriter saves a snapshot now and then). */
  protected committedBatch(_stream: string, _lane: Lane<Command, Event, State>, _state: State): void {}

  #lane(id: string): Lane<Command, Event, State> {
    let lane = this.#lanes.get(id);
    if (lane === undefined) {
      lane = { state: null, behind: false, revision: 'no_stream', position: 0, queue: [], running: false, appendBytes: undefined, batchLimit: this.options.maxBatch };
      this.#lanes.set(id, lane);
    }
    return lane;
  }

  #pump(id: string, lane: Lane<Command, Event, State>): void {
    if (lane.running) return;
    lane.running = true;
    void this.#run(id, lane).finally(() => {
      lane.running = false;
      if (lane.queue.length === 0 && lane.state !== null && this.isAbsent(lane.state)) this.#lanes.delete(id);
      if (lane.queue.length > 0) this.#pump(id, lane);
      else if ([...this.#lanes.values()].every((other) => !other.running)) {
        const waiting = this.#idle;
        this.#idle = [];
        for (const resolve of waiting) resolve();
      }
    });
  }

  async #run(id: string, lane: Lane<Command, Event, State>): Promise<void> {
    const stream = this.streamOf(id);
    while (lane.queue.length > 0) {
      let state: Owned<State>;
      try {
        if (lane.state === null) Object.assign(lane, await this.load(stream), { behind: false });
        else if (lane.behind) await this.#catchUp(stream, lane, lane.state);
        state = lane.state as Owned<State>;
      } catch (error) {
        for (const item of lane.queue.splice(0)) item.reject(error);
        return;
      }
      const first = lane.queue[0] as Submitted<Command, Event> | Reading<State>;
      if (first.kind === 'read') {
        if (first.current !== undefined && (lane.revision === 'no_stream' || (typeof lane.revision === 'number' && lane.revision < first.current))) {
          // Behind the store: fold its new events (the loop's top), then read.
          lane.behind = true;
          continue;
        }
        lane.queue.shift();
        try {
          first.read(state, lane.position);
        } catch (error) {
          first.reject(error);
        }
        continue;
      }
      const batch = this.#takeBatch(lane);
      await this.#decideAndAppend(stream, lane, state, batch);
      const conflicts = lane.queue[0]?.kind === 'command' ? lane.queue[0].attempts : 0;
      if (conflicts >= BACK_OFF_AFTER) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * conflicts)));
    }
  }

  /** Folds the events appended after the lane's revision (by another instance) into its state. */
  async #catchUp(stream: string, lane: Lane<Command, Event, State>, behind: Owned<State>): Promise<void> {
    // Until the tail is folded the state is nobody's: a failed read leaves the lane to load afresh.
    lane.state = null;
    let state = behind;
    const tail = await this.store.readStream(stream, { fromRevision: typeof lane.revision === 'number' ? lane.revision + 1 : 0 });
    for (const recorded of tail) {
      state = this.decider.evolve(state, decode(recorded, this.decider.events));
      lane.revision = recorded.revision;
      lane.position = recorded.position;
    }
    lane.state = state;
    lane.behind = false;
  }

  /** A command's companions; one that cannot be made is left to the caller (it writes the stream itself, and meets the error there). */
  #companions(events: readonly Event[], context: CommandContext): readonly StreamWrite[] {
    if (events.length === 0) return [];
    try {
      return this.companionsOf(events, context, this.#newId);
    } catch (error) {
      this.options.onBackgroundError(error, 'streams written with a batch');
      return [];
    }
  }

  /**
   * The batch and its commands' companions in one transaction: the results, the batch's first.
   * Null when there are none, when the store cannot, or when the transaction failed (a conflict,
   * a stream that exists, or anything else): then the batch is appended alone, as if there were
   * none, and that append tells what happened (it finds its own events if the failure was only
   * in the answer); the companions are left to the caller.
   */
  async #appendTogether(stream: string, together: readonly EventToAppend[], expected: ExpectedRevision, outcomes: readonly Outcome<Event>[]): Promise<AppendResult[] | null> {
    const companions = outcomes.flatMap((outcome) => ('companions' in outcome ? outcome.companions : []));
    if (companions.length === 0) return null;
    const writes = [{ stream, events: together, expected }, ...companions];
    this.writingTogether(writes, outcomes.flatMap((outcome) => ('events' in outcome ? outcome.events : [])));
    return this.store.appendAll(writes).catch((error: unknown) => {
      // A conflict is the store's ordinary answer; anything else (a packet too big, a bug) would
      // otherwise turn every batch into two commits unseen.
      // Too long for the store (an event that fits in no statement) is met again, and answered, by the append alone.
      if (!(error instanceof WritesConflicted) && !(error instanceof AppendTooLarge)) this.options.onBackgroundError(error, 'a batch written with its companions (written apart instead)');
      return null;
    });
  }

  /** An event's envelope in the form stored with its companions: the same id and metadata. */
  #storedTogether(envelope: EventToAppend, event: Event): EventToAppend {
    const stored = this.storedWithCompanions(event);
    return stored === event ? envelope : { ...envelope, data: stored.data };
  }

  /** Consecutive commands from the front of the queue, stopping before a read. */
  #takeBatch(lane: Lane<Command, Event, State>): Submitted<Command, Event>[] {
    const batch: Submitted<Command, Event>[] = [];
    while (batch.length < Math.min(lane.batchLimit, this.options.maxBatch)) {
      const next = lane.queue[0];
      if (next?.kind !== 'command') break;
      batch.push(next);
      lane.queue.shift();
    }
    return batch;
  }

  async #decideAndAppend(stream: string, lane: Lane<Command, Event, State>, committed: Owned<State>, batch: Submitted<Command, Event>[]): Promise<void> {
    // The batch takes the lane's state over (evolve changes it in place) and gives it back only
    // once its events are committed; each command is decided against what the ones before it left.
    lane.state = null;
    let state = committed;
    const outcomes: Outcome<Event>[] = [];
    const envelopes: EventToAppend[] = [];
    /** The same events (ids included) as stored when the companions go with them (storedWithCompanions). */
    const together: EventToAppend[] = [];
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as Submitted<Command, Event>;
      try {
        const events = this.decider.decide(item.command, state);
        for (const event of events) state = this.decider.evolve(state, event);
        const appended = toAppend(events, item.context, this.#newId);
        envelopes.push(...appended);
        const companions = this.#companions(events, item.context);
        together.push(...(companions.length === 0 ? appended : appended.map((envelope, k) => this.#storedTogether(envelope, events[k] as Event))));
        outcomes.push(item.after === undefined ? { events, companions } : { events, companions, read: readAfter(item.after as (state: State) => unknown, state) });
        // A lane whose appends the store found too long ends its batch at the size it takes; the rest wait, in order, for the next.
        if (lane.appendBytes !== undefined && (bytes += bytesOf(appended)) >= lane.appendBytes) lane.queue.unshift(...batch.splice(i + 1));
      } catch (error) {
        outcomes.push({ error });
      }
    }
    this.options.onBatch?.(batch.length);
    if (envelopes.length === 0) {
      // Nothing to append, so no expected revision catches a stale state: a refusal decided on it
      // (another instance held the seats this one is asked to sell) is only an answer once the
      // stream is known not to have moved. Else reload and decide again, as after a conflict.
      const current = (await this.store.streamRevisions([stream])).get(stream) ?? 'no_stream';
      if (current !== lane.revision) {
        // Nothing was folded: the state is the committed one, behind the stream.
        lane.state = state;
        lane.behind = true;
        const again = batch.filter((item) => ++item.attempts < this.#maxAttempts);
        // Out of tries: every command is answered, a refusal with its refusal, a no-op as busy (never left hanging).
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (item.attempts >= this.#maxAttempts) item.reject(outcome !== undefined && 'error' in outcome ? outcome.error : overloaded());
        });
        lane.queue.unshift(...again);
        return;
      }
      lane.state = state;
      settle(batch, outcomes, lane.position);
      return;
    }
    try {
      const joint = await this.#appendTogether(stream, together, lane.revision, outcomes);
      const result = joint?.[0] ?? await this.store.append(stream, envelopes, lane.revision);
      lane.state = state;
      lane.revision = result.nextExpectedRevision;
      lane.position = result.position;
      lane.batchLimit = this.options.maxBatch;
      settle(batch, outcomes, result.position, joint?.slice(1));
      this.committedBatch(stream, lane, state);
    } catch (error) {
      // The state holds decisions that were not committed: the lane stays without one and loads again.
      const uncommitted = () => {
        if (this.undo(state, outcomes.flatMap((outcome) => ('events' in outcome ? outcome.events : [])))) {
          lane.state = state;
          lane.behind = true;
        }
      };
      if (error instanceof AppendTooLarge && batch.length > 1) {
        // More than the store takes in one append (EventStoreDB: 1 MiB of events, a few hundred
        // holds with their sealed holders): nothing was written. The same commands go again, in
        // batches that end a tenth short of the store's limit (or of this batch, if it was not
        // over the limit as measured here) and hold half as many commands at most; no attempt is
        // counted, no answer changes.
        uncommitted();
        const measured = bytesOf(envelopes);
        lane.appendBytes = Math.floor(0.9 * (Number.isFinite(error.limit) && error.limit > 0 ? Math.min(error.limit, measured) : measured));
        lane.batchLimit = Math.ceil(batch.length / 2);
        lane.queue.unshift(...batch);
        return;
      }
      if (error instanceof WrongExpectedRevision) {
        // Someone else appended: catch up (or reload) and decide the same commands again, refusals included.
        uncommitted();
        const again = batch.filter((item) => ++item.attempts < this.#maxAttempts);
        // Out of tries (another writer kept winning): busy, retry later (503), not a failure (500).
        for (const item of batch) if (item.attempts >= this.#maxAttempts) item.reject(overloaded());
        lane.queue.unshift(...again);
        return;
      }
      for (const item of batch) item.reject(error);
    }
  }
}

/** What a store counts of an event besides its data and metadata (EventStoreDB: its id, type and content type). */
const EVENT_ENVELOPE_BYTES = 128;

/** The events' size as a store counts it against its append limit: their data and metadata as UTF-8 JSON, and each one's envelope. */
function bytesOf(events: readonly EventToAppend[]): number {
  let bytes = 0;
  for (const event of events) bytes += Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata)) + EVENT_ENVELOPE_BYTES;
  return bytes;
}

/** What a read after a command answered, or what it threw (the command's events stand: they are appended). */
function readAfter<State>(read: (state: State) => unknown, state: State): unknown {
  try {
    return read(state);
  } catch (error) {
    return new FailedRead(error);
  }
}

class FailedRead {
  constructor(readonly error: unknown) {}
}

/**
 * Answers each command of a committed batch. `companions`: the results of the streams written
 * with the batch, in the order of the outcomes' companions (absent: they were not written).
 */
function settle<Command, Event>(batch: readonly Submitted<Command, Event>[], outcomes: readonly Outcome<Event>[], position: number, companions?: readonly AppendResult[]): void {
  let next = 0;
  batch.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) return item.reject(new Error('no outcome for a command'));
    if ('error' in outcome) return item.reject(outcome.error);
    const written = companions?.slice(next, next += outcome.companions.length).map((result) => result.position);
    if (outcome.read instanceof FailedRead) item.reject(outcome.read.error);
    else item.resolve({ events: outcome.events, position, read: outcome.read, ...(written === undefined || written.length === 0 ? {} : { companions: written }) });
  });
}
