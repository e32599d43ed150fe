/**
 * Accounts: registration, email verification, login, profile changes and the admin bootstrap.
 * Uniqueness lives in claim streams (`username-<normalized>`, `email-<keyed digest>`) appended with
 * "no stream" first: the event store, not a read model, decides who got a name. Login finds the
 * account through the same claim stream, so an account can log in the moment registration
 * answers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DomainError, type CommandContext, type Sealed } from '../../domain/index.ts';
import { claimDecider, claimStream, type ClaimKind, type ReleaseValue } from '../../domain/claim/index.ts';
import {
  isReservedUsername,
  normalizeEmail,
  normalizeUsername,
  userDecider,
  userStream,
  type Role,
  type UserCommand,
  type UserState,
} from '../../domain/user/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { AppError, isRefusal, unauthorized } from '../../lib/errors.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { weakPasswordReason, type PasswordHasher } from '../../lib/security/passwords.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { EmailTokens } from './email-token.ts';
import type { EmailMailLimits } from './email-limits.ts';

export type KnownUser = Exclude<UserState, { status: 'none' }>;

export interface Profile {
  readonly id: string;
  readonly username: string;
  /** null once the user's personal data was forgotten. */
  readonly email: string | null;
  readonly role: Role;
  readonly email_verified: boolean;
  readonly created_at: string;
  readonly last_login: string | null;
}

export interface UserServiceDeps {
  readonly store: EventStore;
  readonly commands: CommandHandler;
  readonly passwords: PasswordHasher;
  readonly personalData: PersonalData;
  readonly mailer: Mailer;
  readonly emailTokens: EmailTokens;
  /** The keyed digest of an address (lib/personal-data/digest.ts emailDigest under the digest key). */
  readonly emailDigest: (email: string) => string;
  /** Verification mails per user and per address: email changes and resends count. */
  readonly emailLimits: EmailMailLimits;
  readonly publicUrl: string;
  readonly now: () => Date;
  /** Mail goes out after the answer; a failure to send is reported here. */
  readonly onMailError: (error: unknown) => void;
}

/**
 * A claim whose owner does not have the value (a crash between the claim and the account, or
 * between the claim and the address change, or before the old address was released) is freed
 * after this.
 */
const STALE_CLAIM_AFTER_MS = 2 * 60_000;

/**
 * The plain sha256 that named an address's claim stream before the digests were keyed: an address
 * registered then is still claimed under it until its user changes it or is forgotten. Only
 * looked up, never written.
 */
const legacyEmailHash = (email: string): string => createHash('sha256').update(normalizeEmail(email)).digest('hex');

/** The username `admin` belongs to an account that is not an active admin: ensureAdmin leaves it as it is. */
export class AdminUsernameHeld extends Error {
  constructor(readonly accountId: string) {
    super('the username "admin" belongs to an account that is not an active admin; BOXOFFICE_ADMIN_PASSWORD cannot take it over');
  }
}

/** The release of a claim of `ownerId`'s; with `claimNumber`, of that claim only. */
function releaseValue(kind: ClaimKind, key: string, ownerId: string, now: string, claimNumber?: number): ReleaseValue {
  return { type: 'ReleaseValue', kind, value_key: key, owner_id: ownerId, now, ...(claimNumber === undefined ? {} : { claim_number: claimNumber }) };
}

/**
 * Releases a claim of `ownerId`'s (as of the context's instant); one that someone else holds by
 * now is theirs, and stays. With `claimNumber`, only that claim: one made again since stays too.
 */
export async function releaseOwnClaim(commands: CommandHandler, kind: ClaimKind, key: string, ownerId: string, context: CommandContext, claimNumber?: number): Promise<void> {
  try {
    await commands.execute(claimStream(kind, key), claimDecider, releaseValue(kind, key, ownerId, context.occurredAt, claimNumber), context);
  } catch (error) {
    if (!isRefusal(error, 'CLAIM_NOT_OWNED')) throw error;
  }
}

export class UserService {
  /** Mails handed to the mailer and not yet sent: a graceful shutdown waits for them. */
  readonly #sending = new Set<Promise<void>>();

  constructor(private readonly deps: UserServiceDeps) {}

  /** Resolves when every mail already being sent has gone out (or failed). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#sending]);
  }

  /**
   * A new customer account. With an Idempotency-Key the account's id derives from the key and the
   * username (there is no user yet to scope the key by): the same request again answers the account
   * as it is now with the position of its registration and appends nothing (no second mail); another
   * address or password under that key and username is IDEMPOTENCY_KEY_REUSED.
   */
  async register(input: { username: string; email: string; password: string }, request: RequestContext, idempotencyKey?: string): Promise<{ profile: Profile; position: number }> {
    if (isReservedUsername(input.username)) throw new DomainError('USERNAME_TAKEN', 'this username is reserved');
    const weak = weakPasswordReason(input.password, input.username);
    if (weak !== null) throw new AppError('WEAK_PASSWORD', weak);
    const userId = idempotencyKey === undefined ? undefined : derivedUuid('user', normalizeUsername(input.username), idempotencyKey);
    if (userId !== undefined) {
      const replayed = await this.#registeredAlready(userId, input, request);
      if (replayed !== null) return replayed;
    }
    const passwordHash = await this.deps.passwords.hash(input.password);
    try {
      return await this.#createAccount({ username: input.username, email: input.email, passwordHash, role: 'customer', userId }, request);
    } catch (error) {
      // The same key at the same moment: the other request registered it first.
      if (userId === undefined || !isRefusal(error, 'USER_ALREADY_EXISTS')) throw error;
      const replayed = await this.#registeredAlready(userId, input, request);
      if (replayed === null) throw error;
      return replayed;
    }
  }

  /** The account a request with an Idempotency-Key registered before, if any; refused when this request is another. */
  async #registeredAlready(userId: string, input: { username: string; email: string; password: string }, request: RequestContext): Promise<{ profile: Profile; position: number } | null> {
    const [registered] = await this.deps.store.readStream(userStream(userId), { maxCount: 1 });
    if (registered === undefined) return null;
    // Given up while it stalled, its name or address taken over: answered as the refused attempt was.
    if (registered.type === 'RegistrationAbandoned') {
      throw await this.#abandoned(userId, normalizeUsername(input.username), this.deps.emailDigest(normalizeEmail(input.email)), this.#context(request, userId));
    }
    const user = await this.#knownUser(userId);
    const same = user !== null && user.status === 'active' && user.username === input.username
      && user.emailHashes.includes(this.deps.emailDigest(normalizeEmail(input.email)))
      && await this.deps.passwords.verify(user.passwordHash, input.password);
    if (!same) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different registration');
    return { profile: await this.#profileOf(user), position: registered.position };
  }

  /**
   * A verified customer account through the normal command path, for load tests (`users:seed`):
   * 'existed' when the username is taken already.
   */
  async createVerified(input: { username: string; email: string; password: string }, request: RequestContext): Promise<'created' | 'existed'> {
    try {
      await this.#createAccount({ ...input, passwordHash: await this.deps.passwords.hash(input.password), role: 'customer', verified: true }, request);
      return 'created';
    } catch (error) {
      if (isRefusal(error, 'USERNAME_TAKEN')) return 'existed';
      throw error;
    }
  }

  async #createAccount(
    input: { username: string; email: string; passwordHash: string; role: Role; verified?: boolean; userId?: string | undefined },
    request: RequestContext,
  ): Promise<{ profile: Profile; position: number }> {
    const userId = input.userId ?? randomUUID();
    const context = this.#context(request, userId);
    const email = normalizeEmail(input.email);
    const emailHash = this.deps.emailDigest(email);
    const usernameKey = normalizeUsername(input.username);
    await this.#claim('username', usernameKey, userId, context);
    try {
      await this.#claimEmail(email, emailHash, userId, context);
    } catch (error) {
      // An id derived from an Idempotency-Key may be another request's at this moment, the one
      // that registers the account: its username claim then stays, and is freed as an orphan if
      // no account comes of it.
      if (input.userId === undefined) await this.#releaseOwn('username', usernameKey, userId, context);
      throw error;
    }
    let result;
    try {
      result = await this.deps.commands.execute(userStream(userId), userDecider, {
        type: 'RegisterUser',
        user_id: userId,
        username: input.username,
        email_hash: emailHash,
        email: await this.deps.personalData.seal(userId, email),
        password_hash: input.passwordHash,
        role: input.role,
        now: context.occurredAt,
      }, context);
    } catch (error) {
      // Claimed as an orphan while this request ran (a retry under the Idempotency-Key of a registration long stalled).
      if (isRefusal(error, 'REGISTRATION_ABANDONED')) throw await this.#abandoned(userId, usernameKey, emailHash, context);
      // Another request with the same Idempotency-Key registered it first: an address this one claimed and that one did not is freed.
      if (isRefusal(error, 'USER_ALREADY_EXISTS') && !((await this.#knownUser(userId))?.emailHashes.includes(emailHash) ?? true)) {
        await this.#releaseOwn('email', emailHash, userId, context);
      }
      throw error;
    }
    if (input.verified === true) {
      const verified = await this.deps.commands.execute(userStream(userId), userDecider, { type: 'VerifyEmail', email_hash: emailHash, now: context.occurredAt }, context);
      return { profile: await this.#profileOf(verified.state as KnownUser), position: verified.position };
    }
    this.#sendVerification(userId, email, emailHash);
    return { profile: await this.#profileOf(result.state as KnownUser), position: result.position };
  }

  /** The account with this username, or null. */
  async findByUsername(username: string): Promise<KnownUser | null> {
    const owner = await this.#ownerOf('username', normalizeUsername(username));
    return owner === null ? null : this.#knownUser(owner);
  }

  /**
   * Checks the credentials and records the login. Null for an unknown user, a forgotten one or a
   * wrong password alike, after the same argon2 work in every case.
   */
  async login(username: string, password: string, request: RequestContext): Promise<{ profile: Profile; position: number; generation: number } | null> {
    const user = await this.findByUsername(username);
    if (user === null || user.status !== 'active') return this.deps.passwords.verifyNothing(password).then(() => null);
    if (!(await this.deps.passwords.verify(user.passwordHash, password))) return null;
    const context = this.#context(request, user.userId);
    const stream = userStream(user.userId);
    if (this.deps.passwords.needsRehash(user.passwordHash)) {
      const passwordHash = await this.deps.passwords.hash(password);
      // The same password: the user's other sessions go on.
      await this.deps.commands.execute(stream, userDecider, { type: 'ChangePassword', password_hash: passwordHash, rehash: true, now: context.occurredAt }, context);
    }
    const result = await this.deps.commands.execute(stream, userDecider, { type: 'RecordLogin', now: context.occurredAt }, context);
    const signedIn = result.state as KnownUser;
    return { profile: await this.#profileOf(signedIn), position: result.position, generation: signedIn.generation };
  }

  async profile(userId: string): Promise<Profile | null> {
    const user = await this.#knownUser(userId);
    return user === null ? null : this.#profileOf(user);
  }

  /** Sends the verification mail again, to the current address. */
  async resendVerification(userId: string): Promise<void> {
    const user = await this.#knownUser(userId);
    if (user === null || user.status !== 'active') throw unauthorized('this account no longer exists');
    if (user.emailVerified) throw new DomainError('EMAIL_ALREADY_VERIFIED', 'this email address is already verified');
    const email = await this.deps.personalData.open<string>(user.email);
    if (email === null) throw unauthorized('this account no longer exists');
    await this.deps.emailLimits.count(userId, user.emailHash);
    this.#sendVerification(userId, email, user.emailHash);
  }

  async verifyEmail(token: string, request: RequestContext): Promise<{ position: number }> {
    const { userId, emailHash } = this.deps.emailTokens.read(token);
    const context = this.#context(request, userId);
    try {
      const result = await this.deps.commands.execute(userStream(userId), userDecider, { type: 'VerifyEmail', email_hash: emailHash, now: context.occurredAt }, context);
      return { position: result.position };
    } catch (error) {
      if (isRefusal(error, 'USER_NOT_FOUND', 'USER_FORGOTTEN')) {
        throw new AppError('VERIFICATION_TOKEN_INVALID', 'this verification link is not valid');
      }
      throw error;
    }
  }

  /** Changes the email address and/or the password; the current password is required for either. */
  async updateProfile(
    userId: string,
    input: { email?: string; password?: string; current_password: string },
    request: RequestContext,
  ): Promise<{ profile: Profile; position: number }> {
    const user = await this.#knownUser(userId);
    if (user === null || user.status !== 'active') throw unauthorized('this account no longer exists');
    if (!(await this.deps.passwords.verify(user.passwordHash, input.current_password))) {
      throw new AppError('CURRENT_PASSWORD_INCORRECT', 'the current password is not correct');
    }
    const context = this.#context(request, userId);
    const stream = userStream(userId);
    let position = 0;
    const email = input.email === undefined ? null : normalizeEmail(input.email);
    const emailHash = email === null ? null : this.deps.emailDigest(email);
    // Counted before anything is appended: a change refused for the limit changes nothing, the password included.
    if (emailHash !== null && emailHash !== user.emailHash) await this.deps.emailLimits.count(userId, emailHash);
    if (input.password !== undefined) {
      const weak = weakPasswordReason(input.password, user.username);
      if (weak !== null) throw new AppError('WEAK_PASSWORD', weak);
      const passwordHash = await this.deps.passwords.hash(input.password);
      position = (await this.deps.commands.execute(stream, userDecider, { type: 'ChangePassword', password_hash: passwordHash, now: context.occurredAt }, context)).position;
    }
    if (email !== null && emailHash !== null && emailHash !== user.emailHash) {
      position = (await this.#changeEmail(user, email, emailHash, context)) ?? position;
    }
    const profile = await this.profile(userId);
    if (profile === null) throw new Error(`user ${userId} vanished while changing its profile`);
    return { profile, position: position || (await this.deps.commands.load(stream, userDecider)).position };
  }

  /**
   * Claims the new address (its mail already counted against the limits), then appends the
   * change on the user's stream as it is when appended, and releases exactly the address that
   * change replaced (not the one this request first saw): of parallel changes each releases its
   * predecessor, so only the final address stays claimed. The position of the change, or null
   * when the address was already the user's (a parallel request made the same change).
   */
  async #changeEmail(user: KnownUser, email: string, emailHash: string, context: CommandContext): Promise<number | null> {
    const { userId } = user;
    const claim = await this.#claimEmail(email, emailHash, userId, context);
    let replaced: string | null = null;
    let changed;
    try {
      const sealed = await this.deps.personalData.seal(userId, email);
      changed = await this.deps.commands.execute(userStream(userId), userDecider, (state) => {
        // Runs again on the reloaded stream after a conflict: `replaced` is the address the appended change replaced.
        replaced = state.status === 'none' ? null : state.emailHash;
        return { type: 'ChangeEmail', email_hash: emailHash, email: sealed, claim_number: claim, now: context.occurredAt } as const;
      }, context);
    } catch (error) {
      // The claim this change made or found, unless the address was given to someone else since
      // (the change stalled past the lapse), or claimed again (by another request of the user's).
      await this.#releaseOwn('email', emailHash, userId, context, claim);
      throw error;
    }
    if (changed.events.length === 0) return null;
    if (replaced !== null && replaced !== emailHash) await this.#releaseUnlessCurrent(userId, replaced, context);
    this.#sendVerification(userId, email, emailHash);
    return changed.position;
  }

  /** Releases one of the user's addresses, unless a later change made it the current one again. */
  async #releaseUnlessCurrent(userId: string, emailHash: string, context: CommandContext): Promise<void> {
    const now = await this.#knownUser(userId);
    if (now !== null && now.status === 'active' && now.emailHash === emailHash) return;
    await this.#releaseOwn('email', emailHash, userId, context);
  }

  async #releaseOwn(kind: ClaimKind, key: string, ownerId: string, context: CommandContext, claimNumber?: number): Promise<void> {
    await releaseOwnClaim(this.deps.commands, kind, key, ownerId, context, claimNumber);
  }

  /**
   * Makes sure an account `admin` with the admin role, a verified address and this password
   * exists. Safe to run at every boot, and by several instances at once.
   */
  async ensureAdmin(password: string, email: string): Promise<void> {
    const request: RequestContext = { correlationId: `bootstrap-${randomUUID()}`, causationId: 'admin-bootstrap' };
    for (let attempt = 0; attempt < 40; attempt++) {
      const admin = await this.findByUsername('admin');
      if (admin === null) {
        try {
          await this.#createAccount({ username: 'admin', email, passwordHash: await this.deps.passwords.hash(password), role: 'admin', verified: true }, request);
        } catch (error) {
          // Another instance is creating it right now: wait for its account to appear.
          if (!isRefusal(error, 'USERNAME_TAKEN', 'EMAIL_TAKEN')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        continue;
      }
      if (admin.role !== 'admin' || admin.status !== 'active') throw new AdminUsernameHeld(admin.userId);
      const context = this.#context(request, admin.userId);
      const stream = userStream(admin.userId);
      if (!(await this.deps.passwords.verify(admin.passwordHash, password))) {
        await this.deps.commands.execute(stream, userDecider, { type: 'ChangePassword', password_hash: await this.deps.passwords.hash(password), now: context.occurredAt }, context);
      }
      if (!admin.emailVerified) {
        try {
          await this.deps.commands.execute(stream, userDecider, { type: 'VerifyEmail', email_hash: admin.emailHash, now: context.occurredAt }, context);
        } catch (error) {
          // Another instance verified it a moment ago.
          if (!isRefusal(error, 'EMAIL_ALREADY_VERIFIED')) throw error;
        }
      }
      return;
    }
    throw new Error('the admin account did not appear: another instance started creating it and did not finish');
  }

  /** An admin gives the user another role; their existing tokens stop working. Null: no such user. */
  async changeRole(userId: string, role: Role, actorId: string, request: RequestContext): Promise<{ role: Role; position: number } | null> {
    if (await this.#knownUser(userId) === null) return null;
    const context = this.#context(request, actorId);
    const result = await this.deps.commands.execute(userStream(userId), userDecider, { type: 'ChangeRole', role, now: context.occurredAt }, context);
    return { role: (result.state as KnownUser).role, position: result.position };
  }

  /**
   * Crypto-shreds a user's personal data: PersonalDataForgotten (the read models clear their
   * sealed columns on it), then the user's key is deleted — every sealed value in the event
   * history stays and replays, and never opens again —, the claims of every address the user
   * ever had are released (so the address can register again), and the mailer's mail to the
   * user goes, to whichever address it was sent. Safe to repeat (a forget that failed half-way is
   * finished). Null: no such user.
   */
  async forgetPersonalData(userId: string, actorId: string | null, request: RequestContext): Promise<{ position: number } | null> {
    const user = await this.#knownUser(userId);
    if (user === null) return null;
    const email = user.status === 'forgotten' ? null : await this.deps.personalData.open<string>(user.email satisfies Sealed);
    const context = this.#context(request, actorId);
    const result = await this.deps.commands.execute(userStream(userId), userDecider, { type: 'ForgetPersonalData', now: context.occurredAt }, context);
    await this.deps.personalData.forget(userId);
    for (const emailHash of user.emailHashes) await this.#releaseOwn('email', emailHash, userId, context);
    await this.deps.mailer.forget?.(userId, email === null ? [] : [email]);
    return { position: result.position };
  }

  /**
   * Claims an address by its keyed digest; one still claimed by someone under its pre-key sha256
   * is taken too. The number of the claim the user holds it by (ClaimState.claims).
   */
  async #claimEmail(email: string, emailHash: string, userId: string, context: CommandContext): Promise<number> {
    const legacyOwner = await this.#ownerOf('email', legacyEmailHash(email));
    if (legacyOwner !== null && legacyOwner !== userId) throw new DomainError('EMAIL_TAKEN', 'this email is already taken');
    return this.#claim('email', emailHash, userId, context);
  }

  /** Claims the value for `ownerId` (a claim it holds already stands); the number of its claim. */
  async #claim(kind: ClaimKind, key: string, ownerId: string, context: CommandContext): Promise<number> {
    const command = { type: 'ClaimValue', kind, value_key: key, owner_id: ownerId, now: context.occurredAt } as const;
    try {
      return (await this.deps.commands.execute(claimStream(kind, key), claimDecider, command, context)).state.claims;
    } catch (error) {
      const stale = isRefusal(error, 'USERNAME_TAKEN', 'EMAIL_TAKEN')
        ? await this.#staleClaim(kind, key, context)
        : null;
      if (stale === null) throw error;
      // The holder's id is closed first: a retry of its registration (same Idempotency-Key), or
      // its unfinished address change, that goes on now either lands before (the close is
      // refused, the value stays its own) or is refused after. Freeing the claim first would
      // leave both accounts with it. The system closes it, not the one who asked for the value.
      const closing = { ...context, actorId: null };
      try {
        await this.deps.commands.execute(userStream(stale.ownerId), userDecider, stale.close, closing);
        // That claim only: one made again since (the holder claiming the value anew) is not stale.
        await this.deps.commands.execute(claimStream(kind, key), claimDecider, releaseValue(kind, key, stale.ownerId, closing.occurredAt, stale.claimNumber), closing);
      } catch (refusal) {
        // The account was made after all, the address became its own, or another request took the value over first.
        if (isRefusal(refusal, 'USER_ALREADY_EXISTS', 'EMAIL_TAKEN', 'CLAIM_NOT_OWNED')) throw error;
        throw refusal;
      }
      return (await this.deps.commands.execute(claimStream(kind, key), claimDecider, command, context)).state.claims;
    }
  }

  async #ownerOf(kind: ClaimKind, key: string): Promise<string | null> {
    return (await this.deps.commands.load(claimStream(kind, key), claimDecider)).state.owner;
  }

  /**
   * A claim made long enough ago whose holder does not have the value, and how to close the
   * holder before it is freed: a registration that never created its account (its id is closed
   * as abandoned), or an account that claimed an address it does not have now (a change that
   * stopped before EmailChanged, or a change away from it that stopped before the release: the
   * claim is recorded on the account as lapsed). Null while the claim may still be in use.
   */
  async #staleClaim(kind: ClaimKind, key: string, context: CommandContext): Promise<{ ownerId: string; claimNumber: number; close: UserCommand } | null> {
    const { state: claim } = await this.deps.commands.load(claimStream(kind, key), claimDecider);
    const { owner: ownerId, claims: claimNumber, claimedAt } = claim;
    if (ownerId === null || claimedAt === null || this.deps.now().getTime() - Date.parse(claimedAt) < STALE_CLAIM_AFTER_MS) return null;
    // No account under the owner's id, or its id closed as abandoned (an address it claimed too
    // stays an orphan): either is the stream's first event, so one is read.
    const [first] = await this.deps.store.readStream(userStream(ownerId), { maxCount: 1 });
    if (first === undefined || first.type === 'RegistrationAbandoned') {
      return { ownerId, claimNumber, close: { type: 'AbandonRegistration', user_id: ownerId, now: context.occurredAt } };
    }
    if (kind !== 'email') return null; // an account's username is its own for good
    const holder = await this.#knownUser(ownerId);
    if (holder === null || (holder.status === 'active' && holder.emailHash === key)) return null;
    return { ownerId, claimNumber, close: { type: 'LapseEmailClaim', email_hash: key, claim_number: claimNumber, now: context.occurredAt } };
  }

  /**
   * A registration whose id was closed as abandoned (it stalled past the orphan time and its
   * username or address was taken over): the claims it still holds are freed, as no account can
   * have them now, and it is told what is so now: the value someone else holds, else that it was
   * given up (the same Idempotency-Key can never make this account; a new one may).
   */
  async #abandoned(userId: string, usernameKey: string, emailHash: string, context: CommandContext): Promise<DomainError> {
    const values = [['username', usernameKey], ['email', emailHash]] as const;
    const owners = await Promise.all(values.map(([kind, key]) => this.#ownerOf(kind, key)));
    for (const [kind, key] of values) await this.#releaseOwn(kind, key, userId, context);
    const takenByOthers = (owner: string | null | undefined): boolean => owner !== null && owner !== undefined && owner !== userId;
    if (takenByOthers(owners[0])) return new DomainError('USERNAME_TAKEN', 'this username is already taken');
    if (takenByOthers(owners[1])) return new DomainError('EMAIL_TAKEN', 'this email is already taken');
    return new DomainError('REGISTRATION_ABANDONED', 'this registration stalled and was given up; register again with a new Idempotency-Key');
  }

  async #knownUser(userId: string): Promise<KnownUser | null> {
    const { state } = await this.deps.commands.load(userStream(userId), userDecider);
    return state.status === 'none' ? null : state;
  }

  async #profileOf(user: KnownUser): Promise<Profile> {
    return {
      id: user.userId,
      username: user.username,
      email: user.status === 'forgotten' ? null : await this.deps.personalData.open<string>(user.email satisfies Sealed),
      role: user.role,
      email_verified: user.emailVerified,
      created_at: user.registeredAt,
      last_login: user.lastLoginAt,
    };
  }

  #context(request: RequestContext, actorId: string | null): CommandContext {
    return { ...request, actorId, occurredAt: this.deps.now().toISOString() };
  }

  /** After the answer: the account exists whether or not the mail goes out now. */
  #sendVerification(userId: string, email: string, emailHash: string): void {
    const token = this.deps.emailTokens.issue(userId, emailHash);
    const link = `${this.deps.publicUrl}/api/v1/users/verify-email?token=${encodeURIComponent(token)}`;
    const sending = this.deps.mailer.send({
      userId,
      to: email,
      subject: 'Confirm your email address for boxoffice',
      text: `Welcome to boxoffice.\n\nOpen this link to confirm your email address and start booking:\n${link}\n\nIf you did not create an account, ignore this mail.\n`,
      token,
    }).catch(this.deps.onMailError);
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }
}
