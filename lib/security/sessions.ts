/**
 * What an access token is checked against besides its signature and the revocation list: the
 * user's current session record — generation, role, verified address, still active — so that a
 * password change, a role change or forget-me ends every token issued before it, and a token's
 * role and verification are never older than the user's.
 *
 * The hot path stays free of I/O for nearly every request. A change that touches the record is
 * first marked in the shared expiring keys (`session:<userId>`, Redis or SQL, kept as long as a
 * token lives), then appended. A user without a mark has changed nothing that any live token
 * predates: the token's own claims are the current record. Only a marked user's record is read,
 * by folding their stream from the event store, which every instance shares.
 *
 * Staleness: this instance answers from memory for FRESH_MS (500 ms); the mark of a change made
 * on another instance is seen after at most that plus the shared store's own delay (none in
 * Redis; the SQL mirror's poll, 500 ms): another instance's change ends a token within 1 s.
 * On the instance that made the change, at once (write-through).
 */
import type { Role, UserState } from '../../domain/user/index.ts';
import { userEvents, userDecider, userStream } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { setNewest } from '../bounded-map.ts';
import type { ExpiringKeys } from './expiring-keys.ts';

export interface UserSession {
  readonly generation: number;
  readonly role: Role;
  readonly emailVerified: boolean;
  /** False once the user's personal data was forgotten. */
  readonly active: boolean;
}

/** Nothing changed for this user while any live token was issued: its claims stand. */
export const UNCHANGED = 'unchanged';

export const FRESH_MS = 500;
/** Prefix of the marks in the shared expiring keys. */
export const SESSION_MARK_PREFIX = 'session:';
/** Kept past a token's lifetime by this much: clocks of instances differ a little. */
const MARK_MARGIN_MS = 60_000;
/** Entries remembered at most; past that the oldest go (a flash sale signs in many users). */
const MAX_REMEMBERED = 100_000;

export interface SessionsOptions {
  readonly keys: ExpiringKeys;
  /** The user's record now, null when there is no such user. */
  readonly load: (userId: string) => Promise<UserSession | null>;
  /** How long an access token lives. */
  readonly tokenTtlMs: number;
  readonly now?: () => number;
}

type Known = UserSession | null | typeof UNCHANGED;

export class Sessions {
  readonly #options: SessionsOptions;
  readonly #now: () => number;
  readonly #remembered = new Map<string, { readonly value: Known; readonly at: number }>();

  constructor(options: SessionsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Before a change that may touch the record: marks it for every instance. */
  async changing(userId: string): Promise<void> {
    this.#remembered.delete(userId);
    await this.#options.keys.set(SESSION_MARK_PREFIX + userId, this.#now() + this.#options.tokenTtlMs + MARK_MARGIN_MS);
  }

  /** After the change: this instance knows the new record at once. */
  changed(userId: string, session: UserSession | null): void {
    this.#remember(userId, session);
  }

  /** The user's current record, or UNCHANGED when the token's claims are it. */
  async current(userId: string): Promise<Known> {
    const remembered = this.#remembered.get(userId);
    if (remembered !== undefined && this.#now() - remembered.at < FRESH_MS) return remembered.value;
    let marked = true;
    try {
      marked = (await this.#options.keys.get(SESSION_MARK_PREFIX + userId)) !== null;
    } catch {
      // The shared keys are away (Redis down): the event store still tells the truth.
    }
    const value = marked ? await this.#options.load(userId) : UNCHANGED;
    this.#remember(userId, value);
    return value;
  }

  #remember(userId: string, value: Known): void {
    setNewest(this.#remembered, userId, { value, at: this.#now() }, MAX_REMEMBERED);
  }
}

export function sessionOf(state: UserState): UserSession | null {
  if (state.status === 'none') return null;
  return { generation: state.generation, role: state.role, emailVerified: state.emailVerified, active: state.status === 'active' };
}

/** Reads a user's record by folding their stream. */
export function userSessionsFrom(store: EventStore): (userId: string) => Promise<UserSession | null> {
  return async (userId) => {
    let state = userDecider.initialState();
    for (const recorded of await store.readStream(userStream(userId))) state = userDecider.evolve(state, decode(recorded, userEvents));
    return sessionOf(state);
  };
}
