/**
 * A username claimed by a registration that never made its account is freed after a while for
 * whoever registers the name next. The registration it belonged to may be retried at that very
 * moment with the same Idempotency-Key (same account id): whichever way the two interleave, one
 * account ends up with the name, never two. The store is made to interleave them deterministically.
 */
import t, { type Test } from 'tap';
import { claimDecider, claimStream, type ClaimKind } from '../../domain/claim/index.ts';
import { normalizeEmail, normalizeUsername, userEvents } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { isRefusal } from '../../lib/errors.ts';
import { derivedUuid } from '../../lib/ids.ts';
import { testApp } from '../../test/support/app.ts';
import { pauseRead } from '../../test/support/paused-reads.ts';
import { CommandHandler } from '../command-handler.ts';

const PASSWORD = 'a-long-enough-password-2026';
const request = { correlationId: 'spec', causationId: 'spec' };

/**
 * The app on a clock the spec moves, with a username (and an address, if given) claimed by a
 * registration under an Idempotency-Key that stalled right after.
 */
async function stalledRegistration(t: Test, username: string, email?: string) {
  let clock = Date.parse('2026-12-06T10:00:00Z');
  const { services } = await testApp(t, {}, { wire: { now: () => new Date(clock) } });
  const { users, store } = services.command.api;
  const commands = new CommandHandler(store);
  const key = `retry-${username}`;
  const stalledId = derivedUuid('user', normalizeUsername(username), key);
  const claims: { kind: ClaimKind; value_key: string }[] = [{ kind: 'username', value_key: normalizeUsername(username) }];
  if (email !== undefined) claims.push({ kind: 'email', value_key: services.command.emailDigest(normalizeEmail(email)) });
  for (const { kind, value_key } of claims) {
    const now = new Date(clock).toISOString();
    await commands.execute(claimStream(kind, value_key), claimDecider, { type: 'ClaimValue', kind, value_key, owner_id: stalledId, now }, { ...request, actorId: stalledId, occurredAt: now });
  }
  clock += 3 * 60_000; // past the two minutes after which a claim with no account is an orphan
  return { users, store, key, stalledId };
}

async function accountsNamed(store: EventStore, username: string): Promise<string[]> {
  const registered = (await store.readAll({ maxCount: 10_000, filter: { eventTypes: ['UserRegistered'] } })).events
    .map((recorded) => decode(recorded, userEvents))
    .flatMap((event) => (event.type === 'UserRegistered' && normalizeUsername(event.data.username) === normalizeUsername(username) ? [event.data.user_id] : []));
  return registered;
}

const outcome = (settled: PromiseSettledResult<unknown>): string => settled.status === 'fulfilled'
  ? 'created'
  : isRefusal(settled.reason, 'USERNAME_TAKEN', 'EMAIL_TAKEN') ? settled.reason.code : String(settled.reason);

t.test('the stalled registration retried while its orphan claim is being taken: it makes its account first, the takeover is refused', async (t) => {
  const { users, store, key, stalledId } = await stalledRegistration(t, 'stalled_ana');
  let retried: PromiseSettledResult<unknown> | undefined;
  // The takeover sees no account under the stalled id; before it goes on, the retry registers it.
  pauseRead(store, (stream) => stream === `user-${stalledId}`, 1, async () => {
    [retried] = await Promise.allSettled([users.register({ username: 'stalled_ana', email: 'ana@example.test', password: PASSWORD }, request, key)]);
  });
  const [takeover] = await Promise.allSettled([users.register({ username: 'Stalled_Ana', email: 'other-ana@example.test', password: PASSWORD }, request)]);
  t.equal(retried === undefined ? 'not run' : outcome(retried), 'created', 'the retry makes the account it was asked for');
  t.equal(outcome(takeover as PromiseSettledResult<unknown>), 'USERNAME_TAKEN', 'the other registration is told the name is taken');
  t.strictSame(await accountsNamed(store, 'stalled_ana'), [stalledId], 'one account has the name: the retried one');
  t.equal((await users.findByUsername('stalled_ana'))?.userId, stalledId, 'and the name signs in to it');
});

t.test('the stalled registration retried while its orphan claim is being taken: the takeover goes first, the retry is refused', async (t) => {
  const { users, store, key, stalledId } = await stalledRegistration(t, 'stalled_bo');
  let takeover: PromiseSettledResult<unknown> | undefined;
  // The retry finds the name still claimed by its id; before it claims the address, the takeover runs to its end.
  pauseRead(store, (stream) => stream.startsWith('email-'), 1, async () => {
    [takeover] = await Promise.allSettled([users.register({ username: 'stalled_bo', email: 'other-bo@example.test', password: PASSWORD }, request)]);
  });
  const [retried] = await Promise.allSettled([users.register({ username: 'stalled_bo', email: 'bo@example.test', password: PASSWORD }, request, key)]);
  t.equal(takeover === undefined ? 'not run' : outcome(takeover), 'created', 'the takeover makes its account');
  t.equal(outcome(retried as PromiseSettledResult<unknown>), 'USERNAME_TAKEN', 'the retry is told the name is taken');
  const named = await accountsNamed(store, 'stalled_bo');
  t.equal(named.length, 1, 'one account has the name');
  t.not(named[0], stalledId, 'the takeover\'s');
  t.equal((await users.findByUsername('stalled_bo'))?.userId, named[0], 'and the name signs in to it');
  // The address the refused retry claimed is free again: it can register.
  const again = await users.register({ username: 'bo_again', email: 'bo@example.test', password: PASSWORD }, request);
  t.equal(again.profile.username, 'bo_again', 'its address registers another account');
  // The same retry once more answers the same: the name is someone else's.
  await t.rejects(users.register({ username: 'stalled_bo', email: 'bo@example.test', password: PASSWORD }, request, key), { code: 'USERNAME_TAKEN' });
});

t.test('an id closed as abandoned leaves its other claims orphans: its address can be registered, and its retry is refused', async (t) => {
  const { users, store, key, stalledId } = await stalledRegistration(t, 'stalled_cy', 'cy@example.test');
  await users.register({ username: 'stalled_cy', email: 'first-cy@example.test', password: PASSWORD }, request);
  const closed = (await store.readStream(`user-${stalledId}`)).map((recorded) => recorded.type);
  t.strictSame(closed, ['RegistrationAbandoned'], 'taking over its name closed the stalled id first');
  const byAddress = await users.register({ username: 'cy_by_address', email: 'cy@example.test', password: PASSWORD }, request);
  t.equal(byAddress.profile.username, 'cy_by_address', 'the address it had claimed registers another account');
  await t.rejects(users.register({ username: 'stalled_cy', email: 'cy@example.test', password: PASSWORD }, request, key), { code: 'USERNAME_TAKEN' }, 'its retry is refused');
  t.strictSame((await store.readStream(`user-${stalledId}`)).map((recorded) => recorded.type), ['RegistrationAbandoned'], 'and makes no account');
});

t.test('two registrations taking the same orphan over at once: one gets the name, the other is told it is taken', async (t) => {
  const { users, store, stalledId } = await stalledRegistration(t, 'stalled_di');
  let second: PromiseSettledResult<unknown> | undefined;
  // The first sees the stalled id with no account; before it goes on, the second takes the name over entirely.
  pauseRead(store, (stream) => stream === `user-${stalledId}`, 1, async () => {
    [second] = await Promise.allSettled([users.register({ username: 'stalled_di', email: 'second-di@example.test', password: PASSWORD }, request)]);
  });
  const [first] = await Promise.allSettled([users.register({ username: 'stalled_di', email: 'first-di@example.test', password: PASSWORD }, request)]);
  t.equal(second === undefined ? 'not run' : outcome(second), 'created', 'the second makes its account');
  t.equal(outcome(first as PromiseSettledResult<unknown>), 'USERNAME_TAKEN', 'the first is told the name is taken');
  t.equal((await accountsNamed(store, 'stalled_di')).length, 1, 'one account has the name');
});

t.test('a retry of a registration given up, its name free again: refused as given up, never as taken', async (t) => {
  const { users, key } = await stalledRegistration(t, 'stalled_ed');
  // A takeover that closes the stalled id, then fails on its own address and lets the name go.
  await users.register({ username: 'holder_of_ed', email: 'taken-ed@example.test', password: PASSWORD }, request);
  await t.rejects(users.register({ username: 'stalled_ed', email: 'taken-ed@example.test', password: PASSWORD }, request), { code: 'EMAIL_TAKEN' });
  t.equal(await users.findByUsername('stalled_ed'), null, 'nobody has the name');
  await t.rejects(users.register({ username: 'stalled_ed', email: 'ed@example.test', password: PASSWORD }, request, key), { code: 'REGISTRATION_ABANDONED' }, 'the retry under the old key is told it was given up');
  const fresh = await users.register({ username: 'stalled_ed', email: 'ed@example.test', password: PASSWORD }, request, `${key}-new`);
  t.equal(fresh.profile.username, 'stalled_ed', 'a new key registers the name');
});
