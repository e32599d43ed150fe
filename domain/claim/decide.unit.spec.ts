import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0 } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { claimDecider, claimStream, type ClaimCommand, type ClaimEvent } from './index.ts';

const claim = (history: ClaimEvent[]) => given(claimDecider, history);
const claimUsername = (owner: string): ClaimCommand => ({ type: 'ClaimValue', kind: 'username', value_key: 'rina.k', owner_id: owner, now: T0 });
const claimed = claimDecider.decide(claimUsername('u1'), claimDecider.initialState());

t.test('the first owner claims a unique value', async (t) => {
  claim([]).when(claimUsername('u1')).then(t, [
    { type: 'ValueClaimed', data: { kind: 'username', value_key: 'rina.k', owner_id: 'u1', claimed_at: T0 } },
  ]);
  t.equal(claimStream('username', 'rina.k'), 'username-rina.k');
});

t.test('a taken value is refused with the code of its kind', async (t) => {
  claim(claimed).when(claimUsername('u2')).thenThrows(t, 'USERNAME_TAKEN');
  const email: ClaimCommand = { type: 'ClaimValue', kind: 'email', value_key: 'f'.repeat(64), owner_id: 'u1', now: T0 };
  const emailClaimed = claimDecider.decide(email, claimDecider.initialState());
  claim(emailClaimed).when({ ...email, owner_id: 'u2' }).thenThrows(t, 'EMAIL_TAKEN');
});

t.test('claiming again as the owner decides nothing', async (t) => {
  claim(claimed).when(claimUsername('u1')).then(t, []);
});

t.test('only the owner releases a value, and then anyone may claim it', async (t) => {
  const releaseBy = (owner: string): ClaimCommand => ({ type: 'ReleaseValue', kind: 'username', value_key: 'rina.k', owner_id: owner, now: T0 });
  claim(claimed).when(releaseBy('u2')).thenThrows(t, 'CLAIM_NOT_OWNED');
  const released = [...claimed, ...claimDecider.decide(releaseBy('u1'), claimDecider.evolve(claimDecider.initialState(), claimed[0] as ClaimEvent))];
  t.equal(released.at(-1)?.type, 'ValueReleased');
  claim(released).when(releaseBy('u1')).then(t, []);
  t.equal(claim(released).when(claimUsername('u2')).events()[0]?.type, 'ValueClaimed');
});

t.test('each claim of a value has its number; a release of one claim is refused once the value was claimed again', async (t) => {
  const releaseBy = (owner: string, claimNumber?: number): ClaimCommand =>
    ({ type: 'ReleaseValue', kind: 'username', value_key: 'rina.k', owner_id: owner, now: T0, ...(claimNumber === undefined ? {} : { claim_number: claimNumber }) });
  const released = { type: 'ValueReleased', data: { kind: 'username', value_key: 'rina.k', owner_id: 'u1', released_at: T0 } } as const satisfies ClaimEvent;
  const reclaimed = [...claimed, released, ...claimed];
  t.strictSame(fold(claimDecider, claimed), { owner: 'u1', claims: 1, claimedAt: T0 });
  t.strictSame(fold(claimDecider, [...claimed, released]), { owner: null, claims: 1, claimedAt: null });
  t.strictSame(fold(claimDecider, reclaimed), { owner: 'u1', claims: 2, claimedAt: T0 }, 'the owner\'s second claim');
  claim(reclaimed).when(releaseBy('u1', 1)).thenThrows(t, 'CLAIM_NOT_OWNED');
  claim(reclaimed).when(releaseBy('u1', 2)).then(t, [released]);
  claim(reclaimed).when(releaseBy('u1')).then(t, [released]);
  claim([...claimed, released]).when(releaseBy('u1', 1)).then(t, []); // released already: nothing to do
});
