/**
 * Runs one projection: follow $all from its checkpoint, and for each page apply the events and
 * move the checkpoint in one transaction that first locks the checkpoint row and checks it is
 * still where this runner started (compare-and-set). A crash never double-applies or skips; a
 * second runner of the same projection finds the row moved, drops its page and resumes from the
 * new checkpoint. Errors are reported and retried with back-off (src/follow.ts), never swallowed.
 */
import type { Knex } from 'knex';
import type { DomainEvent, EventSet } from '../domain/index.ts';
import { decode } from '../eventstore/decode.ts';
import type { AllPage, EventStore } from '../eventstore/port.ts';
import { Follower } from '../lib/follow.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';
import type { ProjectionPositions } from '../read-models/positions.ts';
import type { Checkpoints } from '../read-models/checkpoints.ts';
import { LocalInfile } from './bulk.ts';
import type { AfterCommit, ProjectedEvent, Projection } from './projection.ts';

export interface RunnerOptions {
  readonly db: Knex;
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly projection: Projection;
  /** The checkpoint row it moves: the projection's name, or its shadow's during a rebuild. */
  readonly checkpoint?: string;
  /** Physical table names; the projection's own by default. */
  readonly table?: (name: string) => string;
  /** Run each batch's table writes side by side (a rebuild's shadow only). */
  readonly parallelWrites?: boolean;
  /** What `db` has shown of LOAD DATA LOCAL, shared by its writers; the runner's own by default. */
  readonly localInfile?: LocalInfile;
  /** Where committed positions are told (not for a rebuild's shadow). */
  readonly positions?: ProjectionPositions;
  readonly batchSize?: number;
  readonly onError: (error: unknown, projection: string) => void;
}

export type PageOutcome = 'applied' | 'moved' | 'paused';

/**
 * A page already read through decode (eventstore/decode.ts), of the projection's types only: a
 * rebuild reads and decodes each event once for every projection it rebuilds.
 */
export interface DecodedPage {
  readonly decoded: readonly ProjectedEvent[];
  readonly position: number;
}

export interface PageTarget {
  readonly db: Knex;
  readonly checkpoints: Checkpoints;
  readonly projection: Projection;
  /** The checkpoint row to move. */
  readonly checkpoint: string;
  readonly table: (name: string) => string;
  /** Run the batch's table writes side by side on their own connections (rebuilds only). */
  readonly parallelWrites?: boolean;
  /** What `db` has shown of LOAD DATA LOCAL. */
  readonly localInfile: LocalInfile;
}

/**
 * Applies one page that follows position `from` in one transaction with its checkpoint:
 * 'applied' when committed, 'moved' when the checkpoint was no longer at `from` (another runner
 * applied it; nothing was written), 'paused' while a rebuild swaps the tables.
 */
export async function applyPage(target: PageTarget, from: number, page: AllPage | DecodedPage): Promise<{ outcome: PageOutcome; afterCommit?: AfterCommit }> {
  const { db, checkpoints, projection, checkpoint } = target;
  let afterCommit: AfterCommit | undefined;
  const outcome = await db.transaction(async (trx): Promise<PageOutcome> => {
    const row = await checkpoints.lock(trx, checkpoint);
    if (row === undefined) throw new Error(`projection ${checkpoint} has no checkpoint row`);
    if (row.status === 'swapping') return 'paused';
    if (row.position !== from) return 'moved';
    // Also a page of nothing but progress: caches follow the position too.
    // Upcast and checked, as every reader of events reads them (eventstore/decode.ts).
    const handled: EventSet<DomainEvent> = { types: projection.eventTypes };
    const events = 'decoded' in page ? page.decoded : page.events.map((recorded): ProjectedEvent => decode(recorded, handled));
    const batch = await projection.apply(events, {
      trx,
      dialect: sqlDialectOf(db),
      table: target.table,
      generation: row.generation,
      position: page.position,
      from,
      localInfile: target.localInfile,
    });
    if (target.parallelWrites === true) await Promise.all(batch.writes.map((write) => db.transaction(write)));
    else for (const write of batch.writes) await write(trx);
    afterCommit = batch.afterCommit;
    // The row is locked and was checked above: failing to move it is a bug, and rolls back.
    if (!(await checkpoints.advance(trx, checkpoint, from, page.position))) throw new Error(`checkpoint ${checkpoint} moved under its lock`);
    return 'applied';
  });
  return outcome === 'applied' ? { outcome, afterCommit } : { outcome };
}

/**
 * A batch that failed, told without its statement: a driver's message quotes the whole SQL with
 * its values, which is megabytes for a bulk write and has no place in a log.
 */
export class ProjectionFailed extends Error {
  override readonly name = 'ProjectionFailed';
  readonly code: string | undefined;

  constructor(projection: string, cause: unknown) {
    const { code, sqlMessage, message } = (cause ?? {}) as { code?: unknown; sqlMessage?: unknown; message?: unknown };
    const text = typeof sqlMessage === 'string' ? sqlMessage : String(message ?? cause).split(' - ').at(-1) ?? '';
    super(`projection ${projection}: ${text.slice(0, 500)}`);
    this.code = typeof code === 'string' ? code : undefined;
  }
}

export class ProjectionRunner {
  readonly name: string;
  readonly #options: RunnerOptions;
  readonly #table: (name: string) => string;
  readonly #localInfile: LocalInfile;
  readonly #follower: Follower;
  #failing = false;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.name = options.checkpoint ?? options.projection.name;
    this.#table = options.table ?? ((name) => name);
    this.#localInfile = options.localInfile ?? new LocalInfile();
    this.#follower = new Follower({
      store: options.store,
      filter: { eventTypes: options.projection.eventTypes },
      batchSize: options.batchSize ?? 1_000,
      checkpoint: async () => (await options.checkpoints.get(this.name))?.position ?? 0,
      // Moved (another runner) or paused (a swap): resubscribe from wherever the checkpoint is then.
      handle: async (after, page) => (await this.applyPage(after, page)) === 'applied',
      onError: async (caught) => {
        const error = new ProjectionFailed(this.name, caught);
        options.onError(error, this.name);
        this.#failing = true;
        await options.checkpoints.markFailed(this.name, error.message).catch(() => undefined);
      },
    });
  }

  start(): void {
    this.#follower.start();
  }

  /** Stops after the batch in flight has committed (or rolled back). */
  async stop(): Promise<void> {
    await this.#follower.stop();
  }

  /** Applies one page that follows position `from` (see applyPage), then tells caches and listeners. */
  async applyPage(from: number, page: AllPage | DecodedPage): Promise<PageOutcome> {
    const applied = await applyPage({ ...this.#options, checkpoint: this.name, table: this.#table, localInfile: this.#localInfile }, from, page);
    if (applied.outcome !== 'applied') return applied.outcome;
    if (this.#failing) {
      this.#failing = false;
      await this.#options.checkpoints.clearFailure(this.name).catch(() => undefined);
    }
    // Caches first, then the news: a reader told "position N" finds N in the cache too.
    await applied.afterCommit?.().catch((error: unknown) => this.#options.onError(error, this.name));
    this.#options.positions?.publish(this.name, page.position);
    return 'applied';
  }
}
