/**
 * Forget-me that leaves no trace of any address the user ever had, keyed digests nobody can
 * confirm a guess with, KTP fingerprints not derived from the master key, and email changes
 * that neither flood an address nor leave addresses claimed when they race.
 */
import { createHash, randomUUID } from 'node:crypto';
import t from 'tap';
import { claimDecider, claimEvents, claimStream } from '../../domain/claim/index.ts';
import { concertEvents } from '../../domain/concert/index.ts';
import { CommandHandler } from '../../command-api/command-handler.ts';
import { userDecider, userEvents, userStream } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { KtpFingerprints } from '../../lib/personal-data/fingerprint.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { adminToken, book, byClass, createConcert, customer } from '../support/booking.ts';
import { emailDigestIn, storedKeys } from '../support/digest.ts';
import { eventually } from '../support/eventually.ts';
import { bearer, login, newAccount, register, secret, type Account } from '../support/users.ts';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

async function ownerOf(store: EventStore, streamName: string): Promise<string | null> {
  let state = claimDecider.initialState();
  for (const recorded of await store.readStream(streamName)) state = claimDecider.evolve(state, decode(recorded, claimEvents));
  return state.owner;
}

async function changeEmail(made: TestApp, account: Account, token: string, email: string) {
  return made.app.inject({ method: 'PUT', url: '/api/v1/users/profile', headers: bearer(token), payload: { email, current_password: account.password } });
}

const freshAddress = (prefix: string): string => secret(`${prefix}.${Math.random().toString(36).slice(2, 10)}@example.test`);

t.test('hostile: forget-me, keyed digests, email changes', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { store } = made.services.shared;
  const admin = await adminToken(made);

  t.test('forget-me removes the mail to every address the user had, releases every claim, and keeps no confirmable digest', async (t) => {
    const account = await register(made.app, newAccount('moved'));
    const token = await login(made.app, account);
    const newEmail = freshAddress('moved.new');
    t.equal((await changeEmail(made, account, token, newEmail)).statusCode, 200);
    // Mail goes out after the answer: wait for both.
    const theirs = await eventually(async () => {
      const sent = (await made.mails()).filter((mail) => mail.to === account.email || mail.to === newEmail);
      return sent.length === 2 ? sent : undefined;
    }, 'a mail to the first address and one to the new', 5_000);
    t.ok(theirs.every((mail) => (mail as { user_id?: string }).user_id === account.id), 'each outbox line names its user');

    const forgotten = await made.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${account.id}/personal-data`, headers: bearer(admin) });
    t.equal(forgotten.statusCode, 200);
    const outbox = JSON.stringify(await made.mails());
    t.notMatch(outbox, account.email, 'the address the user changed away from is gone from the outbox');
    t.notMatch(outbox, newEmail, 'and so is the current one');

    const history = (await store.readStream(`user-${account.id}`)).map((recorded) => decode(recorded, userEvents));
    const digests = history.flatMap((event) => 'email_hash' in event.data ? [event.data.email_hash] : []);
    t.ok(digests.length >= 2);
    for (const address of [account.email, newEmail]) {
      t.notOk(digests.includes(sha256(address)), 'no plain sha256 of an address in the events');
      t.equal((await store.readStream(claimStream('email', sha256(address)))).length, 0, 'nor a claim stream named by one');
      t.equal(await ownerOf(store, claimStream('email', await emailDigestIn(made.dataDir, address))), null, 'the claim of every address is released');
    }
    for (const email of [account.email, newEmail]) {
      const again = await made.app.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount('again'), email } });
      t.equal(again.statusCode, 201, `a forgotten address registers again (${again.json<{ code?: string }>().code ?? 'created'})`);
    }
  });

  t.test('an address claimed under its plain sha256 before the digests were keyed stays taken, until its user is forgotten', async (t) => {
    const commands = new CommandHandler(store);
    const userId = randomUUID();
    const email = freshAddress('legacy');
    const now = new Date().toISOString();
    const context = { correlationId: 'legacy-registration', causationId: 'legacy-registration', actorId: userId, occurredAt: now };
    await commands.execute(claimStream('email', sha256(email)), claimDecider, { type: 'ClaimValue', kind: 'email', value_key: sha256(email), owner_id: userId, now }, context);
    await commands.execute(userStream(userId), userDecider, {
      type: 'RegisterUser', user_id: userId, username: `legacy.${userId.slice(0, 8)}`, email_hash: sha256(email),
      email: await made.services.command.personalData.seal(userId, email), password_hash: '$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', role: 'customer', now,
    }, context);
    const taken = await made.app.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount('late'), email } });
    t.equal(taken.statusCode, 409);
    t.equal(taken.json<{ code: string }>().code, 'EMAIL_TAKEN');
    t.equal((await made.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${userId}/personal-data`, headers: bearer(admin) })).statusCode, 200);
    t.equal(await ownerOf(store, claimStream('email', sha256(email))), null, 'forget-me released the old claim');
    t.equal((await made.app.inject({ method: 'POST', url: '/api/v1/users/register', payload: { ...newAccount('late'), email } })).statusCode, 201);
  });

  t.test('KTP fingerprints derive from the digest key, not from the master key kept beside the data', async (t) => {
    const concert = await createConcert(made.app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
    const fan = await customer(made.app);
    const request = byClass(concert.id, concert.ticket_classes[0]?.id ?? '', 2);
    t.equal((await book(made.app, fan.token, request)).statusCode, 201);
    const [fingerprints] = (await store.readStream(`concert-${concert.id}`)).map((recorded) => decode(recorded, concertEvents))
      .flatMap((event) => event.type === 'SeatsHeld' ? [event.data.ktp_fingerprints] : []);
    const { digestKey, masterKey } = await storedKeys(made.dataDir);
    const number = request.buyer_info.ktp_number;
    t.notOk(fingerprints?.includes(new KtpFingerprints(masterKey).of(number)), 'the master key does not reproduce the fingerprint');
    t.strictSame(fingerprints, [new KtpFingerprints(digestKey).of(number), new KtpFingerprints(digestKey).of(number)]);
  });

  t.test('a user cannot send verification mail without limit: changes and resends count, 429 EMAIL_CHANGE_LIMIT after three an hour', async (t) => {
    const account = await register(made.app, newAccount('flood'));
    const token = await login(made.app, account);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await changeEmail(made, account, token, freshAddress(`flood${i}`)));
    t.strictSame(answers.map((answer) => answer.statusCode), [200, 200, 200, 429]);
    t.equal(answers[3]?.json<{ code: string }>().code, 'EMAIL_CHANGE_LIMIT');
    t.ok(Number(answers[3]?.headers['retry-after']) > 0, 'with Retry-After');
    const resend = await made.app.inject({ method: 'POST', url: '/api/v1/users/verify-email/resend', headers: bearer(token) });
    t.equal(resend.statusCode, 429, 'a resend counts too');
    t.equal(resend.json<{ code: string }>().code, 'EMAIL_CHANGE_LIMIT');
  });

  t.test('one address gets at most three verification mails an hour, whoever asks', async (t) => {
    const victim = freshAddress('victim');
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) {
      const account = await register(made.app, newAccount(`sender${i}`));
      const token = await login(made.app, account);
      const toVictim = await changeEmail(made, account, token, victim);
      answers.push(toVictim.statusCode);
      if (toVictim.statusCode === 200) t.equal((await changeEmail(made, account, token, freshAddress(`away${i}`))).statusCode, 200, 'and away again');
    }
    t.strictSame(answers, [200, 200, 200, 429]);
    await made.services.command.api.users.settle();
    t.equal((await made.mails()).filter((mail) => mail.to === victim).length, 3, 'three mails reached the address');
  });

  t.test('parallel email changes leave exactly one address claimed: the one the profile shows', async (t) => {
    const account = await register(made.app, newAccount('racer'));
    const token = await login(made.app, account);
    const addresses = Array.from({ length: 5 }, (_, i) => freshAddress(`racer${i}`));
    const answers = await Promise.all(addresses.map((email) => changeEmail(made, account, token, email)));
    const statuses = answers.map((answer) => answer.statusCode);
    t.ok(statuses.every((status) => status === 200 || status === 429), `every answer is a change or the limit (${statuses.join(' ')})`);
    t.ok(statuses.filter((status) => status === 200).length >= 2, 'several changes raced');
    const held: string[] = [];
    for (const email of [account.email, ...addresses]) {
      if (await ownerOf(store, claimStream('email', await emailDigestIn(made.dataDir, email))) === account.id) held.push(email);
    }
    t.equal(held.length, 1, `exactly one address is claimed by the user (${held.length})`);
    const profile = await made.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) });
    t.equal(profile.json<{ email: string }>().email, held[0], 'the profile shows that address');
  });
});
