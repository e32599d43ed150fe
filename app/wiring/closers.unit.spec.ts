import pino from 'pino';
import t from 'tap';
import { Closers } from './closers.ts';

/** A logger whose lines are kept, parsed, for the spec to read. */
function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

t.test('closes in the reverse order of opening', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger);
  const closed: string[] = [];
  for (const name of ['database', 'event store', 'writer']) closers.add(name, async () => void closed.push(name));
  await closers.close();
  t.strictSame(closed, ['writer', 'event store', 'database']);
  t.strictSame(lines, [], 'nothing to report');
  await closers.close();
  t.strictSame(closed, ['writer', 'event store', 'database'], 'a second close closes nothing again');
});

t.test('a closer that never settles is given up after its time, named in the log, and the rest are closed', async (t) => {
  const { logger, lines } = recordingLogger();
  const closers = new Closers(logger, 50);
  const closed: string[] = [];
  closers.add('database', async () => void closed.push('database'));
  closers.add('a client that never answers', () => new Promise<void>(() => undefined));
  closers.add('writer', async () => void closed.push('writer'));
  const started = performance.now();
  await closers.close();
  const took = performance.now() - started;
  t.strictSame(closed, ['writer', 'database'], 'the closers after the stuck one still ran');
  t.ok(took >= 45 && took < 2_000, `close() returned after the time limit (${took.toFixed(0)} ms)`);
  t.equal(lines.length, 1, 'one line logged');
  t.match(lines[0], { level: 50, closer: 'a client that never answers', timeLimitMs: 50, msg: /took too long/ });
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
  await closers.close();
  t.strictSame(closed, ['database']);
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 50, closer: 'a pool already gone', err: { message: 'pool destroyed' }, msg: /closing failed/ });
  t.match(lines[1], { level: 50, closer: 'Redis', err: { message: 'connection reset' }, msg: /closing failed/ });
});
