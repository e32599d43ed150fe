/**
 * The per-concert batching writer: the hot path of a flash sale (lanes/batching-writer.ts), whose
 * inventory loads from a snapshot plus the stream's tail, with a snapshot saved now and then.
 */
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
import type { EventStore, ExpectedRevision, StreamWrite } from '../../eventstore/port.ts';
import { BatchingWriter, type BatchingWriterOptions, type Lane, type Loaded, type Written as WrittenEvents } from '../lanes/batching-writer.ts';

export { overloaded } from '../lanes/batching-writer.ts';

export interface ConcertWriterOptions extends BatchingWriterOptions {
  /**
   * A snapshot is saved once this many events followed the last one (DEFAULT_SNAPSHOT_EVERY), and
   * at least as many as the state has holds, up to SNAPSHOT_SPACING_CAP: a big sale's snapshot,
   * which costs about as much to build as its holds, is paid for by as many events, while a cold
   * load or a reload after a conflict (snapshot and tail) never folds more than that cap's worth of tail.
   */
  readonly snapshotEvery: number;
  /** How long drain() waits for snapshots still being saved before it goes on without them (DRAIN_SNAPSHOT_WAIT_MS). */
  readonly drainSnapshotWaitMs?: number;
  /** The concert decider (a spec may give one whose evolve copies, as a pure one would). */
  readonly decider?: OwningDecider<ConcertCommand, ConcertEvent, ConcertState>;
  /**
   * Streams a command's events bring into being, committed with the batch (BatchingWriter's
   * companionsOf): the wiring gives each hold's booking stream (bookings/placement.ts).
   */
  readonly companionsOf?: (events: readonly ConcertEvent[], context: CommandContext, newId: () => string) => StreamWrite[];
  /**
   * A command's event as stored when companionsOf's streams are committed with it (BatchingWriter's
   * storedWithCompanions): the wiring leaves a hold's buyer to its booking stream (bookings/placement.ts).
   */
  readonly storedWithCompanions?: (event: ConcertEvent) => ConcertEvent;
  /**
   * Told each batch written with its companions, just before the append (BatchingWriter's
   * writingTogether): the wiring gives the holds indexed here (HoldsIndexedHere, reactors/reactors.ts).
   */
  readonly writingTogether?: (writes: readonly StreamWrite[], events: readonly ConcertEvent[]) => void;
}

export type Written = WrittenEvents<ConcertEvent>;

/** A concert stream's snapshots: the revision of the last one, and the save still running. */
interface Snapshots {
  revision: number;
  /** The snapshot being saved: the next waits for it (the state moves on meanwhile). */
  saving: Promise<void> | null;
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
 * leave the state, so a concert with 150,000 sold seats would otherwise snapshot only every
 * 150,000 events, and a cold load (or a reload after a conflict the lane could not undo) fold as
 * long a tail. Each hold adds about 440 bytes of JSON to the snapshot (half of it its sealed
 * holder, which gzip cannot shrink), some 14-16 µs of JSON and gzip: past the cap, every event pays
 * for holds / cap of them. The cap was 10,000: at 40,000 pending holds that was 55 µs an event
 * (bench/REPORT.md, snapshot), at 100,000 160 µs, nearly half of all the server time a booking
 * costs. At 50,000 it is 14 µs at 40,000 holds, at most three holds' worth at 150,000, and a tail
 * folds in under a second (16 µs an event in bench/cold-load.ts's full replay).
 */
export const SNAPSHOT_SPACING_CAP = 50_000;

/** drain() waits this long for snapshots being saved: a hung save does not hang shutdown (the next load folds a longer tail). */
export const DRAIN_SNAPSHOT_WAIT_MS = 5_000;

export class ConcertWriter extends BatchingWriter<ConcertCommand, ConcertEvent, ConcertState> {
  readonly #snapshots = new Map<string, Snapshots>();
  readonly #options: ConcertWriterOptions;

  constructor(store: EventStore, options: ConcertWriterOptions) {
    super(store, options.decider ?? concertDecider, concertStream, options);
    this.#options = options;
  }

  /**
   * The concert a seat (a ticket) belongs to, among the concerts this instance holds in memory:
   * a seat id begins with its class's id, and each concert knows its classes. Null when none of them has it.
   */
  concertOfSeat(seatId: string): string | null {
    const prefix = seatIdPrefix(seatId);
    for (const [concertId, state] of this.committed()) if (state.classByPrefix.has(prefix)) return concertId;
    return null;
  }

  /** Resolves when every queued command has been answered (graceful shutdown). */
  override async drain(): Promise<void> {
    await super.drain();
    // A snapshot still being saved is finished too: the next instance loads it, not an older one.
    // Not for ever: a hung save is reported and left behind.
    const saving = [...this.#snapshots.values()].flatMap((snapshots) => (snapshots.saving === null ? [] : [snapshots.saving]));
    if (saving.length === 0) return;
    const waitMs = this.#options.drainSnapshotWaitMs ?? DRAIN_SNAPSHOT_WAIT_MS;
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

  protected override companionsOf(events: readonly ConcertEvent[], context: CommandContext, newId: () => string): StreamWrite[] {
    return this.#options.companionsOf?.(events, context, newId) ?? [];
  }

  protected override storedWithCompanions(event: ConcertEvent): ConcertEvent {
    return this.#options.storedWithCompanions?.(event) ?? event;
  }

  protected override writingTogether(writes: readonly StreamWrite[], events: readonly ConcertEvent[]): void {
    this.#options.writingTogether?.(writes, events);
  }

  /** A concert that does not exist keeps no memory (random ids cost nothing). */
  protected override isAbsent(state: ConcertState): boolean {
    return state.status === 'unscheduled';
  }

  protected override async load(stream: string): Promise<Loaded<ConcertState>> {
    const snapshot = await this.store.loadSnapshot(stream);
    // The writer's own serialization of its state (no event): fromSnapshot checks its version.
    // eslint-disable-next-line no-restricted-syntax
    const stored = snapshot?.data as SnapshotData | undefined;
    // A snapshot of an older version is not restored: the stream is folded from its first event.
    const data = stored !== undefined && isCurrentSnapshot(stored.concert) ? stored : undefined;
    const from = data === undefined ? undefined : snapshot;
    const fresh = this.decider.initialState();
    let state: Owned<ConcertState> = data ? fromSnapshot(data.concert, fresh.releasedLimit) : fresh;
    let revision: ExpectedRevision = from ? from.revision : 'no_stream';
    let position = data?.position ?? 0;
    const tail = await this.store.readStream(stream, { fromRevision: from ? from.revision + 1 : 0 });
    for (const recorded of tail) {
      state = this.decider.evolve(state, decode(recorded, this.decider.events));
      revision = recorded.revision;
      position = recorded.position;
    }
    this.#snapshotsOf(stream).revision = from?.revision ?? -1;
    return { state, revision, position };
  }

  protected override committedBatch(stream: string, lane: Lane<ConcertCommand, ConcertEvent, ConcertState>, state: ConcertState): void {
    const snapshots = this.#snapshotsOf(stream);
    if (typeof lane.revision !== 'number' || snapshots.saving !== null) return;
    if (lane.revision - snapshots.revision < Math.max(this.#options.snapshotEvery, Math.min(state.holds.size, SNAPSHOT_SPACING_CAP))) return;
    const revision = lane.revision;
    const data: SnapshotData = { position: lane.position, concert: toSnapshot(state) };
    snapshots.revision = revision;
    snapshots.saving = this.store.saveSnapshot(stream, { revision, data })
      .catch((error: unknown) => this.options.onBackgroundError(error, `snapshot of ${stream}`))
      .finally(() => {
        snapshots.saving = null;
      });
  }

  #snapshotsOf(stream: string): Snapshots {
    let snapshots = this.#snapshots.get(stream);
    if (snapshots === undefined) {
      snapshots = { revision: -1, saving: null };
      this.#snapshots.set(stream, snapshots);
    }
    return snapshots;
  }
}
