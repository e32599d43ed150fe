/**
 * The harness itself, run as `npm test` runs it: it starts its own servers, passes their URLs to
 * the specs, exits with tap's verdict, and leaves no server running, pass or fail.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');

async function runHarness(spec: string): Promise<{ code: number | null; output: string }> {
  // A clean environment, as a developer's shell has: without our server URLs (so the inner run
  // starts servers of its own) and without the variables tap sets for its own child processes.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) =>
      !/^(TAP|_TAPJS)/.test(name) && !['NODE_OPTIONS', 'MYSQL_URL', 'REDIS_URL', 'NATS_URL'].includes(name)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/harness/run.ts', spec], { cwd: root, env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

function startedPids(output: string): number[] {
  return [...output.matchAll(/harness: (mariadb|redis|nats) on port \d+ \(pid (\d+)\)/g)].map((m) => Number(m[2]));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('a failing spec fails the run, and the servers are stopped anyway', async (t) => {
  const { code, output } = await runHarness('test/fixtures/harness/fails.spec.ts');
  t.not(code, 0, 'the run exits non-zero');
  t.match(output, /# \{ total: 1, pass: 0, fail: 1 \}/, "tap's summary shows the failure");
  const pids = startedPids(output);
  t.equal(pids.length, 3, 'MariaDB, Redis and NATS were started');
  t.strictSame(pids.filter(isRunning), [], 'none of them is still running');
  t.match(output, /harness: stopped/);
});

t.test('a passing spec passes the run against real servers, and the servers are stopped', async (t) => {
  const { code, output } = await runHarness('test/fixtures/harness/passes.spec.ts');
  t.equal(code, 0, 'the run exits zero');
  t.match(output, /# \{ total: 1, pass: 1 \}/);
  const pids = startedPids(output);
  t.equal(pids.length, 3);
  t.strictSame(pids.filter(isRunning), []);
});
