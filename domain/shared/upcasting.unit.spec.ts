import t from 'tap';
import { metadataAt, userRegisteredV1Data } from '../../test/support/recorded-events.ts';
import { fold } from './decider.ts';
import { UpcasterRegistry, type StoredEvent } from './upcasting.ts';
import { upcasters } from '../index.ts';
import { userDecider, type UserEvent } from '../user/index.ts';

const metadata = metadataAt;
const registeredV1Data = userRegisteredV1Data;
const registeredV1: StoredEvent = { type: 'UserRegistered', data: registeredV1Data, metadata: metadata(1) };

t.test('a v1 UserRegistered is read as v2 with the customer role, and folds', async (t) => {
  const upcast = upcasters.upcast(registeredV1);
  t.equal(upcast.metadata.schema_version, 2);
  t.match(upcast.data, { user_id: 'u-old', role: 'customer' });
  t.notOk('role' in registeredV1Data, 'the stored event is not rewritten');
  const state = fold(userDecider, [upcast as unknown as UserEvent]);
  t.equal(state.status === 'active' && state.role, 'customer');
});

t.test('an event already at the current version comes back untouched', async (t) => {
  const current = { ...registeredV1, data: { ...registeredV1Data, role: 'admin' }, metadata: metadata(2) };
  t.equal(upcasters.upcast(current), current);
  const unversioned = { type: 'SeatsHeld', data: {}, metadata: metadata(1) };
  t.equal(upcasters.upcast(unversioned), unversioned);
  t.equal(upcasters.currentVersion('UserRegistered'), 2);
  t.equal(upcasters.currentVersion('SeatsHeld'), 1);
});

t.test('an event from newer code is refused rather than misread', async (t) => {
  t.throws(() => upcasters.upcast({ ...registeredV1, metadata: metadata(3) }), /newer than this code/);
  t.throws(() => upcasters.upcast({ type: 'SeatsHeld', data: {}, metadata: metadata(2) }), /newer than this code/);
});

t.test('a registry with a missing step is refused when built', async (t) => {
  t.throws(() => new UpcasterRegistry({ Thing: { current: 3, steps: { 1: (d) => ({ ...d }) } } }), /no upcaster from version 2/);
});

t.test('steps run in order from the stored version to the current one', async (t) => {
  const registry = new UpcasterRegistry({
    Renamed: {
      current: 3,
      steps: {
        1: (d) => ({ amount: d.total }),
        2: (d) => ({ amount: d.amount, currency: 'IDR' }),
      },
    },
  });
  const event = registry.upcast({ type: 'Renamed', data: { total: 5 }, metadata: metadata(1) });
  t.strictSame(event.data, { amount: 5, currency: 'IDR' });
  t.equal(event.metadata.schema_version, 3);
});
