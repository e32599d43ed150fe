import type { Sealed } from '../../domain/index.ts';
import type { KeyStore } from './key-store.ts';
import { seal, unseal } from './seal.ts';

/** Seals and opens personal data as JSON, with the owning user's key. */
export class PersonalData {
  constructor(private readonly keys: KeyStore) {}

  async seal(userId: string, value: unknown): Promise<Sealed> {
    return seal(await this.keys.keyFor(userId), JSON.stringify(value));
  }

  /** The value, or null when its key was deleted (the user was forgotten). */
  async open<T>(sealed: Sealed): Promise<T | null> {
    const key = await this.keys.find(sealed.key_id);
    return key === null ? null : (JSON.parse(unseal(key, sealed)) as T);
  }

  /** Crypto-shredding: deletes the user's key, after which nothing sealed with it opens again. */
  async forget(userId: string): Promise<void> {
    await this.keys.forget(userId);
  }
}
