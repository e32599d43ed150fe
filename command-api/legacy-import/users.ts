/** import:legacy's users: their names and addresses claimed, registered with their bcrypt hashes, verified, their old ids. */
import { claimDecider, claimStream, type ClaimKind } from '../../domain/claim/index.ts';
import { isReservedUsername, normalizeEmail, normalizeUsername, userDecider, userStream, type Role } from '../../domain/user/index.ts';
import { legacyStream } from '../../domain/legacy/index.ts';
import { isBcrypt } from '../../lib/security/passwords.ts';
import { releaseOwnClaim } from '../users/users.ts';
import { EMAIL, Refused, legacyId, type ImportRun } from './import-run.ts';
import { legacyInstant, type LegacyUser } from './legacy-source.ts';

const USERNAME = /^[a-zA-Z0-9_.-]{3,50}$/;
const ROLES: Readonly<Record<string, Role>> = { user: 'customer', admin: 'admin' };

export async function importUser(run: ImportRun, user: LegacyUser): Promise<void> {
  if (user.deleted_at !== null) throw new Refused('SOFT_DELETED');
  if (!USERNAME.test(user.username) || isReservedUsername(user.username)) throw new Refused('INVALID_USERNAME');
  const email = normalizeEmail(user.email);
  if (!EMAIL.test(email) || email.length > 254) throw new Refused('INVALID_EMAIL');
  const role = ROLES[user.role];
  if (role === undefined) throw new Refused('UNKNOWN_ROLE');
  if (!isBcrypt(user.password)) throw new Refused('UNKNOWN_PASSWORD_HASH');
  const registeredAt = legacyInstant(user.created_at) ?? '1970-01-01T00:00:00.000Z';
  const userId = legacyId('user', user.id);
  const context = run.context(registeredAt, `users:${user.id}`);
  const usernameKey = normalizeUsername(user.username);
  const emailHash = run.deps.emailDigest(email);
  const stream = userStream(userId);
  let { state } = await run.commands.load(stream, userDecider);
  if (state.status === 'none' && state.abandoned === true) {
    // A run that stopped between the claims and the account, and a registration took a claim
    // over as an orphan (the claims carry the row's old date): this id can never have an account.
    // What it still holds is freed; the row is refused, on every run.
    for (const [kind, key] of [['username', usernameKey], ['email', emailHash]] as const) await releaseOwnClaim(run.commands, kind, key, userId, context);
    throw new Refused('REGISTRATION_ABANDONED');
  }
  // Looked at before anything is claimed: a refused row claims nothing, on every run.
  await claimable(run, 'username', usernameKey, userId, 'USERNAME_TAKEN');
  await claimable(run, 'email', emailHash, userId, 'EMAIL_TAKEN');
  for (const [kind, key] of [['username', usernameKey], ['email', emailHash]] as const) {
    await run.commands.execute(claimStream(kind, key), claimDecider, { type: 'ClaimValue', kind, value_key: key, owner_id: userId, now: registeredAt }, context);
  }
  if (state.status === 'none') {
    state = (await run.commands.execute(stream, userDecider, {
      type: 'RegisterUser', user_id: userId, username: user.username, email_hash: emailHash, email: await run.deps.seal(userId, email),
      password_hash: user.password, role, now: registeredAt,
    }, context)).state;
  }
  // The older system never verified addresses, but its users have used them for years and its
  // front end has no verification step: their addresses count as verified, so they can book.
  if (state.status === 'active' && !state.emailVerified) {
    state = (await run.commands.execute(stream, userDecider, { type: 'VerifyEmail', email_hash: emailHash, now: registeredAt }, context)).state;
  }
  const lastLogin = legacyInstant(user.last_login);
  if (state.status === 'active' && state.lastLoginAt === null && lastLogin !== null) {
    await run.commands.execute(stream, userDecider, { type: 'RecordLogin', now: lastLogin }, run.context(lastLogin, `users:${user.id}`));
  }
  await run.legacyIds('user', user.id, [{ legacy_id: user.id, id: userId }], registeredAt);
  run.users.set(user.id, userId);
}

/** The streams a user's import writes (asked once, before the users, whether they exist yet). */
export function userStreams(run: ImportRun, user: LegacyUser): string[] {
  return [
    claimStream('username', normalizeUsername(user.username)), claimStream('email', run.deps.emailDigest(normalizeEmail(user.email))),
    userStream(legacyId('user', user.id)), legacyStream('user', user.id),
  ];
}

async function claimable(run: ImportRun, kind: ClaimKind, key: string, userId: string, taken: string): Promise<void> {
  const { state } = await run.commands.load(claimStream(kind, key), claimDecider);
  if (state.owner !== null && state.owner !== userId) throw new Refused(taken);
}

/**
 * The import's own duplicates, decided from the rows alone (so every run decides the same): of
 * the rows that could be taken, the first by id keeps a username (case aside) and an address;
 * a later one is refused as taken.
 */
export function duplicateUsers(users: readonly LegacyUser[]): Map<number, string> {
  const names = new Set<string>();
  const addresses = new Set<string>();
  const refused = new Map<number, string>();
  for (const user of users) {
    const email = normalizeEmail(user.email);
    if (user.deleted_at !== null || !USERNAME.test(user.username) || isReservedUsername(user.username) || !EMAIL.test(email) || email.length > 254
      || ROLES[user.role] === undefined || !isBcrypt(user.password)) continue;
    const name = normalizeUsername(user.username);
    if (names.has(name)) refused.set(user.id, 'USERNAME_TAKEN');
    else if (addresses.has(email)) refused.set(user.id, 'EMAIL_TAKEN');
    else {
      names.add(name);
      addresses.add(email);
    }
  }
  return refused;
}
