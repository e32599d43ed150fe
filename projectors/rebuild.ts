/**
 * Blue/green rebuild of one projection. Its tables are copied empty as shadows, the shadows are
 * filled from position 0 (with the next generation's cache keys) while the live tables keep
 * serving and following, then the two are swapped:
 *
 *   1. the live checkpoint goes to 'swapping' under its row lock: the live runner's batch in
 *      flight commits first, and no other batch starts (runners pause on 'swapping');
 *   2. the shadows catch up to the head one last time, and the position they reached is written
 *      on the live row (swap_position) before anything is renamed;
 *   3. RENAME TABLE live → old, shadow → live, all tables in one statement (MySQL) or one
 *      transaction (SQLite): readers see the old set or the new set, never a mix;
 *   4. the live row takes the shadow's position and generation, and goes back to 'live'.
 *
 * Several projections are rebuilt side by side, each at its own pace, and each swaps in on its own.
 *
 * A crash between 3 and 4 is finished later (recoverSwap, at the next start and every half
 * minute): no shadow table left means the rename happened, and swap_position says where the new
 * tables stand. A rebuild shows it is alive with a heartbeat on the live row; only one whose
 * heartbeat is older than STALE_REBUILD_MS is finished or abandoned, so another process's
 * running rebuild is never touched.
 */
import type { Knex } from 'knex';
import type { DomainEvent, EventSet } from '../domain/index.ts';
import { decode } from '../eventstore/decode.ts';
import type { AllPage, EventStore, RecordedEvent } from '../eventstore/port.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';
import type { ProjectionPositions } from '../read-models/positions.ts';
import { RebuildInProgress, type RebuildProgress } from '../read-models/projection-status.ts';
import { shadowCheckpoint, type Checkpoints } from '../read-models/checkpoints.ts';
import type { LocalInfile } from './bulk.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { ProjectionFailed, ProjectionRunner, type DecodedPage } from './runner.ts';
import { copyTableShape, oldTable, renameTables, shadowTable } from './shadow-tables.ts';

/** A rebuild whose heartbeat is older than this is taken for dead. */
export const STALE_REBUILD_MS = 120_000;

/**
 * A job writes its heartbeat this often while it runs, not only when it applies a batch: one of
 * rare event types may wait for the shared pages of a slower job (or build indexes) for longer
 * than STALE_REBUILD_MS without applying anything.
 */
const HEARTBEAT_MS = STALE_REBUILD_MS / 4;

export interface RebuildOptions {
  readonly db: Knex;
  /** What `db` has shown of LOAD DATA LOCAL (bulk.ts), shared with its runners; each job's own by default. */
  readonly localInfile?: LocalInfile;
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  /** Rebuilt side by side; each swaps in once it has caught up. */
  readonly projections: readonly Projection[];
  readonly positions?: ProjectionPositions;
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Called once every projection is marked rebuilding (a second rebuild would now be refused). */
  readonly onStarted?: () => void;
  readonly onError: (error: unknown, projection: string) => void;
  readonly now?: () => Date;
  /** Events one store read hands over (READ_PAGE); smaller in specs. */
  readonly readPage?: number;
  /** Pages of the shared first read held at most (SHARED_PAGES); smaller in specs. */
  readonly sharedPages?: number;
  /** How often a job writes its heartbeat whatever it does (HEARTBEAT_MS); smaller in specs. */
  readonly heartbeatMs?: number;
}



/** One projection's rebuild: its shadow tables, shadow checkpoint and progress. */
class RebuildJob {
  readonly name: string;
  readonly shadowName: string;
  readonly runner: ProjectionRunner;
  #progress: RebuildProgress;
  #addIndexes: (() => Promise<void>)[] = [];
  renamed = false;

  constructor(
    private readonly options: RebuildOptions,
    readonly projection: Projection,
    readonly generation: number,
    readonly startedAt: Date,
    total: number,
  ) {
    this.name = projection.name;
    this.shadowName = shadowCheckpoint(this.name);
    this.runner = new ProjectionRunner({
      db: options.db, store: options.store, checkpoints: options.checkpoints, projection,
      checkpoint: this.shadowName, table: shadowTable, onError: options.onError, localInfile: options.localInfile,
      // SQLite has one writer (and knex one connection): side by side is for MySQL.
      parallelWrites: sqlDialectOf(options.db) === 'mysql',
    });
    this.#progress = { projection: this.name, phase: 'copying', done: 0, total, eventsPerSecond: 0, etaSeconds: null, startedAt: startedAt.toISOString() };
  }

  get progress(): RebuildProgress {
    return this.#progress;
  }

  report(update: Partial<RebuildProgress>): void {
    const now = this.options.now ?? (() => new Date());
    const next = { ...this.#progress, ...update };
    const seconds = (now().getTime() - this.startedAt.getTime()) / 1000;
    const eventsPerSecond = seconds > 0 ? Math.round(next.done / seconds) : 0;
    const remaining = Math.max(0, next.total - next.done);
    this.#progress = { ...next, eventsPerSecond, etaSeconds: eventsPerSecond > 0 ? Math.ceil(remaining / eventsPerSecond) : null };
    this.options.onProgress?.(this.#progress);
  }

  /**
   * Shadows start with their primary keys only: rows go in faster without secondary indexes to
   * maintain, and each index is then built once, sorted, before the shadow goes live.
   */
  async prepare(): Promise<void> {
    const { db, checkpoints } = this.options;
    for (const table of this.projection.tables) {
      this.#addIndexes.push(await copyTableShape(db, sqlDialectOf(db), table, shadowTable(table), this.generation));
    }
    await checkpoints.remove(this.shadowName);
    await checkpoints.ensure(this.shadowName, { position: 0, generation: this.generation });
  }

  async heartbeat(): Promise<void> {
    await this.options.checkpoints.update(this.name, { heartbeat_at: (this.options.now ?? (() => new Date()))().getTime() });
  }

  /** Writes the heartbeat every `everyMs` (one write at a time) until stopped; stop waits for the write under way. */
  keepAlive(everyMs: number): { stop: () => Promise<void> } {
    let beating: Promise<void> | undefined;
    const timer = setInterval(() => {
      // A beat that fails is written again by the next one.
      beating ??= this.heartbeat().catch(() => undefined).finally(() => (beating = undefined));
    }, everyMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await beating;
      },
    };
  }

  /**
   * Builds the shadows' indexes: on MySQL each table's ALTER on its own connection, side by side (a
   * projection's last tables are indexed at the end of the rebuild, when little else runs); on
   * SQLite, one after another (one writer).
   */
  async addIndexes(): Promise<void> {
    if (sqlDialectOf(this.options.db) !== 'mysql') {
      for (const add of this.#addIndexes) await add();
      return;
    }
    // Every ALTER ends before a failure is thrown: an abandoned rebuild then drops tables no ALTER is building.
    const outcomes = await Promise.allSettled(this.#addIndexes.map((add) => add()));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  }

  async apply(after: number, page: AllPage | DecodedPage): Promise<void> {
    const outcome = await this.runner.applyPage(after, page);
    if (outcome !== 'applied') throw new Error(`rebuild of ${this.name}: its shadow checkpoint moved (${outcome})`);
    await this.heartbeat();
    this.report({ done: page.position, total: Math.max(this.#progress.total, page.position) });
  }

  async abandon(): Promise<void> {
    const { db, checkpoints } = this.options;
    await checkpoints.update(this.name, { status: 'live', swap_position: null, heartbeat_at: null }).catch(() => undefined);
    await checkpoints.remove(this.shadowName).catch(() => undefined);
    for (const table of this.projection.tables) await db.schema.dropTableIfExists(shadowTable(table)).catch(() => undefined);
  }
}

interface ReadBatch {
  readonly events: RecordedEvent[] | ProjectedEvent[];
  readonly position: number;
  /** False once a read reached the head. */
  readonly more: boolean;
}

/** The most events one store read hands over. */
const READ_PAGE = 10_000;

/** Pages of the shared read held at most, from the one the slowest job takes next. */
const SHARED_PAGES = 30;

interface SharedPage {
  /** Decoded, of the types any of the jobs handles. */
  readonly events: readonly ProjectedEvent[];
  readonly position: number;
  readonly more: boolean;
}

interface SharedEntry {
  readonly page: Promise<SharedPage>;
  /** Jobs yet to take it. */
  waiting: number;
  /** Whether a job has asked for it (not only read ahead). */
  asked: boolean;
  /** Where the next page starts, once this one's rows are in; undefined until then, and at the head. */
  next?: number;
}

/**
 * The first fill of every shadow rebuilt together reads the store once: each page of the types
 * any of the projections handles is read, parsed and decoded once, and every job takes the
 * events of its own types from it (projections only read events, so they share them). A page is
 * dropped once every job has taken it; a job that would read a page more than SHARED_PAGES ahead
 * of the slowest waits for it (memory), the slowest never waits. A page a job asks for has the
 * read of the next one started as soon as its rows are in (while it is decoded and folded), if
 * the window has room: the store's query and Node's work run side by side, one page ahead.
 */
class SharedReads {
  readonly #pages = new Map<number, SharedEntry>();
  readonly #set: EventSet<DomainEvent>;
  readonly #filter: { readonly eventTypes: readonly DomainEvent['type'][] };
  readonly #released: (() => void)[] = [];
  /** Where each job stands: the `after` of the last page it took (-1 before the first). */
  readonly #taken = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    projections: readonly Projection[],
    private readonly readPage = READ_PAGE,
    private readonly maxPages = SHARED_PAGES,
  ) {
    const types = [...new Set(projections.flatMap((projection) => projection.eventTypes))];
    this.#set = { types };
    this.#filter = { eventTypes: types };
    for (const projection of projections) this.#taken.set(projection.name, -1);
  }

  /** The page after `after`, for job `name`: each job takes the pages in order, each once. */
  async page(name: string, after: number): Promise<SharedPage> {
    let entry = this.#pages.get(after);
    while (entry === undefined && this.#pages.size >= this.maxPages) {
      await new Promise<void>((resolve) => this.#released.push(resolve));
      entry = this.#pages.get(after);
    }
    entry ??= this.#start(after);
    this.#taken.set(name, after);
    if (--entry.waiting === 0) this.#drop(after);
    entry.asked = true;
    if (entry.next !== undefined) this.#ahead(entry.next);
    return entry.page;
  }

  /** A job that stops taking pages (it failed, or it read to the head): no page waits for it. */
  leave(name: string): void {
    const taken = this.#taken.get(name);
    if (taken === undefined) return;
    this.#taken.delete(name);
    for (const [after, entry] of this.#pages) {
      if (after > taken && --entry.waiting === 0) this.#drop(after);
    }
  }

  #drop(after: number): void {
    this.#pages.delete(after);
    for (const resolve of this.#released.splice(0)) resolve();
  }

  #start(after: number): SharedEntry {
    const entry: SharedEntry = { page: this.#read(after, (next) => {
      entry.next = next;
      if (entry.asked) this.#ahead(next);
    }), waiting: this.#taken.size, asked: false };
    entry.page.catch(() => undefined); // rejects for every job that takes it, not before
    this.#pages.set(after, entry);
    return entry;
  }

  /** Starts the read of the page at `after` (one a job asked for ends there), if it is not read yet and the window has room. */
  #ahead(after: number): void {
    if (!this.#pages.has(after) && this.#pages.size < this.maxPages && this.#taken.size > 0) this.#start(after);
  }

  /** Reads the page after `after`; `rowsIn` hears where the next page starts as soon as the rows are in, before they are decoded. */
  async #read(after: number, rowsIn: (next: number) => void): Promise<SharedPage> {
    const rows = await this.store.readAll({ after, maxCount: this.readPage, filter: this.#filter });
    const position = Math.max(after, rows.position);
    const more = rows.events.length === this.readPage;
    if (more) rowsIn(position);
    return {
      // Upcast and checked, as every reader of events reads them (eventstore/decode.ts).
      events: rows.events.map((recorded): ProjectedEvent => decode(recorded, this.#set)),
      position,
      more,
    };
  }
}

/**
 * Reads the store from where the job's shadow stands to the head, in pages of the types its
 * projection wants, and applies them in batches of `batchSize` events (several reads each):
 * the larger the batch, the more changes to one row fold into one write. The next read runs
 * while a batch is written. With `shared` (the first fill), the pages come from the one read
 * of every job rebuilt together; later catch-ups read on their own.
 */
async function catchUp(options: RebuildOptions, job: RebuildJob, shared?: SharedReads): Promise<number> {
  const batchSize = options.batchSize ?? 100_000;
  const readPage = options.readPage ?? READ_PAGE;
  const filter = { eventTypes: job.projection.eventTypes };
  const types = new Set<string>(job.projection.eventTypes);
  /** Reads from `after` until a batch is full or the head is reached (`more` false). */
  const readBatch = async (after: number): Promise<ReadBatch> => {
    if (shared !== undefined) {
      const events: ProjectedEvent[] = [];
      let position = after;
      for (;;) {
        const page = await shared.page(job.name, position);
        for (const event of page.events) if (types.has(event.type)) events.push(event);
        position = page.position;
        if (!page.more || events.length >= batchSize) return { events, position, more: page.more };
      }
    }
    const events: RecordedEvent[] = [];
    let position = after;
    for (;;) {
      const page = await options.store.readAll({ after: position, maxCount: readPage, filter });
      events.push(...page.events);
      position = Math.max(position, page.position);
      const more = page.events.length === readPage;
      if (!more || events.length >= batchSize) return { events, position, more };
    }
  };
  /** A read that runs while a batch is written: awaited later, so its failure is not left unhandled meanwhile. */
  const prefetch = (from: number): Promise<ReadBatch> => {
    const read = readBatch(from);
    read.catch(() => undefined);
    return read;
  };
  let after = (await options.checkpoints.get(job.shadowName))?.position ?? 0;
  let next: Promise<ReadBatch> | undefined = prefetch(after);
  try {
    while (next !== undefined) {
      const batch: ReadBatch = await next;
      if (batch.position <= after) break;
      // Read the next batch while this one is written.
      next = batch.more ? prefetch(batch.position) : undefined;
      await job.apply(after, shared === undefined
        ? { events: batch.events as RecordedEvent[], position: batch.position }
        : { decoded: batch.events as ProjectedEvent[], position: batch.position });
      after = batch.position;
    }
  } finally {
    // A read still under way (this job failed) hands back its pages, then the job leaves.
    await next?.catch(() => undefined);
    shared?.leave(job.name);
  }
  return after;
}

export async function rebuild(options: RebuildOptions): Promise<RebuildProgress[]> {
  const { db, store } = options;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const names = options.projections.map((projection) => projection.name);
  const generations = await db.transaction(async (trx) => {
    const claimed = await options.checkpoints.claimForRebuild(trx, names, now().getTime());
    if (claimed === undefined) throw new RebuildInProgress(`projection ${names.join(', ')} is already rebuilding`);
    return claimed;
  });
  options.onStarted?.();
  const total = await store.headPosition();
  const jobs = options.projections.map((projection) => {
    const generation = (generations.get(projection.name) ?? 0) + 1;
    return new RebuildJob(options, projection, generation, startedAt, total);
  });

  const shared = new SharedReads(store, options.projections, options.readPage, options.sharedPages);
  const outcomes = await Promise.allSettled(jobs.map((job) => runJob(options, job, now, shared)));
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  return jobs.map((job) => job.progress);
}

/** Fills the shadow, builds its indexes, catches it up, and swaps it in (steps 1-4 above). */
async function runJob(options: RebuildOptions, job: RebuildJob, now: () => Date, shared: SharedReads): Promise<void> {
  const { db, store, checkpoints } = options;
  const { name, projection, generation } = job;
  const beating = job.keepAlive(options.heartbeatMs ?? HEARTBEAT_MS);
  try {
    await job.prepare();
    await catchUp(options, job, shared);
    await job.addIndexes();
    await job.heartbeat();
    await catchUp(options, job);
    job.report({ phase: 'swapping', total: await store.headPosition() });
    await db.transaction(async (trx) => {
      await checkpoints.lock(trx, name);
      await checkpoints.update(name, { status: 'swapping' }, trx);
    });
    const position = await catchUp(options, job);
    await checkpoints.update(name, { swap_position: position });
    await renameTables(db, sqlDialectOf(db), projection.tables.flatMap((table) => [[table, oldTable(table)], [shadowTable(table), table]] as [string, string][]));
    job.renamed = true;
    await beating.stop();
    await finishSwap(db, checkpoints, projection, position, generation, now().toISOString());
    // Live from here on: the progress says so at the same moment the checkpoint does.
    job.report({ phase: 'done', done: position, total: position });
    for (const table of projection.tables) await db.schema.dropTableIfExists(oldTable(table));
    await projection.activated?.(generation);
    options.positions?.publish(name, position);
  } catch (error) {
    // Wherever it failed, no page of the shared read waits for it any more (leave is idempotent).
    shared.leave(name);
    await beating.stop();
    if (!job.renamed) await job.abandon();
    job.report({ phase: 'failed', error: new ProjectionFailed(name, error).message });
    throw error;
  }
}

async function finishSwap(db: Knex, checkpoints: Checkpoints, projection: Projection, position: number, generation: number, at: string): Promise<void> {
  await db.transaction(async (trx) => {
    await checkpoints.update(projection.name,
      { position, generation, status: 'live', rebuilt_at: at, swap_position: null, heartbeat_at: null, last_error: null }, trx);
    await checkpoints.remove(shadowCheckpoint(projection.name), trx);
  });
}

/**
 * Finishes or abandons a swap a crash interrupted, and abandons a rebuild that was copying.
 * Runs before the projection's runner starts.
 */
export async function recoverSwap(db: Knex, checkpoints: Checkpoints, projection: Projection, now: () => Date = () => new Date()): Promise<'finished' | 'abandoned' | 'none'> {
  const live = await checkpoints.get(projection.name);
  if (live === undefined || live.status === 'live' || live.status === 'failed') return 'none';
  if (live.heartbeatAt !== null && now().getTime() - live.heartbeatAt < STALE_REBUILD_MS) return 'none'; // alive somewhere

  const shadowsLeft = await Promise.all(projection.tables.map((table) => db.schema.hasTable(shadowTable(table))));
  if (live.status === 'swapping' && live.swapPosition !== null && !shadowsLeft.some(Boolean)) {
    const shadow = await checkpoints.get(shadowCheckpoint(projection.name));
    const generation = shadow?.generation ?? live.generation + 1;
    await finishSwap(db, checkpoints, projection, live.swapPosition, generation, now().toISOString());
    for (const table of projection.tables) await db.schema.dropTableIfExists(oldTable(table));
    await projection.activated?.(generation);
    return 'finished';
  }
  await checkpoints.update(projection.name, { status: 'live', swap_position: null, heartbeat_at: null });
  await checkpoints.remove(shadowCheckpoint(projection.name));
  for (const table of projection.tables) await db.schema.dropTableIfExists(shadowTable(table));
  return 'abandoned';
}
