/**
 * The keeper's control law and the shared queue-depth bands, with no I/O (the expiring keys in
 * memory, as the tests' embedded default has them).
 */
import t from 'tap';
import { MemoryExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { nextWindow } from './keeper.ts';
import { QueueLoad } from './queue-load.ts';

const L = 400;
const at = (over: Partial<Parameters<typeof nextWindow>[1]> = {}) => ({ depth: 0, outstanding: 0, available: 1_000, limit: L, grow: 2, ...over });

t.test('the window halves when the deepest queue reaches a quarter of the limit, grows additively only while full and the queues are short', async (t) => {
  t.equal(nextWindow(40, at({ depth: L / 4, outstanding: 40 })), 20, 'deep: halved, full or not');
  t.equal(nextWindow(40, at({ depth: L / 4 - 1, outstanding: 40 })), 40, 'between an eighth and a quarter: held');
  t.equal(nextWindow(40, at({ depth: L / 8 - 1, outstanding: 40 })), 42, 'full and short queues: grows by one step');
  t.equal(nextWindow(40, at({ depth: 0, outstanding: 39 })), 40, 'not full: the demand, not the engine, limits; held');
  t.equal(nextWindow(1, at({ depth: L, outstanding: 1 })), 1, 'never below one while seats are left');
});

t.test('the window is capped by the seats still available and by half the queue limit', async (t) => {
  t.equal(nextWindow(40, at({ outstanding: 40, available: 10 })), 10, 'no more passes out than seats left');
  t.equal(nextWindow(40, at({ outstanding: 40, available: 0 })), 0, 'no seat available: paused');
  t.equal(nextWindow(L / 2, at({ outstanding: L / 2 })), L / 2, 'at most L/2');
});

t.test('each instance publishes the band its depth reaches; the deepest band of any instance is read back', async (t) => {
  let wall = 1_000_000;
  const keys = new MemoryExpiringKeys(() => wall);
  t.teardown(() => keys.close());
  const here = new QueueLoad(keys, L, { freshMs: 1_000, wallClock: () => wall });
  const there = new QueueLoad(keys, L, { freshMs: 1_000, wallClock: () => wall });
  t.strictSame(here.bands, [25, 50, 100, 200, 400]);
  await here.publish('c1', 24);
  t.equal(await there.deepest('c1'), 0, 'below the lowest band: nothing written, nothing read');
  await here.publish('c1', 60);
  await there.publish('c1', 130);
  t.equal(await here.deepest('c1'), 100, 'the deepest of the two, to within a factor of two');
  t.equal(await here.deepest('c2'), 0, 'per concert');
  wall += 1_001;
  t.equal(await here.deepest('c1'), 0, 'a band stands for freshMs: a queue that emptied stops counting');
  await there.publish('c1', 500);
  t.equal(await here.deepest('c1'), 400);
});
