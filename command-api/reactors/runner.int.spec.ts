/**
 * A reactor never wedges: an event it cannot handle after its tries is parked with the reason,
 * the events after it are handled, and the checkpoint reaches the head; a parked event is
 * retried on request. Driven through the real runner and stores (SQLite files), with a reactor
 * whose handler fails for one event until its cause is fixed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { Metrics } from '../../lib/observability/metrics.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ReactorStore } from './reactor-store.ts';
import { ReactorRunner, type Reactor, type RunnerOptions } from './runner.ts';

const TRIES = 3;

async function rig(t: Test, options: RunnerOptions = { tries: TRIES, backoffMs: { first: 5, max: 20 } }, pollIntervalMs?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-runner-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite'), ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });
  t.teardown(() => store.close());
  const reactors = await ReactorStore.open({ client: 'better-sqlite3', filename: join(dir, 'reactors.sqlite') });
  t.teardown(() => reactors.close());
  /** What the reactor did: the ids of the events it handled, how often it was handed the poison (it fails the first `failsFor`). */
  const effects = { handled: new Set<string>(), poisonTries: 0, failsFor: Number.POSITIVE_INFINITY };
  const reactor: Reactor = {
    name: 'settler',
    filter: { streamPrefixes: ['ledger-'] },
    async handle(events: readonly RecordedEvent[]) {
      for (const event of events) {
        if (event.type === 'Poisoned') {
          effects.poisonTries++;
          if (effects.poisonTries <= effects.failsFor) throw new Error(`cannot settle ${event.id}: the payment names no booking`);
        }
        effects.handled.add(event.id);
      }
    },
  };
  const errors: unknown[] = [];
  const runner = new ReactorRunner(store, reactors, reactor, (error) => errors.push(error), options);
  t.teardown(() => runner.stop());
  const append = async (...types: string[]): Promise<string[]> => {
    const ids = types.map(() => randomUUID());
    await store.append(`ledger-${randomUUID()}`, types.map((type, i) => ({ id: ids[i] as string, type, data: {}, metadata: {} })), 'no_stream');
    return ids;
  };
  const caughtUp = () => eventually(async () => (await reactors.checkpoint('settler')) >= (await store.headPosition()), 'the checkpoint reaches the head', 5_000);
  return { store, reactors, runner, effects, errors, append, caughtUp };
}

t.test('an event the handler keeps failing on is parked after its tries; the events after it are handled and the checkpoint reaches the head', async (t) => {
  const { store, reactors, runner, effects, append, caughtUp } = await rig(t);
  const [before, poison, after1, after2] = await append('Settled', 'Poisoned', 'Settled', 'Settled');
  runner.start();
  await caughtUp();
  const later = await append('Settled');
  await caughtUp();

  t.ok([before, after1, after2, ...later].every((id) => effects.handled.has(id as string)), 'every event but the poisoned one was handled, those after it too');
  t.notOk(effects.handled.has(poison as string), 'the poisoned one was not');
  t.equal(await reactors.checkpoint('settler'), await store.headPosition(), 'the checkpoint is at the head');
  const parked = await reactors.parked('settler');
  t.match(parked, [{ reactor: 'settler', eventId: poison, type: 'Poisoned', stream: /^ledger-/, tries: TRIES, reason: `Error: cannot settle ${poison as string}: the payment names no booking` }], 'parked with its reason and tries');
  t.equal(effects.poisonTries, 1 + TRIES, 'tried with its page, then on its own TRIES times: bounded');
});

t.test('appends in this process of nothing the reactor handles move its checkpoint to the head without a poll', async (t) => {
  // Polls an hour apart: only the appends in this process can move it within the test.
  const { store, reactors, runner, append, caughtUp } = await rig(t, undefined, 3_600_000);
  runner.start();
  await append('Settled');
  await caughtUp();
  for (let i = 0; i < 3; i++) await store.append(`other-${randomUUID()}`, [{ id: randomUUID(), type: 'Noted', data: {}, metadata: {} }], 'no_stream');
  await caughtUp();
  t.equal(await reactors.checkpoint('settler'), await store.headPosition(), 'the checkpoint is at the head, past the events it ignores');
});

t.test('a parked event is counted in the metrics and listed by the status; a retry that fails keeps it with the new reason, one after the fix unparks it', async (t) => {
  const { runner, reactors, effects, append, caughtUp } = await rig(t);
  const metrics = new Metrics();
  metrics.measureReactors(async () => [await runner.status(0)].map(({ name, parked_count: parked, lag }) => ({ name, parked, lag })));
  const [poison] = await append('Poisoned', 'Settled');
  runner.start();
  await caughtUp();

  t.match(await metrics.registry.metrics(), /boxoffice_reactor_parked_events\{reactor="settler"\} 1\n/, 'the gauge counts it');
  t.match(await metrics.registry.metrics(), /boxoffice_reactor_lag_events\{reactor="settler"\} 0\n/, 'and the reactor is not behind');
  const status = await runner.status();
  t.match(status, { name: 'settler', lag: 0, parked_count: 1, parked: [{ event_id: poison, type: 'Poisoned', tries: TRIES, reason: /cannot settle/ }] });

  t.strictSame(await runner.retry(), [{ event_id: poison, handled: false, reason: `Error: cannot settle ${poison as string}: the payment names no booking` }], 'still broken: it fails again');
  t.match(await reactors.parked('settler'), [{ eventId: poison, tries: TRIES + 1 }], 'and stays parked, its new try counted');

  effects.failsFor = 0;
  t.strictSame(await runner.retry([poison as string]), [{ event_id: poison, handled: true }], 'fixed: handed over again and handled');
  t.ok(effects.handled.has(poison as string), 'its effect is visible');
  t.strictSame(await reactors.parked('settler'), [], 'no longer parked');
  t.match(await metrics.registry.metrics(), /boxoffice_reactor_parked_events\{reactor="settler"\} 0\n/, 'the gauge drops to 0');
  t.strictSame(await runner.retry(), [], 'nothing left to retry');
});

t.test('a passing failure is retried, not parked', async (t) => {
  const { reactors, runner, effects, append, caughtUp } = await rig(t);
  const [poison] = await append('Poisoned');
  // Fails with its page and on its first own try, then the cause passes.
  effects.failsFor = 2;
  runner.start();
  await caughtUp();
  t.ok(effects.handled.has(poison as string), 'handled once the cause passed');
  t.strictSame(await reactors.parked('settler'), [], 'nothing parked');
});

t.test('a runner stopped while it waits to try an event again stops at once, and parks nothing', async (t) => {
  const { store, reactors, runner, effects, append } = await rig(t, { tries: 5, backoffMs: { first: 60_000, max: 60_000 } });
  await append('Poisoned');
  runner.start();
  await eventually(async () => effects.poisonTries >= 2, 'tried with its page and once on its own');
  const started = Date.now();
  await runner.stop();
  t.ok(Date.now() - started < 5_000, `stopped in ${Date.now() - started} ms, not after the minute's back-off`);
  t.strictSame(await reactors.parked('settler'), [], 'nothing parked');
  t.ok((await reactors.checkpoint('settler')) < (await store.headPosition()), 'the checkpoint stays before it: the next start tries it again');
});
