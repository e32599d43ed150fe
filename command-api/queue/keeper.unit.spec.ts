/**
 * The keeper's control law and the shared queue-depth bands, with no I/O (the expiring keys in
 * memory, as the tests' embedded default has them).
 */
import t from 'tap';
import { MemoryExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { eventually } from '../../test/support/eventually.ts';
import { EnteringJoins } from './entering-joins.ts';
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

t.test('an instance reports joins received before the opening while it holds them; the report expires unless renewed', async (t) => {
  let wall = 1_000_000;
  const keys = new MemoryExpiringKeys(() => wall);
  t.teardown(() => keys.close());
  const here = new QueueLoad(keys, L, { freshMs: 1_000, enteringFreshMs: 5_000, wallClock: () => wall });
  const there = new QueueLoad(keys, L, { freshMs: 1_000, wallClock: () => wall });
  await here.reportEntering('c1');
  t.ok(await there.entering('c1'), 'seen by another instance');
  t.notOk(await there.entering('c2'), 'per concert');
  wall += 5_000;
  t.notOk(await there.entering('c1'), 'a report nobody renews expires');
});

t.test('joins are counted from their receipt to their record, only those received before the opening; reported at once', async (t) => {
  const reported: string[] = [];
  const load = { enteringFreshMs: 60_000, reportEntering: async (concertId: string) => void reported.push(concertId) } as unknown as QueueLoad;
  const entering = new EnteringJoins(load, (error) => t.fail(String(error)), { drawWaitMaxMs: 30_000 });
  t.teardown(() => entering.close());
  const afterOpening = entering.enter('c1', 2_000, 1_000);
  const noOpening = entering.enter('c1', 500, null);
  t.equal(entering.waiting('c1'), 0, 'received at or after the opening, or with no opening to come: not counted');
  t.strictSame(reported, [], 'nothing reported');
  const first = entering.enter('c1', 500, 1_000);
  const second = entering.enter('c1', 999, 1_000);
  t.equal(entering.waiting('c1'), 2);
  await Promise.resolve();
  t.strictSame(reported, ['c1'], 'reported once, at the first');
  first();
  first();
  t.equal(entering.waiting('c1'), 1, 'taken back once, however often told');
  second();
  afterOpening();
  noOpening();
  t.equal(entering.waiting('c1'), 0);
});

t.test('the report is renewed while joins wait, by a timer, and no longer once none does', async (t) => {
  const reported: number[] = [];
  const load = { enteringFreshMs: 50, reportEntering: async () => void reported.push(Date.now()) } as unknown as QueueLoad;
  const entering = new EnteringJoins(load, (error) => t.fail(String(error)), { drawWaitMaxMs: 30_000 });
  t.teardown(() => entering.close());
  const leave = entering.enter('c1', Date.now(), Date.now() + 1);
  await eventually(async () => reported.length >= 4, 'renewed every fifth of the report\'s life');
  leave();
  await new Promise((resolve) => setTimeout(resolve, 60));
  const renewals = reported.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.equal(reported.length, renewals, 'no renewal once none waits');
});

t.test('a join that never settles is reported no longer than the draw could wait for it', async (t) => {
  const reported: number[] = [];
  const load = { enteringFreshMs: 50, reportEntering: async () => void reported.push(Date.now()) } as unknown as QueueLoad;
  let wall = 1_000_000;
  const entering = new EnteringJoins(load, (error) => t.fail(String(error)), { drawWaitMaxMs: 30_000, now: () => wall });
  t.teardown(() => entering.close());
  entering.enter('c1', wall, wall + 1_000); // never left: its store hung
  await eventually(async () => reported.length >= 3, 'renewed while the draw may still wait');
  wall += 1_000 + 30_000;
  await new Promise((resolve) => setTimeout(resolve, 40));
  const renewals = reported.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.equal(reported.length, renewals, 'not renewed past the opening plus the draw\'s latest bound');
  t.equal(entering.waiting('c1'), 0, 'and forgotten');
});
