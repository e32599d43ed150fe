import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import t from 'tap';
import { ProcessStop, type StopOptions } from './stop.ts';

/** A process a spec can signal, whose exit is recorded instead of taken. */
function fakeProcess(): EventEmitter & { exits: number[]; exit(code: number): void; exited: Promise<number> } {
  const emitter = new EventEmitter();
  let exited!: (code: number) => void;
  const fake = Object.assign(emitter, {
    exits: [] as number[],
    exited: new Promise<number>((resolve) => (exited = resolve)),
    exit(code: number) {
      fake.exits.push(code);
      exited(code);
    },
  });
  return fake;
}

function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const messages = (lines: readonly Record<string, unknown>[]): unknown[] => lines.map((line) => line.msg);

/** A stop on a fake process, a 5 s deadline unless told, and what it logged and closed. */
function stopRig(options: Omit<StopOptions, 'process'> = {}) {
  const { logger, lines } = recordingLogger();
  const proc = fakeProcess();
  const stop = new ProcessStop(logger, { process: proc, deadlineMs: 5_000, ...options });
  const closed: string[] = [];
  /** Registers a step that records its close and closes cleanly, or not. */
  const open = (name: string, clean = true): void => stop.opened(name, async () => (closed.push(name), clean));
  return { lines, proc, stop, closed, open };
}

t.test('a signal after start-up closes what was opened, newest first, and exits 0', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig();
  for (const name of ['services', 'http', 'metrics http']) open(name);
  stop.startedUp();
  t.equal(stop.stopping, false);
  await sleep(20);
  t.strictSame(closed, [], 'nothing is closed before a signal');

  proc.emit('SIGTERM', 'SIGTERM');
  t.equal(stop.stopping, true);
  t.equal(await proc.exited, 0);
  t.strictSame(closed, ['metrics http', 'http', 'services']);
  t.strictSame(messages(lines), ['shutting down', 'stopped']);
  t.match(lines[0], { signal: 'SIGTERM' });
  t.notOk('duringStartUp' in (lines[0] ?? {}));
  t.match(lines[1], { clean: true });
});

t.test('a signal during start-up waits for start-up to stop at its next step, then closes what it opened', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig();
  open('services');
  proc.emit('SIGINT', 'SIGINT');
  t.equal(stop.stopping, true, 'start-up sees the stop at its next step');
  await sleep(20);
  t.strictSame(closed, [], 'nothing is closed under a start-up still running');
  t.strictSame(proc.exits, []);
  stop.startedUp();
  t.equal(await proc.exited, 0);
  t.strictSame(closed, ['services']);
  t.match(lines[0], { msg: 'shutting down', signal: 'SIGINT', duringStartUp: true });
  t.match(lines.at(-1), { msg: 'stopped', clean: true });
});

t.test('signals that come again are logged and ignored: one stop, one exit', async (t) => {
  const { lines, proc, stop } = stopRig();
  let release!: () => void;
  let closes = 0;
  stop.opened('http', () => new Promise<boolean>((resolve) => {
    closes++;
    release = () => resolve(true);
  }));
  stop.startedUp();
  proc.emit('SIGTERM', 'SIGTERM');
  proc.emit('SIGTERM', 'SIGTERM');
  proc.emit('SIGINT', 'SIGINT');
  await sleep(20);
  t.strictSame(proc.exits, [], 'still draining');
  release();
  t.equal(await proc.exited, 0);
  await sleep(20);
  t.equal(closes, 1);
  t.strictSame(proc.exits, [0]);
  t.strictSame(messages(lines), ['shutting down', 'already shutting down', 'already shutting down', 'stopped']);
});

t.test('a signal that comes again after the relayed ones is someone asking twice: the process exits 1 at once, naming the step', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig({ relayedSignalWindowMs: 100 });
  open('services');
  stop.opened('http', () => new Promise<boolean>(() => undefined));
  stop.startedUp();
  proc.emit('SIGINT', 'SIGINT');
  proc.emit('SIGINT', 'SIGINT');
  await sleep(150);
  t.strictSame(proc.exits, [], 'the relayed one was ignored; still draining');
  proc.emit('SIGINT', 'SIGINT');
  t.equal(await proc.exited, 1);
  t.strictSame(closed, [], 'the stop was not waited for');
  t.strictSame(messages(lines), ['shutting down', 'already shutting down', 'signalled again: exiting without waiting for the stop']);
  t.match(lines.at(-1), { signal: 'SIGINT', pending: 'http' });
});

t.test('a start-up that fails with no signal logs why, closes what it opened, newest first, and leaves the exit to its caller', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig({ deadlineMs: 50 });
  open('services');
  open('http', false);
  t.equal(await stop.closeAfterFailedStartUp(new Error('listen EADDRINUSE'), 1), false, 'one step did not close cleanly');
  t.strictSame(closed, ['http', 'services']);
  t.strictSame(messages(lines), ['failed to start; closing what start-up opened', 'closed after a failed start-up']);
  t.match(lines[0], { err: { message: 'listen EADDRINUSE' } });
  t.match(lines[1], { clean: false });
  await sleep(100);
  t.strictSame(proc.exits, [], 'no exit of its own: the deadline was cleared');
});

t.test('closing after a failed start-up that outlives the deadline ends with the failure\'s exit code; a signal meanwhile is a stop like any other', async (t) => {
  const hanging = stopRig({ deadlineMs: 100 });
  hanging.stop.opened('services', () => new Promise<boolean>(() => undefined));
  void hanging.stop.closeAfterFailedStartUp(new Error('a bad variable'), 2);
  hanging.proc.emit('SIGTERM', 'SIGTERM');
  t.equal(await hanging.proc.exited, 2, 'the code its caller would have ended it with');
  t.strictSame(messages(hanging.lines), ['failed to start; closing what start-up opened', 'shutting down', 'stopping took too long; exiting without waiting for it']);

  const asked = stopRig({ relayedSignalWindowMs: 50 });
  asked.stop.opened('services', () => new Promise<boolean>(() => undefined));
  void asked.stop.closeAfterFailedStartUp(new Error('listen EADDRINUSE'), 1);
  await sleep(100);
  asked.proc.emit('SIGINT', 'SIGINT');
  await sleep(20);
  t.strictSame(asked.proc.exits, [], 'one signal: the closing goes on');
  await sleep(60);
  asked.proc.emit('SIGINT', 'SIGINT');
  t.equal(await asked.proc.exited, 1);
  t.match(asked.lines.at(-1), { msg: 'signalled again: exiting without waiting for the stop', pending: 'services' });
});

t.test('a step that fails or closes uncleanly is logged, the rest are closed, and the process exits 1', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig();
  open('services', false);
  stop.opened('http', () => Promise.reject(new Error('would not close')));
  open('metrics http');
  stop.startedUp();
  proc.emit('SIGTERM', 'SIGTERM');
  t.equal(await proc.exited, 1);
  t.strictSame(closed, ['metrics http', 'services']);
  t.match(lines.find((line) => line.msg === 'closing failed; closing the rest'), { step: 'http', err: { message: 'would not close' } });
  t.match(lines.at(-1), { msg: 'stopped', clean: false });
});

t.test('a stop that outlives its deadline names the step it waits for and exits 1', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig({ deadlineMs: 100 });
  open('services');
  stop.opened('http', () => new Promise<boolean>(() => undefined));
  stop.startedUp();
  const signalled = performance.now();
  proc.emit('SIGTERM', 'SIGTERM');
  t.equal(await proc.exited, 1);
  const took = performance.now() - signalled;
  t.ok(took >= 95 && took < 2_000, `exited at the deadline (${took.toFixed(0)} ms)`);
  t.match(lines.at(-1), { msg: 'stopping took too long; exiting without waiting for it', pending: 'http', deadlineMs: 100 });
  t.strictSame(closed, [], 'the steps after the stuck one were not reached');
});

t.test('a start-up step the signal came during gets a shorter deadline of its own', async (t) => {
  const { lines, proc } = stopRig({ startUpStepDeadlineMs: 50 });
  const signalled = performance.now();
  proc.emit('SIGTERM', 'SIGTERM');
  t.equal(await proc.exited, 1);
  const took = performance.now() - signalled;
  t.ok(took >= 45 && took < 2_000, `exited at the start-up step's deadline (${took.toFixed(0)} ms)`);
  t.match(lines.at(-1), { msg: 'stopping took too long; exiting without waiting for it', pending: 'start-up', deadlineMs: 50 });
});

t.test('a start-up that reaches its next step in time is stopped as usual, and the step deadline does not fire later', async (t) => {
  const { lines, proc, stop } = stopRig({ startUpStepDeadlineMs: 100 });
  stop.opened('services', async () => true);
  proc.emit('SIGTERM', 'SIGTERM');
  stop.startedUp();
  t.equal(await proc.exited, 0);
  await sleep(200);
  t.strictSame(proc.exits, [0], 'one exit');
  t.notOk(lines.some((line) => line.msg === 'stopping took too long; exiting without waiting for it'));
});

t.test('a start-up step that fails after the signal is logged, what was opened is closed, and the process exits 1', async (t) => {
  const { lines, proc, stop, closed, open } = stopRig();
  open('services');
  proc.emit('SIGTERM', 'SIGTERM');
  stop.startUpFailed(new Error('listen EADDRINUSE'));
  t.equal(await proc.exited, 1);
  t.strictSame(closed, ['services']);
  t.match(lines.find((line) => line.msg === 'start-up failed while stopping'), { err: { message: 'listen EADDRINUSE' } });
  t.match(lines.at(-1), { msg: 'stopped', clean: false });
});

t.test('a finished stop clears its deadline: it does not fire afterwards', async (t) => {
  const { lines, proc, stop } = stopRig({ deadlineMs: 50 });
  stop.startedUp();
  proc.emit('SIGTERM', 'SIGTERM');
  t.equal(await proc.exited, 0);
  await sleep(150);
  t.strictSame(proc.exits, [0], 'one exit, 0');
  t.strictSame(messages(lines), ['shutting down', 'stopped']);
});
