import type { Redis } from 'ioredis';

/**
 * A set of keys that each expire at their own time: revoked token ids, failed-login counters.
 * In Redis when configured (shared by every instance), in memory otherwise (the embedded default).
 */
export interface ExpiringKeys {
  /** Adds one to the key's count; the first add sets when the key expires. Returns the new count and its ms left. */
  increment(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }>;
  /** Sets the key until `expiresAt` (epoch ms). */
  set(key: string, expiresAt: number): Promise<void>;
  /** The key's count and ms left, or null when absent or expired. */
  get(key: string): Promise<{ count: number; ttlMs: number } | null>;
  delete(key: string): Promise<void>;
}

export class MemoryExpiringKeys implements ExpiringKeys {
  readonly #entries = new Map<string, { count: number; expiresAt: number }>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    // Expired keys are dropped as they are read, and swept now and then so memory stays bounded.
    this.#sweeper = setInterval(() => this.#sweep(), 60_000);
    this.#sweeper.unref();
  }

  async increment(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }> {
    const now = this.#now();
    const current = this.#live(key, now);
    const entry = current ?? { count: 0, expiresAt: now + ttlMs };
    entry.count++;
    this.#entries.set(key, entry);
    return { count: entry.count, ttlMs: entry.expiresAt - now };
  }

  async set(key: string, expiresAt: number): Promise<void> {
    if (expiresAt > this.#now()) this.#entries.set(key, { count: 1, expiresAt });
  }

  async get(key: string): Promise<{ count: number; ttlMs: number } | null> {
    const now = this.#now();
    const entry = this.#live(key, now);
    return entry ? { count: entry.count, ttlMs: entry.expiresAt - now } : null;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #live(key: string, now: number): { count: number; expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}

export class RedisExpiringKeys implements ExpiringKeys {
  constructor(private readonly redis: Redis, private readonly prefix = 'boxoffice:') {}

  async increment(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }> {
    const full = this.prefix + key;
    // One round trip: count, set the expiry on the first count only, read what is left.
    const [[, count], , [, left]] = (await this.redis.multi().incr(full).pexpire(full, ttlMs, 'NX').pttl(full).exec()) as [
      [Error | null, number], [Error | null, number], [Error | null, number],
    ];
    return { count, ttlMs: left };
  }

  async set(key: string, expiresAt: number): Promise<void> {
    if (expiresAt > Date.now()) await this.redis.set(this.prefix + key, '1', 'PXAT', expiresAt);
  }

  async get(key: string): Promise<{ count: number; ttlMs: number } | null> {
    const full = this.prefix + key;
    const [[, value], [, left]] = (await this.redis.multi().get(full).pttl(full).exec()) as [[Error | null, string | null], [Error | null, number]];
    return value === null ? null : { count: Number(value), ttlMs: left };
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
