/**
 * Where the query API reads: the MySQL replicas of MYSQL_REPLICA_URLS in turn, the primary only
 * where it must — no replica configured or answering, or a read that must reflect a position no
 * replica has reached yet (read-your-writes while replication lags).
 *
 * Each replica's checkpoints are read every `checkEveryMs`: that is its health check and how we
 * know which positions it holds. Its checkpoint rows replicate in the same transactions as the
 * rows they vouch for, so a replica at position N shows everything up to N.
 */
import knex, { type Knex } from 'knex';
import { mysqlSession } from '../lib/db/mysql-session.ts';
import { withTimeout } from '../lib/timeout.ts';
import { readCheckpointPositions } from './checkpoints.ts';

export interface ReadSource {
  /** `primary`, or the replica's host:port. */
  readonly name: string;
  /**
   * The position of the projection asked for that this source is known to hold; undefined for
   * the primary, whose position the read-your-writes waiter knows better.
   */
  readonly position: number | undefined;
  /** Runs a read here; a replica that fails it is set aside and the read is done on the primary. */
  run<T>(read: (db: Knex) => Promise<T>): Promise<T>;
}

export interface ReplicaState {
  readonly name: string;
  readonly healthy: boolean;
  /** Reads answered by it since start. */
  readonly reads: number;
  /** Projection name → position it holds, as last checked. */
  readonly positions: Readonly<Record<string, number>>;
}

export interface ReadSourceOptions {
  /** How often each replica's checkpoints are read (health and positions). */
  readonly checkEveryMs?: number;
  /** A replica read or check that takes longer counts as a failure (a hung server). */
  readonly timeoutMs?: number;
  /** A replica failed (a read or a check) and is set aside until a check succeeds. */
  readonly onReplicaDown?: (name: string, error: unknown) => void;
}

class Replica {
  healthy = false;
  reads = 0;
  positions = new Map<string, number>();

  constructor(readonly name: string, readonly db: Knex) {}
}

/** host:port of a mysql:// URL: a replica's name in logs and status, without its credentials. */
function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '3306'}`;
}

export class ReadSources {
  readonly #replicas: Replica[];
  readonly #primarySource: ReadSource;
  readonly #checkEveryMs: number;
  readonly #timeoutMs: number;
  readonly #onReplicaDown: (name: string, error: unknown) => void;
  #turn = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(private readonly primary: Knex, replicas: Replica[], options: ReadSourceOptions) {
    this.#replicas = replicas;
    this.#checkEveryMs = options.checkEveryMs ?? 250;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#onReplicaDown = options.onReplicaDown ?? (() => undefined);
    this.#primarySource = { name: 'primary', position: undefined, run: (read) => read(primary) };
  }

  /** Opens a pool per replica URL and checks each once before the first read. */
  static async open(primary: Knex, replicaUrls: readonly string[], options: ReadSourceOptions = {}): Promise<ReadSources> {
    const replicas = replicaUrls.map((url) => new Replica(replicaName(url), knex({
      client: 'mysql2',
      connection: url,
      pool: { min: 0, max: 10, afterCreate: mysqlSession() },
      acquireConnectionTimeout: options.timeoutMs ?? 2_000,
      // A replica that is away is reported once, by onReplicaDown, not by knex on every retry.
      log: { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined },
    })));
    const sources = new ReadSources(primary, replicas, options);
    await sources.checkAll();
    if (replicas.length > 0) sources.#schedule();
    return sources;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.checkAll().finally(() => {
        if (this.#timer !== undefined) this.#schedule();
      });
    }, this.#checkEveryMs);
    this.#timer.unref();
  }

  /** Reads every replica's checkpoints now: healthy again if it answers, set aside if not. */
  async checkAll(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => this.#check(replica)));
  }

  async #check(replica: Replica): Promise<void> {
    try {
      replica.positions = await withTimeout(readCheckpointPositions(replica.db), this.#timeoutMs, replica.name);
      replica.healthy = true;
    } catch (error) {
      this.#setAside(replica, error);
    }
  }

  #setAside(replica: Replica, error: unknown): void {
    if (replica.healthy) this.#onReplicaDown(replica.name, error);
    replica.healthy = false;
  }

  /**
   * Where a read of `projection` goes, when that is known without asking anyone: a replica in
   * turn (one known to hold `minimum`, if given), or the primary when no replica is healthy.
   * Undefined: healthy replicas, none known to hold `minimum` — see choose().
   */
  chooseNow(projection: string, minimum?: number): ReadSource | undefined {
    const healthy = this.#healthy();
    if (healthy.length === 0) return this.#primarySource;
    const start = this.#turn++;
    for (let i = 0; i < healthy.length; i++) {
      const replica = healthy[(start + i) % healthy.length] as Replica;
      if (this.#holds(replica, projection, minimum)) return this.#sourceOf(replica, projection);
    }
    return undefined;
  }

  /**
   * Where a read of `projection` goes. With a `minimum`, only a replica known to hold that
   * position will do (one replica's checkpoint is read again before the primary is chosen).
   */
  async choose(projection: string, minimum?: number): Promise<ReadSource> {
    const now = this.chooseNow(projection, minimum);
    if (now !== undefined) return now;
    // Replication usually trails by milliseconds: one fresh look at the next replica in turn.
    const healthy = this.#healthy();
    const next = healthy[this.#turn++ % healthy.length] as Replica;
    await this.#check(next);
    return next.healthy && this.#holds(next, projection, minimum) ? this.#sourceOf(next, projection) : this.#primarySource;
  }

  /**
   * Where a read of several projections at once goes (a report): a replica known to hold
   * `minimum` in every one of them, else (after one fresh look) the primary. The source's
   * `position` is that of the first projection named; such a read takes the others from its rows.
   */
  async chooseForAll(projections: readonly [string, ...string[]], minimum?: number): Promise<ReadSource> {
    const holdsAll = (replica: Replica): boolean => projections.every((projection) => this.#holds(replica, projection, minimum));
    const healthy = this.#healthy();
    if (healthy.length === 0) return this.#primarySource;
    const start = this.#turn++;
    for (let i = 0; i < healthy.length; i++) {
      const replica = healthy[(start + i) % healthy.length] as Replica;
      if (holdsAll(replica)) return this.#sourceOf(replica, projections[0]);
    }
    const next = healthy[this.#turn++ % healthy.length] as Replica;
    await this.#check(next);
    return next.healthy && holdsAll(next) ? this.#sourceOf(next, projections[0]) : this.#primarySource;
  }

  #healthy(): Replica[] {
    return this.#replicas.length === 0 ? this.#replicas : this.#replicas.filter((replica) => replica.healthy);
  }

  #holds(replica: Replica, projection: string, minimum: number | undefined): boolean {
    return minimum === undefined || (replica.positions.get(projection) ?? 0) >= minimum;
  }

  #sourceOf(replica: Replica, projection: string): ReadSource {
    return {
      name: replica.name,
      position: replica.positions.get(projection) ?? 0,
      run: async (read) => {
        try {
          const answer = await withTimeout(read(replica.db), this.#timeoutMs, replica.name);
          replica.reads++;
          return answer;
        } catch (error) {
          this.#setAside(replica, error);
          return read(this.primary);
        }
      },
    };
  }

  /** The replicas and what is known of them (admin status, metrics, tests). */
  replicas(): ReplicaState[] {
    return this.#replicas.map((replica) => ({
      name: replica.name,
      healthy: replica.healthy,
      reads: replica.reads,
      positions: Object.fromEntries(replica.positions),
    }));
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#replicas.map((replica) => replica.db.destroy()));
  }
}
