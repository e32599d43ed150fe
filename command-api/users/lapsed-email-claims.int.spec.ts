/**
 * An address claimed by an account that does not have it: a change of address that stopped
 * between its claim and EmailChanged, or a change away from it that stopped before releasing it
 * (a crash either way). After a while it is given to whoever asks for it next, and the account's
 * claim is recorded as lapsed first, so the unfinished change, should it ever go on, is refused
 * instead of giving two accounts one address. The account's own address is never given away.
 */
import t, { type Test } from 'tap';
import { claimDecider, claimStream } from '../../domain/claim/index.ts';
import { normalizeEmail, userDecider, userEvents, userStream } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { testApp } from '../../test/support/app.ts';
import { pauseRead } from '../../test/support/paused-reads.ts';
import { CommandHandler } from '../command-handler.ts';

const PASSWORD = 'a-long-enough-password-2026';
const request = { correlationId: 'spec', causationId: 'spec' };

async function app(t: Test) {
  const clock = { ms: Date.parse('2026-12-06T10:00:00Z') };
  const { services } = await testApp(t, {}, { wire: { now: () => new Date(clock.ms) } });
  const { users, store } = services.command.api;
  const hashOf = (email: string): string => services.command.emailDigest(normalizeEmail(email));
  const ownerOf = async (email: string): Promise<string | null> =>
    (await new CommandHandler(store).load(claimStream('email', hashOf(email)), claimDecider)).state.owner;
  const typesOf = async (userId: string): Promise<string[]> => (await store.readStream(userStream(userId))).map((recorded) => recorded.type);
  return { clock, users, store, hashOf, ownerOf, typesOf };
}

/** The code a settled request was refused with, else how it settled ('fulfilled', or undefined when it never ran). */
const outcomeOf = (settled: PromiseSettledResult<unknown> | undefined): string | undefined =>
  settled?.status === 'rejected' ? (settled.reason as { code?: string }).code : settled?.status;

t.test('an address claimed by a change that stopped before EmailChanged is given to the next account after 2 minutes', async (t) => {
  const { clock, users, store, ownerOf, typesOf, hashOf } = await app(t);
  const ana = (await users.register({ username: 'ana', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  // The change's first step, then the process stops: the claim is made, EmailChanged never is.
  const at = new Date(clock.ms).toISOString();
  await new CommandHandler(store).execute(claimStream('email', hashOf('new-ana@example.test')), claimDecider,
    { type: 'ClaimValue', kind: 'email', value_key: hashOf('new-ana@example.test'), owner_id: ana, now: at }, { ...request, actorId: ana, occurredAt: at });

  clock.ms += 60_000;
  await t.rejects(users.register({ username: 'bo', email: 'new-ana@example.test', password: PASSWORD }, request), { code: 'EMAIL_TAKEN' },
    'within 2 minutes the change may still be under way: the address stays claimed');
  clock.ms += 2 * 60_000;
  const bo = (await users.register({ username: 'bo', email: 'new-ana@example.test', password: PASSWORD }, request)).profile.id;
  t.equal(await ownerOf('new-ana@example.test'), bo, 'then the next account to ask gets it');
  t.strictSame(await typesOf(ana), ['UserRegistered', 'EmailClaimLapsed'], 'recorded on the account that had claimed it, first');
  t.equal(await ownerOf('ana@example.test'), ana, 'the account keeps its own address');
  t.equal((await users.profile(ana))?.email, 'ana@example.test');
});

type App = Awaited<ReturnType<typeof app>>;

/** Ana changes ana@ → ana-2@ (its sealed value is a stand-in: only the digests matter here) and the process stops before it releases ana@. */
async function changedAwayWithoutRelease(users: App['users'], store: EventStore, hashOf: App['hashOf'], ms: number) {
  const ana = (await users.register({ username: 'ana', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  const at = new Date(ms).toISOString();
  const context = { ...request, actorId: ana, occurredAt: at };
  const commands = new CommandHandler(store);
  const claimed = await commands.execute(claimStream('email', hashOf('ana-2@example.test')), claimDecider,
    { type: 'ClaimValue', kind: 'email', value_key: hashOf('ana-2@example.test'), owner_id: ana, now: at }, context);
  const registered = (await commands.load(userStream(ana), userDecider)).state;
  if (registered.status !== 'active') throw new Error('ana is not active');
  await commands.execute(userStream(ana), userDecider,
    { type: 'ChangeEmail', email_hash: hashOf('ana-2@example.test'), email: registered.email, claim_number: claimed.state.claims, now: at }, context);
  return ana;
}

t.test('an old address kept claimed by a change that stopped before releasing it is given to the next account', async (t) => {
  const { clock, users, store, ownerOf, typesOf, hashOf } = await app(t);
  const ana = await changedAwayWithoutRelease(users, store, hashOf, clock.ms);

  clock.ms += 3 * 60_000;
  const bo = (await users.register({ username: 'bo', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  t.equal(await ownerOf('ana@example.test'), bo, 'the old address goes to the next account');
  t.equal(await ownerOf('ana-2@example.test'), ana, 'the account keeps the address it has now');
  t.strictSame(await typesOf(ana), ['UserRegistered', 'EmailChanged', 'EmailClaimLapsed']);
});

t.test('the account\'s own address is never given away, however old its claim', async (t) => {
  const { clock, users, ownerOf, typesOf } = await app(t);
  const ana = (await users.register({ username: 'ana', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  clock.ms += 60 * 60_000;
  await t.rejects(users.register({ username: 'bo', email: 'ana@example.test', password: PASSWORD }, request), { code: 'EMAIL_TAKEN' });
  t.equal(await ownerOf('ana@example.test'), ana);
  t.strictSame(await typesOf(ana), ['UserRegistered'], 'nothing recorded on the account');
});

t.test('a change that stalled past the 2 minutes and goes on after its address was given away is refused, and takes nothing back', async (t) => {
  const { clock, users, store, ownerOf, typesOf } = await app(t);
  const ana = (await users.register({ username: 'ana', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  let bo: string | undefined;
  // Ana's change reads her stream twice: to check her password, then to append EmailChanged. It
  // stalls at the second read, after claiming the address; meanwhile 3 minutes pass and Bo registers it.
  pauseRead(store, (stream) => stream === userStream(ana), 2, async () => {
    clock.ms += 3 * 60_000;
    bo = (await users.register({ username: 'bo', email: 'new-ana@example.test', password: PASSWORD }, request)).profile.id;
  });
  await t.rejects(users.updateProfile(ana, { email: 'new-ana@example.test', current_password: PASSWORD }, request), { code: 'EMAIL_TAKEN' },
    'the stalled change is told the address is taken');
  t.ok(bo, 'Bo registered while the change stalled');
  t.equal(await ownerOf('new-ana@example.test'), bo, 'the address stays Bo\'s');
  t.equal((await users.profile(ana))?.email, 'ana@example.test', 'Ana keeps her address');
  t.strictSame(await typesOf(ana), ['UserRegistered', 'EmailClaimLapsed'], 'no EmailChanged on Ana');

  // Later, Bo changes away from it: Ana may take it then, her lapsed claim notwithstanding.
  clock.ms += 60_000;
  await users.updateProfile(bo as string, { email: 'bo@example.test', current_password: PASSWORD }, request);
  clock.ms += 60_000;
  await users.updateProfile(ana, { email: 'new-ana@example.test', current_password: PASSWORD }, request);
  t.equal((await users.profile(ana))?.email, 'new-ana@example.test', 'a new change of Ana\'s to it goes through');
  t.equal(await ownerOf('new-ana@example.test'), ana);
});

t.test('the holder changing back to the old address it still holds while that claim lapses: refused, and the address is the other account\'s', async (t) => {
  const { clock, users, store, ownerOf, typesOf, hashOf } = await app(t);
  const ana = await changedAwayWithoutRelease(users, store, hashOf, clock.ms);
  clock.ms += 3 * 60_000;
  let back: PromiseSettledResult<unknown> | undefined;
  // Bo's registration reads ana@'s claim three times: to claim it (refused), to find it stale, and,
  // after recording the lapse on Ana, to release it. Before that third read goes on, Ana changes
  // back to ana@, which she still holds by the claim that lapsed.
  pauseRead(store, (stream) => stream === claimStream('email', hashOf('ana@example.test')), 3, async () => {
    clock.ms += 1_000; // later than the lapse
    [back] = await Promise.allSettled([users.updateProfile(ana, { email: 'ana@example.test', current_password: PASSWORD }, request)]);
  });
  const bo = (await users.register({ username: 'bo', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  t.equal(outcomeOf(back), 'EMAIL_TAKEN', 'Ana\'s change back is refused');
  t.equal(await ownerOf('ana@example.test'), bo, 'Bo has the address');
  const now = (await new CommandHandler(store).load(userStream(ana), userDecider)).state;
  t.equal(now.status === 'active' && now.emailHash, hashOf('ana-2@example.test'), 'Ana keeps the address she has');
  t.strictSame(await typesOf(ana), ['UserRegistered', 'EmailChanged', 'EmailClaimLapsed'], 'no EmailChanged back to it');
});

/** A promise and what settles it, for specs that hold one request until another has done its part. */
function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { opened, open };
}

const X = 'x@example.test';

/** The app with Ana, whose change to X claimed it (claim 1) and stopped before EmailChanged, 3 minutes ago. */
async function staleClaimOfX(t: Test) {
  const made = await app(t);
  const { clock, users, store, hashOf } = made;
  const ana = (await users.register({ username: 'ana', email: 'ana@example.test', password: PASSWORD }, request)).profile.id;
  const at = new Date(clock.ms).toISOString();
  await new CommandHandler(store).execute(claimStream('email', hashOf(X)), claimDecider,
    { type: 'ClaimValue', kind: 'email', value_key: hashOf(X), owner_id: ana, now: at }, { ...request, actorId: ana, occurredAt: at });
  clock.ms += 3 * 60_000;
  return { ...made, ana };
}

t.test('a takeover that read an old claim and records its lapse late does not undo the lapse of a newer claim', async (t) => {
  const { clock, users, store, ownerOf, ana } = await staleClaimOfX(t);
  const deeRegistered = gate();
  const boSettled = gate();
  let anaToX: Promise<unknown> | undefined;
  let dee: string | undefined;
  // Bo's takeover of claim 1 stalls where it reads Ana's stream to record the lapse (its third read of it). Meanwhile:
  pauseRead(store, (stream) => stream === userStream(ana), 3, async () => {
    // Cy takes claim 1 over (its lapse, claim 2), then changes away, which frees X.
    const cy = (await users.register({ username: 'cy', email: X, password: PASSWORD }, request)).profile.id;
    clock.ms += 1_000;
    await users.updateProfile(cy, { email: 'cy@example.test', current_password: PASSWORD }, request);
    // Ana changes to X (claim 3) and stalls before EmailChanged, long enough for Dee to take claim 3 over (claim 4).
    pauseRead(store, (stream) => stream === userStream(ana), 2, async () => {
      clock.ms += 3 * 60_000;
      dee = (await users.register({ username: 'dee', email: X, password: PASSWORD }, request)).profile.id;
      deeRegistered.open();
      await boSettled.opened;
    });
    anaToX = users.updateProfile(ana, { email: X, current_password: PASSWORD }, request);
    await deeRegistered.opened;
  });
  await t.rejects(users.register({ username: 'bo', email: X, password: PASSWORD }, request), { code: 'EMAIL_TAKEN' }, 'Bo\'s late takeover is refused');
  boSettled.open();
  await t.rejects(anaToX as Promise<unknown>, { code: 'EMAIL_TAKEN' }, 'Ana\'s stalled change, made with claim 3, is refused');
  t.equal(await ownerOf(X), dee, 'X is Dee\'s');
  t.equal((await users.profile(dee as string))?.email, X);
  t.equal((await users.profile(ana))?.email, 'ana@example.test', 'and not Ana\'s too');
  const lapses = (await store.readStream(userStream(ana))).map((recorded) => decode(recorded, userEvents))
    .flatMap((event) => (event.type === 'EmailClaimLapsed' ? [event.data.claim_number] : []));
  t.strictSame(lapses, [1, 3], 'each claim lapsed once; the late takeover recorded nothing');
});

t.test('a change refused by its lapsed claim releases that claim only, not the one a later request of the same account made', async (t) => {
  const { users, store, ownerOf, hashOf, ana } = await staleClaimOfX(t);
  const laterClaimed = gate();
  const firstSettled = gate();
  let later: Promise<unknown> | undefined;
  let bo: PromiseSettledResult<unknown> | undefined;
  // Ana's first change to X holds it by claim 1 (her own already) and stalls before EmailChanged. Meanwhile:
  pauseRead(store, (stream) => stream === userStream(ana), 2, async () => {
    // Bo's takeover lapses claim 1 and releases it; as it goes to claim X, a later request of Ana's claims it (claim 2)
    // and stalls before its EmailChanged until the first change is over.
    pauseRead(store, (stream) => stream === claimStream('email', hashOf(X)), 4, async () => {
      pauseRead(store, (stream) => stream === userStream(ana), 2, async () => {
        laterClaimed.open();
        await firstSettled.opened;
      });
      later = users.updateProfile(ana, { email: X, current_password: PASSWORD }, request);
      await laterClaimed.opened;
    });
    [bo] = await Promise.allSettled([users.register({ username: 'bo', email: X, password: PASSWORD }, request)]);
  });
  await t.rejects(users.updateProfile(ana, { email: X, current_password: PASSWORD }, request), { code: 'EMAIL_TAKEN' }, 'the first change, made with claim 1, is refused');
  firstSettled.open();
  await later;
  t.equal(outcomeOf(bo), 'EMAIL_TAKEN', 'Bo is told X is taken');
  t.equal((await users.profile(ana))?.email, X, 'the later change goes through');
  t.equal(await ownerOf(X), ana, 'and X stays claimed by Ana: the first change\'s release left claim 2 alone');
  await t.rejects(users.register({ username: 'cy', email: X, password: PASSWORD }, request), { code: 'EMAIL_TAKEN' }, 'so nobody else can register it');
});

t.test('a takeover releases only the claim it lapsed: the holder\'s claim made again in between stays', async (t) => {
  const { clock, users, store, ownerOf, hashOf, ana } = await staleClaimOfX(t);
  let first: PromiseSettledResult<unknown> | undefined;
  // Bo's takeover has lapsed claim 1 and reads X's claim to release it (its third read of it). Meanwhile Ana asks
  // twice: the first change, made with claim 1, is refused and releases it; the second claims X anew (claim 2).
  pauseRead(store, (stream) => stream === claimStream('email', hashOf(X)), 3, async () => {
    clock.ms += 1_000;
    [first] = await Promise.allSettled([users.updateProfile(ana, { email: X, current_password: PASSWORD }, request)]);
    await users.updateProfile(ana, { email: X, current_password: PASSWORD }, request);
  });
  await t.rejects(users.register({ username: 'bo', email: X, password: PASSWORD }, request), { code: 'EMAIL_TAKEN' }, 'Bo is told X is taken');
  t.equal(outcomeOf(first), 'EMAIL_TAKEN', 'Ana\'s first change is refused');
  t.equal((await users.profile(ana))?.email, X, 'her second goes through');
  t.equal(await ownerOf(X), ana, 'and X stays claimed by her');
});
