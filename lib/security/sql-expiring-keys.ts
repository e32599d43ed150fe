/**
 * Expiring keys in SQL, for deployments without Redis: a SQLite file of the data dir in the
 * embedded default (so revocations survive a restart), or the MySQL/MariaDB database every
 * instance shares. Expired rows are swept now and then.
 *
 * The keys an access-token check reads on every request (revoked token ids, users whose
 * sessions changed: `mirrored` prefixes) are answered from memory: every instance loads the
 * live ones when it opens and then reads what was set since, every `pollMs`. A key set on this
 * instance is seen here at once, one set on another within `pollMs` (plus a query's time). Such
 * keys are only ever set, never deleted (delete() works here, but another instance's mirror
 * keeps the key until it expires).
 */
import type { Knex } from 'knex';
import { openDatabase, type DatabaseOptions } from '../db/database.ts';
import { sqlDialectOf } from '../db/dialect.ts';
import type { ExpiringKeys } from './expiring-keys.ts';

const TABLE = 'expiring_keys';

const migrations: Record<string, Knex.Migration> = {
  '001_expiring_keys': {
    async up(db) {
      await db.schema.createTable(TABLE, (table) => {
        table.string('name', 191).notNullable().primary();
        table.integer('hits').notNullable();
        table.bigInteger('expires_at').notNullable().index();
        /** When the key was last set (epoch ms of the instance that set it): what the mirrors poll. */
        table.bigInteger('set_at').notNullable().index();
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists(TABLE);
    },
  },
};

/** A row set this long before the newest one seen is read again: clocks of instances differ a little, commits land late. */
const POLL_OVERLAP_MS = 5_000;
const SWEEP_EVERY_MS = 60_000;

export interface SqlExpiringKeysOptions {
  /** Key prefixes answered from the in-memory mirror. */
  readonly mirrored?: readonly string[];
  readonly pollMs?: number;
  readonly now?: () => number;
  /** A poll or a sweep failed (they go on by themselves). */
  readonly onError?: (error: unknown) => void;
}

interface Row {
  name: string;
  hits: number | string;
  expires_at: number | string;
  set_at: number | string;
}

export class SqlExpiringKeys implements ExpiringKeys {
  readonly #db: Knex;
  readonly #now: () => number;
  readonly #mirrored: readonly string[];
  readonly #mirror = new Map<string, { count: number; expiresAt: number }>();
  readonly #onError: (error: unknown) => void;
  readonly #timers: NodeJS.Timeout[] = [];
  #newestSetAt = 0;
  #polling: Promise<void> | undefined;

  private constructor(db: Knex, options: SqlExpiringKeysOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#mirrored = options.mirrored ?? [];
    this.#onError = options.onError ?? (() => undefined);
  }

  static async open(database: DatabaseOptions, options: SqlExpiringKeysOptions = {}): Promise<SqlExpiringKeys> {
    const db = await openDatabase(database, { migrationsTable: 'expiring_keys_migrations', migrations });
    const keys = new SqlExpiringKeys(db, options);
    try {
      // Plain prefixes: no LIKE wildcard or escape to differ between MySQL and SQLite.
      if (keys.#mirrored.some((prefix) => !/^[a-z-]+:$/.test(prefix))) throw new Error('mirrored key prefixes are lower-case words ending in ":"');
      if (keys.#mirrored.length > 0) {
        await keys.#poll(true);
        keys.#every(options.pollMs ?? 500, () => keys.#poll(false));
      }
      keys.#every(SWEEP_EVERY_MS, () => keys.#sweep());
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return keys;
  }

  async increment(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }> {
    const now = this.#now();
    const row = sqlDialectOf(this.#db) === 'sqlite' ? await this.#incrementReturning(key, ttlMs, now) : await this.#incrementLocked(key, ttlMs, now);
    if (row === undefined) return { count: 1, ttlMs };
    const entry = { count: Number(row.hits), expiresAt: Number(row.expires_at) };
    if (this.#isMirrored(key)) this.#mirror.set(key, entry);
    return { count: entry.count, ttlMs: entry.expiresAt - now };
  }

  /**
   * SQLite: one statement that counts and gives the count back, so parallel increments each read
   * their own (a transaction held across an await would stall another connection of the same
   * process, whose busy wait blocks the event loop). A live key counts one more, an expired (or new)
   * one starts again at 1; every assignment reads the row as it was.
   */
  async #incrementReturning(key: string, ttlMs: number, now: number): Promise<Pick<Row, 'hits' | 'expires_at'> | undefined> {
    const rows = await this.#db.raw<Pick<Row, 'hits' | 'expires_at'>[]>(
      `INSERT INTO ${TABLE} (name, hits, expires_at, set_at) VALUES (?, 1, ?, ?)
       ON CONFLICT (name) DO UPDATE SET
         hits = CASE WHEN expires_at <= ? THEN 1 ELSE hits + 1 END,
         expires_at = CASE WHEN expires_at <= ? THEN ? ELSE expires_at END,
         set_at = ?
       RETURNING hits, expires_at`,
      [key, now + ttlMs, now, now, now, now + ttlMs, now],
    );
    return rows[0];
  }

  /**
   * MySQL/MariaDB: the upsert and the read back in one transaction; the upsert's row lock holds
   * parallel increments off until the count is read. The hits assignment comes first: MySQL
   * evaluates assignments left to right.
   */
  async #incrementLocked(key: string, ttlMs: number, now: number): Promise<Row | undefined> {
    return this.#db.transaction(async (trx) => {
      await trx(TABLE)
        .insert({ name: key, hits: 1, expires_at: now + ttlMs, set_at: now })
        .onConflict('name')
        .merge({
          hits: trx.raw('CASE WHEN ?? <= ? THEN 1 ELSE ?? + 1 END', ['expires_at', now, 'hits']),
          expires_at: trx.raw('CASE WHEN ?? <= ? THEN ? ELSE ?? END', ['expires_at', now, now + ttlMs, 'expires_at']),
          set_at: now,
        });
      return trx(TABLE).where({ name: key }).first<Row | undefined>('hits', 'expires_at');
    });
  }

  async set(key: string, expiresAt: number): Promise<void> {
    const now = this.#now();
    if (expiresAt <= now) return;
    await this.#db(TABLE).insert({ name: key, hits: 1, expires_at: expiresAt, set_at: now }).onConflict('name').merge(['hits', 'expires_at', 'set_at']);
    if (this.#isMirrored(key)) this.#mirror.set(key, { count: 1, expiresAt });
  }

  async get(key: string): Promise<{ count: number; ttlMs: number } | null> {
    const now = this.#now();
    if (this.#isMirrored(key)) {
      const entry = this.#mirror.get(key);
      return entry !== undefined && entry.expiresAt > now ? { count: entry.count, ttlMs: entry.expiresAt - now } : null;
    }
    const row = await this.#db(TABLE).where({ name: key }).andWhere('expires_at', '>', now).first<Row | undefined>('hits', 'expires_at');
    return row === undefined ? null : { count: Number(row.hits), ttlMs: Number(row.expires_at) - now };
  }

  async delete(key: string): Promise<void> {
    this.#mirror.delete(key);
    await this.#db(TABLE).where({ name: key }).delete();
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await this.#polling;
    await this.#db.destroy();
  }

  #isMirrored(key: string): boolean {
    return this.#mirrored.some((prefix) => key.startsWith(prefix));
  }

  #every(ms: number, work: () => Promise<void>): void {
    const timer = setInterval(() => void work().catch(this.#onError), ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Reads the mirrored keys set since the newest one seen (all live ones the first time). */
  async #poll(first: boolean): Promise<void> {
    if (this.#polling !== undefined) return;
    const polling = (async () => {
      const now = this.#now();
      const query = this.#db(TABLE).select<Row[]>('name', 'hits', 'expires_at', 'set_at')
        .where('expires_at', '>', now)
        .andWhere((where) => {
          for (const prefix of this.#mirrored) void where.orWhere('name', 'like', `${prefix}%`);
        });
      if (!first) void query.andWhere('set_at', '>=', this.#newestSetAt - POLL_OVERLAP_MS);
      for (const row of await query) {
        this.#mirror.set(row.name, { count: Number(row.hits), expiresAt: Number(row.expires_at) });
        this.#newestSetAt = Math.max(this.#newestSetAt, Number(row.set_at));
      }
      if (first) this.#newestSetAt = Math.max(this.#newestSetAt, now);
    })();
    this.#polling = polling;
    try {
      await polling;
    } finally {
      this.#polling = undefined;
    }
  }

  async #sweep(): Promise<void> {
    const now = this.#now();
    for (const [key, entry] of this.#mirror) if (entry.expiresAt <= now) this.#mirror.delete(key);
    await this.#db(TABLE).where('expires_at', '<=', now).delete();
  }
}
