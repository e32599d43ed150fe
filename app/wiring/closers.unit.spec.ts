import pino from 'pino';
import t from 'tap';
import { Closers } from './closers.ts';

/** A logger whose lines are kept, parsed, for the spec to read. */
function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

t.test('closes in the reverse order of opening', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger);
  const closed: string[] = [];
  for (const name of ['database', 'event store', 'writer']) closers.add(name, async () => void closed.push(name));
  const timersBefore = timers();
  t.strictSame(await closers.close(), [], 'a clean close');
  t.strictSame(closed, ['writer', 'event store', 'database']);
  t.strictSame(lines, [], 'nothing to report');
  t.equal(timers(), timersBefore, 'no time-limit timer is left behind');
  t.strictSame(await closers.close(), [], 'a second close is clean too');
  t.strictSame(closed, ['writer', 'event store', 'database'], 'and closes nothing again');
});

t.test('a closer that never settles is given up after its time, named in the log, and the rest are closed', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger, 50);
  const closed: string[] = [];
  closers.add('database', async () => void closed.push('database'));
  closers.add('a client that never answers', () => new Promise<void>(() => undefined));
  closers.add('writer', async () => void closed.push('writer'));
  const started = performance.now();
  const unclean = await closers.close();
  const took = performance.now() - started;
  t.strictSame(unclean, ['a client that never answers'], 'the close answers what was given up');
  t.strictSame(closed, ['writer', 'database'], 'the closers after the stuck one still ran');
  t.ok(took >= 45 && took < 2_000, `close() returned after the time limit (${took.toFixed(0)} ms)`);
  t.equal(lines.length, 1, 'one line logged');
  t.match(lines[0], { level: 50, closer: 'a client that never answers', timeLimitMs: 50, msg: /took too long/ });
});

t.test('a closer that fails after it was given up says so, not that the rest are still to close', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger, 20);
  let fail: (error: Error) => void = () => undefined;
  closers.add('a slow pool', () => new Promise<void>((_resolve, reject) => {
    fail = reject;
  }));
  t.strictSame(await closers.close(), ['a slow pool']);
  fail(new Error('socket hang up'));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 50, closer: 'a slow pool', msg: /took too long/ });
  t.match(lines[1], { level: 50, closer: 'a slow pool', err: { message: 'socket hang up' }, msg: 'closing failed, after its time limit' });
});

t.test('a closer that fails, or throws before it returns, is logged with its error, and the rest are closed', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger);
  const closed: string[] = [];
  closers.add('database', async () => void closed.push('database'));
  closers.add('Redis', () => Promise.reject(new Error('connection reset')));
  closers.add('a pool already gone', () => {
    throw new Error('pool destroyed');
  });
  t.strictSame(await closers.close(), ['a pool already gone', 'Redis'], 'the close answers both');
  t.strictSame(closed, ['database']);
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 50, closer: 'a pool already gone', err: { message: 'pool destroyed' }, msg: /closing failed; closing the rest/ });
  t.match(lines[1], { level: 50, closer: 'Redis', err: { message: 'connection reset' }, msg: /closing failed; closing the rest/ });
});
