/**
 * Per-user data keys, kept outside the event store: forgetting a user deletes their key, and
 * every value ever sealed with it becomes noise while the events stay intact and replayable
 * (crypto-shredding). Keys are stored wrapped under the master key (PERSONAL_DATA_KEY), in
 * MySQL/MariaDB or, in the embedded default, a SQLite file of their own with secure_delete on,
 * so a deleted key is overwritten on disk rather than left in a free page.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Batcher } from '../batcher.ts';
import { openDatabase, type DatabaseOptions } from '../db/database.ts';
import { KeySlots } from './key-slots.ts';
import { unwrapKey, wrapKey, type DataKey } from './seal.ts';

export type KeyStoreOptions = DatabaseOptions;

const migrations: Record<string, Knex.Migration> = {
  '001_personal_data_keys': {
    async up(db) {
      await db.schema.createTable('personal_data_keys', (table) => {
        table.string('key_id', 36).notNullable().primary();
        table.string('user_id', 64).notNullable().unique();
        table.text('wrapped_key').notNullable();
        table.bigInteger('created_at').notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('personal_data_keys');
    },
  },
};

const MAX_BATCH = 500;
/** Each cached key is about 200 bytes with its map entry: 100,000 keep a sale of that many buyers in 20 MB. */
const SEALING_KEYS_CACHED = 100_000;

interface KeyFind {
  readonly keyId: string;
  readonly resolve: (key: DataKey | null) => void;
  readonly reject: (error: unknown) => void;
}

interface KeyAsk {
  readonly userId: string;
  readonly resolve: (key: DataKey) => void;
  readonly reject: (error: unknown) => void;
}

export class KeyStore {
  readonly #db: Knex;
  readonly #masterKey: Buffer;
  /** Unwrapped keys for sealing, by user: the booking path seals on every request. The newest SEALING_KEYS_CACHED: a sale of a million buyers must not keep a million keys in memory. */
  readonly #sealingKeys = new KeySlots(SEALING_KEYS_CACHED);
  readonly #pending = new Map<string, Promise<DataKey>>();
  /** Forgets begun on this instance: a key read before one of them is not cached. */
  #forgets = 0;
  readonly #batcher = new Batcher<KeyAsk>(MAX_BATCH, (batch) => this.#loadBatch(batch));
  readonly #finder = new Batcher<KeyFind>(MAX_BATCH, (batch) => this.#findBatch(batch));

  private constructor(db: Knex, masterKey: Buffer) {
    this.#db = db;
    this.#masterKey = masterKey;
  }

  static async open(options: KeyStoreOptions, masterKey: Buffer): Promise<KeyStore> {
    if (masterKey.length !== 32) throw new Error('the personal data master key must be 32 bytes');
    // secure_delete: a forgotten user's key is overwritten on disk, not left in a free page.
    const db = await openDatabase(options, { migrationsTable: 'personal_data_migrations', migrations, sqlitePragmas: ['secure_delete = ON'] });
    return new KeyStore(db, masterKey);
  }

  /**
   * The user's data key, made on first use. During a rush every booking asks for a different
   * user's key: the asks are batched (src/batcher.ts), one SELECT (and one INSERT for the new)
   * for all that arrived while the previous lookup was out.
   */
  async keyFor(userId: string): Promise<DataKey> {
    const cached = this.#sealingKeys.get(userId);
    if (cached) return cached;
    let waiting = this.#pending.get(userId);
    if (waiting === undefined) {
      waiting = new Promise<DataKey>((resolve, reject) => this.#batcher.push({ userId, resolve, reject }));
      this.#pending.set(userId, waiting);
    }
    return waiting;
  }

  async #loadBatch(batch: readonly KeyAsk[]): Promise<void> {
    const userIds = batch.map((asked) => asked.userId);
    // A forget that runs while this batch reads may delete a key the read still returns: caching
    // it would put a forgotten key back in memory, and seal with it from then on.
    const forgetsBefore = this.#forgets;
    try {
      const found = await this.#storedMany(userIds);
      const fresh = userIds.filter((id) => !found.has(id)).map((userId) => ({ userId, key: { keyId: randomUUID(), key: randomBytes(32) } }));
      if (fresh.length > 0) {
        await this.#db('personal_data_keys')
          .insert(fresh.map(({ userId, key }) => ({ key_id: key.keyId, user_id: userId, wrapped_key: wrapKey(this.#masterKey, key), created_at: Date.now() })))
          .onConflict('user_id').ignore();
        // Another instance may have made some of them first: read back what is stored.
        for (const [userId, key] of await this.#storedMany(fresh.map((f) => f.userId))) found.set(userId, key);
      }
      for (const asked of batch) {
        const key = found.get(asked.userId);
        if (key === undefined) asked.reject(new Error(`no data key could be made for user ${asked.userId}`));
        else {
          if (this.#forgets === forgetsBefore) this.#sealingKeys.set(asked.userId, key);
          asked.resolve(key);
        }
      }
    } catch (error) {
      for (const asked of batch) asked.reject(error);
    } finally {
      for (const asked of batch) this.#pending.delete(asked.userId);
    }
  }

  /**
   * A key by id, for opening sealed values; null once its user was forgotten. Never cached, but
   * batched: the opens in flight together (every scan at the door opens a holder) share one
   * SELECT. A find asked after a forget has finished goes in a later batch, so it never sees the key.
   */
  async find(keyId: string): Promise<DataKey | null> {
    return new Promise<DataKey | null>((resolve, reject) => this.#finder.push({ keyId, resolve, reject }));
  }

  async #findBatch(batch: readonly KeyFind[]): Promise<void> {
    try {
      const rows = await this.#db('personal_data_keys').whereIn('key_id', [...new Set(batch.map((asked) => asked.keyId))])
        .select<{ key_id: string; wrapped_key: string }[]>('key_id', 'wrapped_key');
      const found = new Map(rows.map((row) => [row.key_id, unwrapKey(this.#masterKey, row.key_id, row.wrapped_key)]));
      for (const asked of batch) asked.resolve(found.get(asked.keyId) ?? null);
    } catch (error) {
      for (const asked of batch) asked.reject(error);
    }
  }

  /** Deletes the user's key: everything sealed with it can no longer be read. */
  async forget(userId: string): Promise<boolean> {
    this.#forgets++;
    this.#sealingKeys.delete(userId);
    return (await this.#db('personal_data_keys').where({ user_id: userId }).delete()) > 0;
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  async #storedMany(userIds: readonly string[]): Promise<Map<string, DataKey>> {
    const rows = await this.#db('personal_data_keys').whereIn('user_id', userIds)
      .select<{ user_id: string; key_id: string; wrapped_key: string }[]>('user_id', 'key_id', 'wrapped_key');
    return new Map(rows.map((row) => [row.user_id, unwrapKey(this.#masterKey, row.key_id, row.wrapped_key)]));
  }
}
