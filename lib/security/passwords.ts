import argon2, { type HashOptions } from 'argon2';
import bcrypt from 'bcryptjs';
import { dictionary } from '@zxcvbn-ts/language-common';
import type { Config } from '../config.ts';

/**
 * argon2id hashing. The argon2 package hashes on libuv's thread pool, off the event loop.
 * `verifyNothing` spends the same time as a real verification, so a login for an unknown user
 * cannot be told from a wrong password by how long it takes.
 *
 * Accounts imported from the older system (`import:legacy`) keep its bcrypt hash (`$2a$…`) until
 * their next sign-in: `verify` checks it, and `needsRehash` says yes, so the login path hashes
 * the same password again with argon2id (the upgrade path of older argon2 parameters).
 */
export class PasswordHasher {
  readonly #options: HashOptions & { raw: false };
  #dummy: Promise<string> | undefined;

  constructor(params: Config['argon2']) {
    this.#options = {
      type: argon2.argon2id,
      raw: false,
      memoryCost: params.memoryKib,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.#options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    if (isBcrypt(hash)) return bcrypt.compare(password, hash).catch(() => false);
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false; // a malformed stored hash matches nothing
    }
  }

  /** Verifies against a hash of nothing in particular, and answers false. */
  async verifyNothing(password: string): Promise<false> {
    this.#dummy ??= argon2.hash('not a password anyone has', this.#options);
    const dummy = await this.#dummy;
    await argon2.verify(dummy, password);
    return false;
  }

  /** Hashed with weaker parameters than today's: rehash at the next successful login. */
  needsRehash(hash: string): boolean {
    return isBcrypt(hash) || argon2.needsRehash(hash, this.#options);
  }
}

/** A bcrypt hash as the older system's Go services wrote it (`$2a$10$…`; `$2b$`/`$2y$` are the same algorithm). */
export function isBcrypt(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}

export const MIN_PASSWORD_LENGTH = 10;

/** The bundled list of the most common passwords (zxcvbn's, from real leaks) long enough to pass the length rule. */
const COMMON = new Set(dictionary['passwords-common'].filter((password) => password.length >= MIN_PASSWORD_LENGTH));

/** Why a new password is refused, or null when it is acceptable. */
export function weakPasswordReason(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'this is one of the most common passwords; choose another';
  if (new Set(lower).size <= 2) return 'a password needs more than two different characters';
  if (username.length >= 3 && lower.includes(username.toLowerCase())) return 'a password must not contain your username';
  return null;
}
