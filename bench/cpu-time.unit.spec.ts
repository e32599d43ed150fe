import t, { type Test } from 'tap';
import { machineTicks, settled, stealPercent, watchMachine } from './cpu-time.ts';

t.test('steal is the share of the machine\'s CPU time between two readings that the hypervisor took', async (t) => {
  t.equal(stealPercent({ total: 1_000, idle: 500, steal: 10 }, { total: 1_400, idle: 700, steal: 30 }), 5);
  t.equal(stealPercent({ total: 1_000, idle: 500, steal: 10 }, { total: 1_400, idle: 700, steal: 10 }), 0);
  t.equal(stealPercent({ total: 1_000, idle: 500, steal: 10 }, { total: 1_000, idle: 500, steal: 10 }), 0, 'no time passed: none taken');
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

t.test('the CPU of a program the bench does not measure counts as others', async (t) => {
  const { spawn } = await import('node:child_process');
  const program = spawn(process.execPath, ['-e', 'const until = Date.now() + 1_000; while (Date.now() < until);']);
  const exited = new Promise((resolve) => program.once('exit', resolve));
  // Two watches over the same time: one measures the program, the other does not know it.
  const blind = await watchMachine([]);
  const seeing = await watchMachine([program.pid ?? 0]);
  await new Promise((resolve) => setTimeout(resolve, 600)); // read before it exits: /proc/<pid> goes with it
  const unknown = await blind.stop();
  const known = await seeing.stop();
  await exited;
  // A core of two kept busy is up to 50% of the machine.
  t.ok(unknown.othersPercent - known.othersPercent > 15, `${unknown.othersPercent.toFixed(1)}% others when unknown, ${known.othersPercent.toFixed(1)}% when measured`);
  t.ok(unknown.stealPercent >= 0 && unknown.stealPercent <= 100);
});

/** A program that keeps a core busy for `busyMs`, then idles until the test ends; its pid. */
async function busyFor(t: Test, busyMs: number): Promise<number> {
  const { spawn } = await import('node:child_process');
  const program = spawn(process.execPath, ['-e', `const until = Date.now() + ${busyMs}; while (Date.now() < until); setTimeout(() => {}, 60_000);`]);
  t.teardown(() => program.kill());
  await new Promise((resolve) => program.once('spawn', resolve));
  return program.pid ?? 0;
}

t.test('settled waits while a measured process is busy, and no longer', async (t) => {
  const pid = await busyFor(t, 600);
  const started = Date.now();
  const waited = await settled([pid], { maxMs: 4_000 });
  t.ok(waited >= 300 && waited < 4_000, `waited ${waited} ms for a process busy for 600 ms`);
  t.ok(Date.now() - started >= waited, 'the time it says it waited');
  const again = await settled([pid], { maxMs: 4_000 });
  t.ok(again < 400, `${again} ms once it is idle`);
});

t.test('settled gives up after maxMs on a process that stays busy', async (t) => {
  const pid = await busyFor(t, 5_000);
  const started = Date.now();
  t.equal(await settled([pid], { maxMs: 700 }), 700);
  t.ok(Date.now() - started < 1_500, 'and returns then');
});
