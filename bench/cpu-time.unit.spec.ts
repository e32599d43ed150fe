import t from 'tap';
import { machineTicks, stealPercent } from './cpu-time.ts';

t.test('steal is the share of the machine\'s CPU time between two readings that the hypervisor took', async (t) => {
  t.equal(stealPercent({ total: 1_000, steal: 10 }, { total: 1_400, steal: 30 }), 5);
  t.equal(stealPercent({ total: 1_000, steal: 10 }, { total: 1_400, steal: 10 }), 0);
  t.equal(stealPercent({ total: 1_000, steal: 10 }, { total: 1_000, steal: 10 }), 0, 'no time passed: none taken');
});

t.test('the machine\'s ticks are read from /proc/stat and only grow', async (t) => {
  const before = await machineTicks();
  const until = Date.now() + 50;
  while (Date.now() < until); // keep a core busy: the clock ticks are counted
  const after = await machineTicks();
  t.ok(Number.isInteger(before.total) && before.total > 0, `total ${before.total}`);
  t.ok(Number.isInteger(before.steal) && before.steal >= 0 && before.steal <= before.total, `steal ${before.steal}`);
  t.ok(after.total > before.total, `${before.total} → ${after.total}`);
  t.ok(after.steal >= before.steal);
  const share = stealPercent(before, after);
  t.ok(share >= 0 && share <= 100, `${share}%`);
});
