/**
 * The per-concert batching writer: the hot path of a flash sale.
 *
 * Each concert's inventory lives in memory (loaded from a snapshot plus the stream's tail). Its
 * commands queue up in one in-process lane; the lane takes what has queued, decides the whole
 * batch against the evolving state (each command gets its own events or its own refusal), and
 * appends every event of the batch in ONE write at the expected revision. Thousands of bookings
 * a second become a few dozen appends, and no two requests race on the stream.
 *
 * If another instance appended first (WrongExpectedRevision), the lane reloads from the store
 * and decides the same batch again: no answer is given until its batch is committed, so nobody
 * is told "booked" for a decision that lost. A full queue is refused at once (503 OVERLOADED)
 * instead of growing without bound.
 */
import { randomUUID } from 'node:crypto';
import { type CommandContext, type Owned, type OwningDecider } from '../../domain/index.ts';
import {
  concertDecider,
  concertStream,
  fromSnapshot,
  isCurrentSnapshot,
  seatIdPrefix,
  toSnapshot,
  type ConcertCommand,
  type ConcertEvent,
  type ConcertSnapshot,
  type ConcertState,
} from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { WrongExpectedRevision, type EventStore, type EventToAppend, type ExpectedRevision } from '../../eventstore/port.ts';
import { AppError } from '../../lib/errors.ts';
import { toAppend } from '../command-handler.ts';

export interface ConcertWriterOptions {
  /** Commands waiting per concert before new ones are refused with 503. */
  readonly queueLimit: number;
  /** Commands decided and appended together at most. */
  readonly maxBatch: number;
  /**
   * A snapshot is saved once this many events followed the last one (DEFAULT_SNAPSHOT_EVERY), and
   * at least as many as the state has holds, up to SNAPSHOT_SPACING_CAP: a big sale's snapshot,
   * which costs about as much to build as its holds, is paid for by as many events, while a
   * reload after a conflict (snapshot and tail) never folds more than that cap's worth of tail.
   */
  readonly snapshotEvery: number;
  /** How long drain() waits for snapshots still being saved before it goes on without them (DRAIN_SNAPSHOT_WAIT_MS). */
  readonly drainSnapshotWaitMs?: number;
  readonly onBackgroundError: (error: unknown, what: string) => void;
  readonly newId?: () => string;
  /** Told the number of commands of each batch decided and appended together (metrics). */
  readonly onBatch?: (commands: number) => void;
  /** The concert decider (a spec may give one whose evolve copies, as a pure one would). */
  readonly decider?: OwningDecider<ConcertCommand, ConcertEvent, ConcertState>;
}

export interface Written {
  /** What this command decided (empty: nothing to do, e.g. already released). */
  readonly events: readonly ConcertEvent[];
  /** The position of the last event of the append that carried them (or the stream's last, if none). */
  readonly position: number;
}

interface Submitted {
  readonly kind: 'command';
  readonly command: ConcertCommand;
  readonly context: CommandContext;
  attempts: number;
  readonly resolve: (written: Written) => void;
  readonly reject: (error: unknown) => void;
}

interface Reading {
  readonly kind: 'read';
  readonly read: (state: ConcertState, position: number) => void;
  readonly reject: (error: unknown) => void;
}

type Item = Submitted | Reading;

interface Lane {
  /** The committed state; null while a batch has it (or after a failed append: load again). */
  state: Owned<ConcertState> | null;
  revision: ExpectedRevision;
  position: number;
  snapshotRevision: number;
  /** The snapshot being saved: the next waits for it (the state moves on meanwhile). */
  saving: Promise<void> | null;
  readonly queue: Item[];
  running: boolean;
}

interface SnapshotData {
  readonly position: number;
  readonly concert: ConcertSnapshot;
}

/**
 * A cold load folds at most about this many events after the snapshot: a few milliseconds, as
 * much as reading the snapshot of a concert with nothing held.
 */
export const DEFAULT_SNAPSHOT_EVERY = 500;

/**
 * The most events between two snapshots that the holds' count may ask for: sold holds never
 * leave the state, so a concert with 25,000 sold seats would otherwise snapshot only every
 * 25,000 events, and each conflict's reload fold as long a tail.
 */
export const SNAPSHOT_SPACING_CAP = 10_000;

/** drain() waits this long for snapshots being saved: a hung save does not hang shutdown (the next load folds a longer tail). */
export const DRAIN_SNAPSHOT_WAIT_MS = 5_000;

/** Conflicts in a row before a command gives up (another writer keeps winning). */
const MAX_ATTEMPTS = 20;

export const overloaded = (): AppError => new AppError('OVERLOADED', 'this concert is busy; retry with the same Idempotency-Key');

export class ConcertWriter {
  readonly #lanes = new Map<string, Lane>();
  readonly #newId: () => string;
  readonly #decider: OwningDecider<ConcertCommand, ConcertEvent, ConcertState>;
  #idle: (() => void)[] = [];

  constructor(private readonly store: EventStore, private readonly options: ConcertWriterOptions) {
    this.#newId = options.newId ?? randomUUID;
    this.#decider = options.decider ?? concertDecider;
  }

  /** Queues a command for the concert; resolves once its batch is committed. */
  submit(concertId: string, command: ConcertCommand, context: CommandContext): Promise<Written> {
    const lane = this.#lane(concertId);
    if (lane.queue.length >= this.options.queueLimit) return Promise.reject(overloaded());
    return new Promise<Written>((resolve, reject) => {
      lane.queue.push({ kind: 'command', command, context, attempts: 0, resolve, reject });
      this.#pump(concertId, lane);
    });
  }

  /** Commands waiting in every concert's queue. */
  queueDepth(): number {
    let depth = 0;
    for (const lane of this.#lanes.values()) depth += lane.queue.length;
    return depth;
  }

  /**
   * The concert a seat (a ticket) belongs to, among the concerts this instance holds in memory:
   * a seat id begins with its class's id, and each concert knows its classes. Null when none of them has it.
   */
  concertOfSeat(seatId: string): string | null {
    const prefix = seatIdPrefix(seatId);
    for (const [concertId, lane] of this.#lanes) if (lane.state?.classByPrefix.has(prefix) === true) return concertId;
    return null;
  }

  /** Reads the committed state, in line with the concert's commands. `read` must not change it. */
  read<T>(concertId: string, read: (state: ConcertState, position: number) => T): Promise<T> {
    const lane = this.#lane(concertId);
    return new Promise<T>((resolve, reject) => {
      lane.queue.push({ kind: 'read', read: (state, position) => resolve(read(state, position)), reject });
      this.#pump(concertId, lane);
    });
  }

  /** Resolves when every queued command has been answered (graceful shutdown). */
  async drain(): Promise<void> {
    if (![...this.#lanes.values()].every((lane) => !lane.running)) await new Promise<void>((resolve) => this.#idle.push(resolve));
    // A snapshot still being saved is finished too: the next instance loads it, not an older one.
    // Not for ever: a hung save is reported and left behind.
    const saving = [...this.#lanes.values()].flatMap((lane) => (lane.saving === null ? [] : [lane.saving]));
    if (saving.length === 0) return;
    const waitMs = this.options.drainSnapshotWaitMs ?? DRAIN_SNAPSHOT_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const saved = await Promise.race([
      Promise.all(saving).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!saved) this.options.onBackgroundError(new Error(`${saving.length} snapshot save(s) still running after ${waitMs} ms: drained without them`), 'snapshots at drain');
  }

  #lane(concertId: string): Lane {
    let lane = this.#lanes.get(concertId);
    if (lane === undefined) {
      lane = { state: null, revision: 'no_stream', position: 0, snapshotRevision: -1, saving: null, queue: [], running: false };
      this.#lanes.set(concertId, lane);
    }
    return lane;
  }

  #pump(concertId: string, lane: Lane): void {
    if (lane.running) return;
    lane.running = true;
    void this.#run(concertId, lane).finally(() => {
      lane.running = false;
      // A concert that does not exist keeps no memory (random ids cost nothing).
      if (lane.queue.length === 0 && lane.state?.status === 'unscheduled') this.#lanes.delete(concertId);
      if (lane.queue.length > 0) this.#pump(concertId, lane);
      else if ([...this.#lanes.values()].every((other) => !other.running)) {
        const waiting = this.#idle;
        this.#idle = [];
        for (const resolve of waiting) resolve();
      }
    });
  }

  async #run(concertId: string, lane: Lane): Promise<void> {
    const stream = concertStream(concertId);
    while (lane.queue.length > 0) {
      let state: Owned<ConcertState>;
      try {
        state = lane.state ?? (await this.#load(stream, lane));
      } catch (error) {
        for (const item of lane.queue.splice(0)) item.reject(error);
        return;
      }
      const first = lane.queue[0] as Item;
      if (first.kind === 'read') {
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
    }
  }

  /** Consecutive commands from the front of the queue, stopping before a read. */
  #takeBatch(lane: Lane): Submitted[] {
    const batch: Submitted[] = [];
    while (batch.length < this.options.maxBatch) {
      const next = lane.queue[0];
      if (next?.kind !== 'command') break;
      batch.push(next);
      lane.queue.shift();
    }
    return batch;
  }

  async #decideAndAppend(stream: string, lane: Lane, committed: Owned<ConcertState>, batch: Submitted[]): Promise<void> {
    // The batch takes the lane's state over (evolve changes it in place) and gives it back only
    // once its events are committed; each command is decided against what the ones before it left.
    lane.state = null;
    let state = committed;
    const outcomes: ({ events: ConcertEvent[] } | { error: unknown })[] = [];
    const envelopes: EventToAppend[] = [];
    for (const item of batch) {
      try {
        const events = this.#decider.decide(item.command, state);
        for (const event of events) state = this.#decider.evolve(state, event);
        outcomes.push({ events });
        envelopes.push(...toAppend(events, item.context, this.#newId));
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
        const again = batch.filter((item) => ++item.attempts < MAX_ATTEMPTS);
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (item.attempts >= MAX_ATTEMPTS && outcome !== undefined && 'error' in outcome) item.reject(outcome.error);
        });
        lane.queue.unshift(...again);
        return;
      }
      lane.state = state;
      settle(batch, outcomes, lane.position);
      return;
    }
    try {
      const result = await this.store.append(stream, envelopes, lane.revision);
      lane.state = state;
      lane.revision = result.nextExpectedRevision;
      lane.position = result.position;
      settle(batch, outcomes, result.position);
      this.#maybeSnapshot(stream, lane, state);
    } catch (error) {
      // The state holds decisions that were not committed: the lane stays without one and loads again.
      if (error instanceof WrongExpectedRevision) {
        // Someone else appended: reload and decide the same commands again, refusals included.
        const again = batch.filter((item) => ++item.attempts < MAX_ATTEMPTS);
        for (const item of batch) if (item.attempts >= MAX_ATTEMPTS) item.reject(error);
        lane.queue.unshift(...again);
        return;
      }
      for (const item of batch) item.reject(error);
    }
  }

  async #load(stream: string, lane: Lane): Promise<Owned<ConcertState>> {
    const snapshot = await this.store.loadSnapshot(stream);
    // The writer's own serialization of its state (no event): fromSnapshot checks its version.
    // eslint-disable-next-line no-restricted-syntax
    const stored = snapshot?.data as SnapshotData | undefined;
    // A snapshot of an older version is not restored: the stream is folded from its first event.
    const data = stored !== undefined && isCurrentSnapshot(stored.concert) ? stored : undefined;
    const from = data === undefined ? undefined : snapshot;
    const fresh = this.#decider.initialState();
    let state = data ? fromSnapshot(data.concert, fresh.releasedLimit) : fresh;
    let revision: ExpectedRevision = from ? from.revision : 'no_stream';
    let position = data?.position ?? 0;
    const tail = await this.store.readStream(stream, { fromRevision: from ? from.revision + 1 : 0 });
    for (const recorded of tail) {
      state = this.#decider.evolve(state, decode(recorded, this.#decider.events));
      revision = recorded.revision;
      position = recorded.position;
    }
    Object.assign(lane, { state, revision, position, snapshotRevision: from?.revision ?? -1 });
    return state;
  }

  #maybeSnapshot(stream: string, lane: Lane, state: ConcertState): void {
    if (typeof lane.revision !== 'number' || lane.saving !== null) return;
    if (lane.revision - lane.snapshotRevision < Math.max(this.options.snapshotEvery, Math.min(state.holds.size, SNAPSHOT_SPACING_CAP))) return;
    const revision = lane.revision;
    const data: SnapshotData = { position: lane.position, concert: toSnapshot(state) };
    lane.snapshotRevision = revision;
    lane.saving = this.store.saveSnapshot(stream, { revision, data })
      .catch((error: unknown) => this.options.onBackgroundError(error, `snapshot of ${stream}`))
      .finally(() => {
        lane.saving = null;
      });
  }
}

function settle(batch: readonly Submitted[], outcomes: readonly ({ events: ConcertEvent[] } | { error: unknown })[], position: number): void {
  batch.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) item.reject(new Error('no outcome for a command'));
    else if ('error' in outcome) item.reject(outcome.error);
    else item.resolve({ events: outcome.events, position });
  });
}
