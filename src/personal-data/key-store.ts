/**
 * Per-user data keys, kept outside the event store: forgetting a user deletes their key, and
 * every value ever sealed with it becomes noise while the events stay intact and replayable
 * (crypto-shredding). Keys are stored wrapped under the master key (PERSONAL_DATA_KEY), in
 * MySQL/MariaDB or, in the embedded default, a SQLite file of their own with secure_delete on,
 * so a deleted key is overwritten on disk rather than left in a free page.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { runMigrations } from '../db/migrations.ts';
import { unwrapKey, wrapKey, type DataKey } from './seal.ts';

export type KeyStoreOptions =
  | { readonly client: 'mysql2'; readonly url: string }
  | { readonly client: 'better-sqlite3'; readonly filename: string };

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

export class KeyStore {
  readonly #db: Knex;
  readonly #masterKey: Buffer;
  /** Unwrapped keys for sealing, by user: the booking path seals on every request. */
  readonly #sealingKeys = new Map<string, DataKey>();

  private constructor(db: Knex, masterKey: Buffer) {
    this.#db = db;
    this.#masterKey = masterKey;
  }

  static async open(options: KeyStoreOptions, masterKey: Buffer): Promise<KeyStore> {
    if (masterKey.length !== 32) throw new Error('the personal data master key must be 32 bytes');
    const db = options.client === 'mysql2'
      ? knex({ client: 'mysql2', connection: options.url, pool: { min: 0, max: 5 } })
      : knex({
          client: 'better-sqlite3',
          connection: { filename: options.filename },
          useNullAsDefault: true,
          pool: {
            afterCreate: (connection: { pragma(source: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
              connection.pragma('journal_mode = WAL');
              connection.pragma('secure_delete = ON');
              connection.pragma('busy_timeout = 5000');
              done(null, connection);
            },
          },
        });
    try {
      await runMigrations(db, 'personal_data_migrations', migrations);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new KeyStore(db, masterKey);
  }

  /** The user's data key, made on first use. */
  async keyFor(userId: string): Promise<DataKey> {
    const cached = this.#sealingKeys.get(userId);
    if (cached) return cached;
    let key = await this.#stored(userId);
    if (key === null) {
      const fresh: DataKey = { keyId: randomUUID(), key: randomBytes(32) };
      try {
        await this.#db('personal_data_keys').insert({
          key_id: fresh.keyId,
          user_id: userId,
          wrapped_key: wrapKey(this.#masterKey, fresh),
          created_at: Date.now(),
        });
        key = fresh;
      } catch (error) {
        key = await this.#stored(userId); // another request made it first
        if (key === null) throw error;
      }
    }
    this.#sealingKeys.set(userId, key);
    return key;
  }

  /** A key by id, for opening sealed values; null once its user was forgotten. Never cached. */
  async find(keyId: string): Promise<DataKey | null> {
    const row = await this.#db('personal_data_keys').where({ key_id: keyId }).first<{ wrapped_key: string } | undefined>('wrapped_key');
    return row === undefined ? null : unwrapKey(this.#masterKey, keyId, row.wrapped_key);
  }

  /** Deletes the user's key: everything sealed with it can no longer be read. */
  async forget(userId: string): Promise<boolean> {
    this.#sealingKeys.delete(userId);
    return (await this.#db('personal_data_keys').where({ user_id: userId }).delete()) > 0;
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  async #stored(userId: string): Promise<DataKey | null> {
    const row = await this.#db('personal_data_keys').where({ user_id: userId })
      .first<{ key_id: string; wrapped_key: string } | undefined>('key_id', 'wrapped_key');
    return row === undefined ? null : unwrapKey(this.#masterKey, row.key_id, row.wrapped_key);
  }
}
