import { randomBytes } from 'node:crypto';
import t from 'tap';
import { KeySlots } from './key-slots.ts';

const key = (keyId: string) => ({ keyId, key: randomBytes(32) });

t.test('hands out a copy of the key it keeps', async (t) => {
  const slots = new KeySlots(3);
  const a = key('a');
  slots.set('user-a', a);
  const got = slots.get('user-a');
  t.same(got && { keyId: got.keyId, key: got.key.toString('hex') }, { keyId: 'a', key: a.key.toString('hex') });
  got?.key.fill(1);
  t.equal(slots.get('user-a')?.key.toString('hex'), a.key.toString('hex'), 'changing the copy leaves the kept key');
  a.key.fill(2);
  t.not(slots.get('user-a')?.key.toString('hex'), a.key.toString('hex'), 'the kept key is a copy too');
  t.equal(slots.get('nobody'), undefined);
});

t.test('past its capacity the oldest key goes, and its slot is zeroed before another key takes it', async (t) => {
  const slots = new KeySlots(2);
  const [a, b, c] = [key('a'), key('b'), key('c')];
  slots.set('user-a', a);
  slots.set('user-b', b);
  const handedOut = slots.get('user-a');
  slots.set('user-a', a); // set again: the newest now
  slots.set('user-c', c); // evicts user-b, the oldest
  t.equal(slots.size, 2);
  t.equal(slots.get('user-b'), undefined);
  t.notOk(slots.holds(b.key), 'no slot holds the evicted key');
  t.equal(slots.get('user-a')?.key.toString('hex'), a.key.toString('hex'));
  t.equal(slots.get('user-c')?.key.toString('hex'), c.key.toString('hex'));
  t.equal(handedOut?.key.toString('hex'), a.key.toString('hex'), 'a key handed out before is not touched by the slots changing');
});

t.test('a forgotten key is wiped from its slot at once', async (t) => {
  const slots = new KeySlots(10);
  const a = key('a');
  slots.set('user-a', a);
  t.ok(slots.holds(a.key));
  slots.delete('user-a');
  t.equal(slots.get('user-a'), undefined);
  t.notOk(slots.holds(a.key));
  slots.delete('user-a'); // again: nothing to do
  t.equal(slots.size, 0);
});

t.test('grows past one slab and reuses freed slots', async (t) => {
  const slots = new KeySlots(5_000);
  const keys = Array.from({ length: 5_000 }, (_, i) => key(`k${i}`));
  keys.forEach((k, i) => slots.set(`user-${i}`, k));
  t.equal(slots.get('user-4999')?.key.toString('hex'), keys[4999]?.key.toString('hex'), 'a key in the second slab');
  t.equal(slots.get('user-0')?.key.toString('hex'), keys[0]?.key.toString('hex'));
  slots.delete('user-10');
  const fresh = key('fresh');
  slots.set('user-new', fresh);
  t.equal(slots.size, 5_000);
  t.equal(slots.get('user-new')?.key.toString('hex'), fresh.key.toString('hex'));
  t.equal(slots.get('user-11')?.key.toString('hex'), keys[11]?.key.toString('hex'), 'its neighbours untouched');
});

t.test('refuses a key that is not 32 bytes, and a cache of no keys', async (t) => {
  t.throws(() => new KeySlots(1).set('u', { keyId: 'x', key: Buffer.alloc(16) }), /32 bytes/);
  t.throws(() => new KeySlots(0), /at least one key/);
});
