import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0 } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { normalizeEmail, normalizeUsername, userDecider, type RegisterUser, type UserEvent } from './index.ts';

const user = (history: UserEvent[]) => given(userDecider, history);
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const register: RegisterUser = {
  type: 'RegisterUser',
  user_id: 'u1',
  username: 'Rina.K',
  email_hash: HASH_A,
  email: sealed('rina@example.test'),
  password_hash: '$argon2id$stand-in',
  role: 'customer',
  now: T0,
};
const registered = userDecider.decide(register, userDecider.initialState());
const after = (history: UserEvent[], ...commands: Parameters<typeof userDecider.decide>[0][]): UserEvent[] => {
  const events = [...history];
  for (const command of commands) events.push(...userDecider.decide(command, fold(userDecider, events)));
  return events;
};

t.test('registering', async (t) => {
  user([]).when(register).then(t, [
    {
      type: 'UserRegistered',
      data: {
        user_id: 'u1',
        username: 'Rina.K',
        email_hash: HASH_A,
        email: sealed('rina@example.test'),
        password_hash: '$argon2id$stand-in',
        role: 'customer',
        registered_at: T0,
      },
    },
  ]);
  user(registered).when(register).thenThrows(t, 'USER_ALREADY_EXISTS');
  const state = fold(userDecider, registered);
  t.equal(state.status === 'active' && state.emailVerified, false, 'a new address is unverified');
});

t.test('a registration given up is closed: no account can be made under its id any more', async (t) => {
  const abandon = { type: 'AbandonRegistration', user_id: 'u1', now: T0 } as const;
  const abandoned = [{ type: 'RegistrationAbandoned', data: { user_id: 'u1', abandoned_at: T0 } }] as const satisfies UserEvent[];
  user([]).when(abandon).then(t, [...abandoned]);
  user([...abandoned]).when(abandon).then(t, []);
  user([...abandoned]).when(register).thenThrows(t, 'REGISTRATION_ABANDONED');
  user(registered).when(abandon).thenThrows(t, 'USER_ALREADY_EXISTS');
  user([...abandoned]).when({ type: 'RecordLogin', now: T0 }).thenThrows(t, 'USER_NOT_FOUND');
  t.strictSame(fold(userDecider, [...abandoned]), { status: 'none', abandoned: true }, 'no account, and closed');
});

t.test('verifying the email address', async (t) => {
  const verify = { type: 'VerifyEmail', email_hash: HASH_A, now: T0 } as const;
  user(registered).when(verify).then(t, [{ type: 'EmailVerified', data: { user_id: 'u1', email_hash: HASH_A, verified_at: T0 } }]);
  user(after(registered, verify)).when(verify).thenThrows(t, 'EMAIL_ALREADY_VERIFIED');
  user(registered).when({ ...verify, email_hash: HASH_B }).thenThrows(t, 'VERIFICATION_TOKEN_STALE');
  user([]).when(verify).thenThrows(t, 'USER_NOT_FOUND');
});

t.test('a changed address must be verified again', async (t) => {
  const verified = after(registered, { type: 'VerifyEmail', email_hash: HASH_A, now: T0 });
  const changed = after(verified, { type: 'ChangeEmail', email_hash: HASH_B, email: sealed('new'), claim_number: 1, now: T0 });
  const state = fold(userDecider, changed);
  t.equal(state.status === 'active' && state.emailVerified, false);
  t.equal(state.status === 'active' && state.emailHash, HASH_B);
  user(changed).when({ type: 'VerifyEmail', email_hash: HASH_A, now: T0 }).thenThrows(t, 'VERIFICATION_TOKEN_STALE');
  user(changed).when({ type: 'ChangeEmail', email_hash: HASH_B, email: sealed('new'), claim_number: 1, now: T0 }).then(t, []);
});

t.test('the user remembers every address digest it claimed, so forget-me can release them all', async (t) => {
  const changed = after(registered, { type: 'ChangeEmail', email_hash: HASH_B, email: sealed('new'), claim_number: 1, now: T0 });
  const back = after(changed, { type: 'ChangeEmail', email_hash: HASH_A, email: sealed('old'), claim_number: 1, now: T0 });
  const state = fold(userDecider, back);
  t.strictSame(state.status === 'active' && state.emailHashes, [HASH_B, HASH_A], 'each once, the current one last');
});

t.test('password changes and logins are recorded', async (t) => {
  user(registered).when({ type: 'ChangePassword', password_hash: '$argon2id$new', now: T0 }).then(t, [
    { type: 'PasswordChanged', data: { user_id: 'u1', password_hash: '$argon2id$new', changed_at: T0 } },
  ]);
  const loggedIn = after(registered, { type: 'RecordLogin', now: T0 });
  const state = fold(userDecider, loggedIn);
  t.equal(state.status === 'active' && state.lastLoginAt, T0);
});

t.test('forgetting personal data', async (t) => {
  const forget = { type: 'ForgetPersonalData', now: T0 } as const;
  user(registered).when(forget).then(t, [{ type: 'PersonalDataForgotten', data: { user_id: 'u1', forgotten_at: T0 } }]);
  const forgotten = after(registered, forget);
  user(forgotten).when(forget).then(t, []);
  user(forgotten).when({ type: 'RecordLogin', now: T0 }).thenThrows(t, 'USER_FORGOTTEN');
  user(forgotten).when({ type: 'ChangeEmail', email_hash: HASH_B, email: sealed('x'), claim_number: 1, now: T0 }).thenThrows(t, 'USER_FORGOTTEN');
  user([]).when(forget).thenThrows(t, 'USER_NOT_FOUND');
});

t.test('a role change is recorded once, and only for an active user', async (t) => {
  const promote = { type: 'ChangeRole', role: 'staff', now: T0 } as const;
  user(registered).when(promote).then(t, [{ type: 'RoleChanged', data: { user_id: 'u1', role: 'staff', changed_at: T0 } }]);
  const promoted = after(registered, promote);
  const state = fold(userDecider, promoted);
  t.equal(state.status === 'active' && state.role, 'staff');
  user(promoted).when(promote).then(t, []); // the same role again changes nothing
  user(after(registered, { type: 'ForgetPersonalData', now: T0 })).when(promote).thenThrows(t, 'USER_FORGOTTEN');
  user([]).when(promote).thenThrows(t, 'USER_NOT_FOUND');
});

t.test("what ends the user's sessions advances the generation; a rehash at sign-in does not", async (t) => {
  const generation = (history: UserEvent[]) => {
    const state = fold(userDecider, history);
    return state.status === 'none' ? -1 : state.generation;
  };
  t.equal(generation(registered), 0);
  const rehashed = after(registered, { type: 'ChangePassword', password_hash: '$argon2id$same-stronger', rehash: true, now: T0 });
  t.strictSame(rehashed.at(-1), { type: 'PasswordChanged', data: { user_id: 'u1', password_hash: '$argon2id$same-stronger', changed_at: T0, rehash: true } });
  t.equal(generation(rehashed), 0, 'a rehash of the same password ends nothing');
  const changed = after(rehashed, { type: 'ChangePassword', password_hash: '$argon2id$new', now: T0 });
  t.equal(generation(changed), 1, 'a password change');
  const promoted = after(changed, { type: 'ChangeRole', role: 'admin', now: T0 });
  t.equal(generation(promoted), 2, 'a role change');
  const verifiedAndMoved = after(promoted, { type: 'VerifyEmail', email_hash: HASH_A, now: T0 }, { type: 'RecordLogin', now: T0 });
  t.equal(generation(verifiedAndMoved), 2, 'a verification or a sign-in ends nothing');
  t.equal(generation(after(verifiedAndMoved, { type: 'ForgetPersonalData', now: T0 })), 3, 'forget-me');
});

t.test('usernames and addresses are normalized for uniqueness', async (t) => {
  t.equal(normalizeUsername(' Rina.K '), 'rina.k');
  t.equal(normalizeEmail(' Rina@Example.TEST '), 'rina@example.test');
});

t.test('a claim of an address the account does not have lapses; a change made with that claim or an older one is refused', async (t) => {
  const lapse = { type: 'LapseEmailClaim', email_hash: HASH_B, claim_number: 2, now: T0 } as const;
  const lapsed = { type: 'EmailClaimLapsed', data: { user_id: 'u1', email_hash: HASH_B, claim_number: 2, lapsed_at: T0 } } as const satisfies UserEvent;
  user(registered).when(lapse).then(t, [lapsed]);
  user(registered).when({ ...lapse, email_hash: HASH_A }).thenThrows(t, 'EMAIL_TAKEN');
  const changeWith = (claimNumber: number) => ({ type: 'ChangeEmail', email_hash: HASH_B, email: sealed('rina@example.org'), claim_number: claimNumber, now: T0 }) as const;
  user([...registered, lapsed]).when(changeWith(1)).thenThrows(t, 'EMAIL_TAKEN');
  user([...registered, lapsed]).when(changeWith(2)).thenThrows(t, 'EMAIL_TAKEN');
  user([...registered, lapsed]).when(changeWith(3)).then(t, [
    { type: 'EmailChanged', data: { user_id: 'u1', email_hash: HASH_B, email: sealed('rina@example.org'), changed_at: T0 } },
  ]);
  user([...registered, lapsed]).when({ ...changeWith(1), email_hash: 'c'.repeat(64) }).then(t, [
    { type: 'EmailChanged', data: { user_id: 'u1', email_hash: 'c'.repeat(64), email: sealed('rina@example.org'), changed_at: T0 } },
  ]);
  const forgotten = after(registered, { type: 'ForgetPersonalData', now: T0 });
  user(forgotten).when({ ...lapse, email_hash: HASH_A }).then(t, [{ ...lapsed, data: { ...lapsed.data, email_hash: HASH_A } }]);
});

t.test('a lapse of an older claim, recorded late, leaves the newer lapse standing', async (t) => {
  const lapsedAt = (claimNumber: number) => ({ type: 'EmailClaimLapsed', data: { user_id: 'u1', email_hash: HASH_B, claim_number: claimNumber, lapsed_at: T0 } }) as const;
  const lapse = (claimNumber: number) => ({ type: 'LapseEmailClaim', email_hash: HASH_B, claim_number: claimNumber, now: T0 }) as const;
  user([...registered, lapsedAt(3)]).when(lapse(1)).then(t, []);
  user([...registered, lapsedAt(3)]).when(lapse(3)).then(t, []);
  user([...registered, lapsedAt(3)]).when(lapse(4)).then(t, [lapsedAt(4)]);
  // Written late by a version that did not check: the newest number stands all the same.
  const state = fold(userDecider, [...registered, lapsedAt(3), lapsedAt(1)]);
  t.strictSame(state.status === 'active' && state.lapsedEmailClaims, { [HASH_B]: 3 });
  const changeWith = (claimNumber: number) => ({ type: 'ChangeEmail', email_hash: HASH_B, email: sealed('rina@example.org'), claim_number: claimNumber, now: T0 }) as const;
  user([...registered, lapsedAt(3), lapsedAt(1)]).when(changeWith(3)).thenThrows(t, 'EMAIL_TAKEN');
  t.equal(user([...registered, lapsedAt(3), lapsedAt(1)]).when(changeWith(4)).events()[0]?.type, 'EmailChanged');
});
