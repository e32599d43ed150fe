/**
 * The projector role: one runner per projection over the read-model database, the seat caches
 * kept in step, lag for the admin route and metrics, and blue/green rebuilds on request.
 */
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { EventStore } from '../eventstore/port.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';
import type { ProjectionPositions } from '../read-models/positions.ts';
import { SeatCache } from '../read-models/seat-cache.ts';
import { MemoryQueueBoard, type QueueBoard } from '../read-models/queue-board.ts';
import { bookingsProjection } from './bookings/bookings.ts';
import { Checkpoints, RebuildRequests, type ProjectionStatus } from '../read-models/checkpoints.ts';
import { concertsProjection } from './concerts/concerts.ts';
import { legacyIdsProjection } from './legacy-ids/legacy-ids.ts';
import { SeatCacheFeed } from './concerts/seat-cache-feed.ts';
import { paymentsProjection } from './payments/payments.ts';
import { LocalInfile } from './bulk.ts';
import type { Projection } from './projection.ts';
import { queueProjection } from './queue/queue.ts';
import { PROJECTION_NAMES, UnknownProjection, type ProjectionAdmin, type ProjectionView, type RebuildProgress } from '../read-models/projection-status.ts';
import { rebuild, recoverSwap } from './rebuild.ts';
import { ProjectionFailed, ProjectionRunner } from './runner.ts';
import { ticketsProjection } from './tickets/tickets.ts';
import { usersProjection } from './users/users.ts';

export interface ProjectorsOptions {
  readonly db: Knex;
  readonly store: EventStore;
  readonly positions: ProjectionPositions;
  readonly redis?: Redis;
  /** Prefix of the seat cache keys (REDIS_KEY_PREFIX + ':seats'; default boxoffice:seats). */
  readonly cachePrefix?: string;
  /** The waiting room's status board (Redis, or memory in the embedded default); a board of its own by default. */
  readonly queueBoard?: QueueBoard;
  readonly batchSize?: number;
  readonly rebuildBatchSize?: number;
  readonly onError: (error: unknown, what: string) => void;
  readonly now?: () => Date;
}

/** How often a running projector looks for rebuilds asked for elsewhere. */
const REBUILD_REQUEST_POLL_MS = 1_000;


export class Projectors implements ProjectionAdmin {
  readonly projections: ReadonlyMap<string, Projection>;
  readonly checkpoints: Checkpoints;
  readonly seatCache: SeatCache | undefined;
  readonly #seatCacheFeed: SeatCacheFeed | undefined;
  readonly #runners = new Map<string, ProjectionRunner>();
  /** What the read-model database has shown of LOAD DATA LOCAL: learnt once, by all its writers. */
  readonly #localInfile = new LocalInfile();
  readonly #rebuilds = new Map<string, RebuildProgress>();
  readonly #running = new Set<Promise<unknown>>();
  #cacheRefill: Promise<void> | undefined;
  #refillAgain = false;
  #started = false;
  #recovery: NodeJS.Timeout | undefined;
  readonly #onRedisReady = (): void => {
    this.refillSeatCache();
    // The queue's board lives in Redis alone: one that restarted empty is written again from the events.
    for (const projection of this.projections.values()) {
      if (projection.tables.length === 0) void this.#replay(projection).catch((error: unknown) => this.options.onError(error, `replay of ${projection.name}`));
    }
  };
  readonly #requests: RebuildRequests;
  #takingRequests: NodeJS.Timeout | undefined;

  private constructor(private readonly options: ProjectorsOptions) {
    this.checkpoints = new Checkpoints(options.db, sqlDialectOf(options.db));
    this.seatCache = options.redis === undefined ? undefined : new SeatCache(options.redis, options.cachePrefix);
    this.#seatCacheFeed = this.seatCache === undefined ? undefined : new SeatCacheFeed(this.seatCache, () => this.refillSeatCache());
    const projections = [
      usersProjection(),
      concertsProjection({ seatCache: this.#seatCacheFeed }),
      bookingsProjection(),
      paymentsProjection(),
      ticketsProjection(),
      legacyIdsProjection(),
      queueProjection({ board: options.queueBoard ?? new MemoryQueueBoard(), store: options.store }),
    ];
    this.projections = new Map(projections.map((projection) => [projection.name, projection]));
    if (projections.map((projection) => projection.name).join() !== PROJECTION_NAMES.join()) {
      throw new Error(`read-models/projection-status.ts names ${PROJECTION_NAMES.join(', ')}, the projector has ${[...this.projections.keys()].join(', ')}`);
    }
    this.#requests = new RebuildRequests(options.db);
    for (const projection of projections) {
      this.#runners.set(projection.name, new ProjectionRunner({
        db: options.db,
        store: options.store,
        checkpoints: this.checkpoints,
        projection,
        localInfile: this.#localInfile,
        positions: options.positions,
        batchSize: options.batchSize,
        onError: (error, name) => options.onError(error, `projection ${name}`),
      }));
    }
  }

  /** Creates missing checkpoints and finishes (or abandons) a rebuild a crash interrupted. */
  static async open(options: ProjectorsOptions): Promise<Projectors> {
    const projectors = new Projectors(options);
    for (const projection of projectors.projections.values()) await projectors.checkpoints.ensure(projection.name);
    await projectors.recoverRebuilds();
    return projectors;
  }

  /** Finishes or abandons rebuilds whose rebuilder has stopped showing signs of life. */
  async recoverRebuilds(): Promise<void> {
    for (const projection of this.projections.values()) await recoverSwap(this.options.db, this.checkpoints, projection, this.options.now);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const runner of this.#runners.values()) runner.start();
    // A runner pauses while its projection swaps; a rebuilder that died there must not pause it for good.
    this.#recovery = setInterval(() => void this.recoverRebuilds().catch((error: unknown) => this.options.onError(error, 'rebuild recovery')), 30_000);
    // Rebuilds asked for by the admin route of another process (a query-api of its own).
    this.#takingRequests = setInterval(() => void this.#takeRebuildRequests(), REBUILD_REQUEST_POLL_MS);
    if (this.options.redis !== undefined) {
      // A Redis that comes back may have restarted empty.
      this.options.redis.on('ready', this.#onRedisReady);
      this.refillSeatCache();
    }
  }

  async #takeRebuildRequests(): Promise<void> {
    try {
      for (const name of await this.#requests.take()) {
        await this.startRebuild(name).catch((error: unknown) => this.options.onError(error, `rebuild ${name} (requested)`));
      }
    } catch (error) {
      this.options.onError(error, 'rebuild requests');
    }
  }

  async stop(): Promise<void> {
    this.#started = false;
    clearInterval(this.#recovery);
    clearInterval(this.#takingRequests);
    this.options.redis?.off('ready', this.#onRedisReady);
    await Promise.all([...this.#runners.values()].map((runner) => runner.stop()));
    await Promise.allSettled([...this.#running, this.#cacheRefill]);
  }

  /** Refills the seat caches from MySQL in the background; calls while one runs queue one more. */
  refillSeatCache(): void {
    const feed = this.#seatCacheFeed;
    if (feed === undefined) return;
    if (this.#cacheRefill !== undefined) {
      this.#refillAgain = true;
      return;
    }
    this.#cacheRefill = (async () => {
      do {
        this.#refillAgain = false;
        try {
          const generation = (await this.checkpoints.get('concerts'))?.generation ?? 1;
          await feed.refill(this.options.db, generation);
        } catch (error) {
          this.options.onError(error, 'seat cache refill');
        }
      } while (this.#refillAgain);
      this.#cacheRefill = undefined;
    })();
  }

  /** Waits for a background refill (tests, shutdown). */
  async cacheRefilled(): Promise<void> {
    while (this.#cacheRefill !== undefined) await this.#cacheRefill;
  }

  projection(name: string): Projection {
    const projection = this.projections.get(name);
    if (projection === undefined) throw new UnknownProjection(`no projection named ${name}`);
    return projection;
  }

  async status(): Promise<ProjectionView[]> {
    const head = await this.options.store.headPosition();
    const rows = new Map((await this.checkpoints.all()).map((row) => [row.name, row]));
    return [...this.projections.keys()].map((name) => {
      const row = rows.get(name);
      const position = row?.position ?? 0;
      return {
        name,
        position,
        head_position: Math.max(head, position),
        lag: Math.max(0, head - position),
        status: viewStatus(row?.status ?? 'live'),
        rebuilt_at: row?.rebuiltAt ?? null,
        rebuild: this.#rebuilds.get(name) ?? null,
      };
    });
  }

  /** Rebuilds a projection and resolves when its new tables are live. */
  async rebuild(name: string, onProgress?: (progress: RebuildProgress) => void, onStarted?: () => void): Promise<RebuildProgress> {
    const [result] = await this.rebuildMany([name], onProgress, onStarted);
    return result as RebuildProgress;
  }

  /** Rebuilds several projections side by side; resolves when all are live. */
  async rebuildMany(names: readonly string[], onProgress?: (progress: RebuildProgress) => void, onStarted?: () => void): Promise<RebuildProgress[]> {
    const all = names.map((name) => this.projection(name));
    const replayed = await Promise.all(all.filter((projection) => projection.tables.length === 0).map((projection) => this.#replay(projection, onProgress)));
    const projections = all.filter((projection) => projection.tables.length > 0);
    if (projections.length === 0) {
      onStarted?.();
      return replayed;
    }
    const result = await rebuild({
      db: this.options.db,
      localInfile: this.#localInfile,
      store: this.options.store,
      checkpoints: this.checkpoints,
      projections,
      positions: this.options.positions,
      batchSize: this.options.rebuildBatchSize,
      now: this.options.now,
      onStarted,
      onError: (error, what) => this.options.onError(error, `rebuild ${what}`),
      onProgress: (progress) => {
        this.#rebuilds.set(progress.projection, progress);
        onProgress?.(progress);
      },
    });
    if (names.includes('concerts')) this.refillSeatCache();
    return [...result, ...replayed];
  }

  /**
   * A projection without tables (REPLAYED) has nothing to swap: its checkpoint goes back to 0 and
   * its runner, finding the row moved, follows $all again from the start; its writes are
   * idempotent by position, so what is still there stays and what was lost is written again.
   */
  async #replay(projection: Projection, onProgress?: (progress: RebuildProgress) => void): Promise<RebuildProgress> {
    const at = (this.options.now ?? (() => new Date()))().toISOString();
    await this.checkpoints.update(projection.name, { position: 0, rebuilt_at: at, last_error: null });
    // A runner waiting for new events would find the row moved only with the next one: it starts over now.
    const runner = this.#runners.get(projection.name);
    if (this.#started && runner !== undefined) {
      await runner.stop();
      // Not if the projectors were stopped meanwhile.
      if (this.#started) runner.start();
    }
    const progress: RebuildProgress = { projection: projection.name, phase: 'done', done: 0, total: await this.options.store.headPosition(), eventsPerSecond: 0, etaSeconds: null, startedAt: at };
    onProgress?.(progress);
    return progress;
  }

  /**
   * Starts a rebuild in the background (the admin route answers 202): resolves once it has
   * started, rejects at once when the projection is unknown or already rebuilding.
   */
  async startRebuild(name: string): Promise<void> {
    this.projection(name);
    await new Promise<void>((resolve, reject) => {
      let started = false;
      const running = this.rebuild(name, undefined, () => {
        started = true;
        resolve();
      }).catch((error: unknown) => {
        if (started) this.options.onError(new ProjectionFailed(`${name} (rebuild)`, error), `rebuild ${name}`);
        else reject(error instanceof Error ? error : new Error(String(error)));
      });
      this.#running.add(running);
      void running.finally(() => this.#running.delete(running));
    });
  }
}

function viewStatus(status: ProjectionStatus): ProjectionView['status'] {
  return status === 'swapping' ? 'rebuilding' : status;
}
