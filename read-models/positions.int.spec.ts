import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { AllPage } from '../eventstore/port.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { startNats } from '../test/harness/servers.ts';
import { eventually } from '../test/support/eventually.ts';
import { freshMysqlDatabase, serviceUrl } from '../test/support/services.ts';
import { appendBookingFlow } from '../test/support/booking-flow.ts';
import { caughtUp, projectionRig } from '../test/support/projections.ts';
import { InProcessPositions, NATS_DRAIN_LIMIT_MS, NATS_MAX_PINGS_OUT, NATS_PING_INTERVAL_MS, NatsPositions } from './positions.ts';

t.test('projectors tell every committed position over NATS, to listeners in other processes', async (t) => {
  const publisher = new NatsPositions(serviceUrl('NATS_URL'));
  const listener = new NatsPositions(serviceUrl('NATS_URL'));
  t.teardown(async () => {
    await publisher.close();
    await listener.close();
  });
  await Promise.all([publisher.ready(), listener.ready()]);
  t.ok(publisher.connected && listener.connected);
  const heard = new Map<string, number>();
  listener.listen((projection, position) => heard.set(projection, Math.max(heard.get(projection) ?? 0, position)));

  const rig = await projectionRig(t, { positions: publisher, batchSize: 100 });
  const flow = await appendBookingFlow(rig.store, { users: 20, concerts: 1, classSeats: [200], bookings: 150 });
  rig.projectors.start();
  await caughtUp(rig.projectors);
  await eventually(async () => ['users', 'concerts', 'bookings', 'payments', 'tickets', 'legacy-ids', 'queue'].every((name) => heard.get(name) === flow.head), 'every head position heard');
  t.same(Object.fromEntries(heard), { users: flow.head, concerts: flow.head, bookings: flow.head, payments: flow.head, tickets: flow.head, 'legacy-ids': flow.head, queue: flow.head });
});

t.test('without NATS, publishing is skipped and nothing fails; once NATS is back, positions flow again', async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const errors: unknown[] = [];
  const publisher = new NatsPositions(nats.url, (error) => errors.push(error));
  const listener = new NatsPositions(nats.url);
  t.teardown(async () => {
    await publisher.close();
    await listener.close();
  });
  await Promise.all([publisher.ready(), listener.ready()]);
  const heard: number[] = [];
  listener.listen((_projection, position) => heard.push(position));
  publisher.publish('bookings', 1);
  await eventually(async () => heard.includes(1), 'the first position heard');

  await nats.kill();
  t.doesNotThrow(() => publisher.publish('bookings', 2), 'publishing while NATS is down does not throw');
  await nats.restart();
  await eventually(async () => {
    publisher.publish('bookings', 3);
    return heard.includes(3);
  }, 'positions flow after NATS came back', 20_000);
  t.ok(heard.includes(3));
});

t.test('appends are heard while NATS is connected and subscribed, not while it is down, and again once it is back', async (t) => {
  t.equal(new InProcessPositions().hearsAppends, false, 'in process: another process appending to the same store is found by polling');
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const hearer = new NatsPositions(nats.url);
  t.teardown(() => hearer.close());
  await hearer.ready();
  t.equal(hearer.hearsAppends, true, 'subscribed to the announcements');
  await nats.kill();
  await eventually(async () => !hearer.hearsAppends, 'not heard while NATS is down');
  await nats.restart();
  await eventually(async () => hearer.hearsAppends, 'heard again once NATS is back', 20_000);
  // And the announcements do flow again.
  const announcer = new NatsPositions(nats.url);
  t.teardown(() => announcer.close());
  await announcer.ready();
  const heard: number[] = [];
  hearer.listenAppends((position) => heard.push(position));
  await eventually(async () => {
    announcer.announceAppend(42);
    return heard.includes(42);
  }, 'an announcement heard');
  await hearer.close();
  t.equal(hearer.hearsAppends, false, 'closed');
});

t.test('a NATS server that hangs without closing its connections is found out within seconds, and closing does not wait for it', async (t) => {
  // SIGSTOP: the sockets stay open and the kernel still accepts, but nothing answers, as behind a
  // partition the operating system does not see. Before, the client's default pings (every 2 min,
  // 2 unanswered) took up to 6 min to notice: reads waited for news every 500 ms and the store's
  // followers polled every 1 s all that time, and a stop waited on the drain until its deadline.
  const nats = await startNats();
  t.teardown(async () => {
    nats.resume();
    await nats.stop();
  });
  const hearer = new NatsPositions(nats.url);
  const closer = new NatsPositions(nats.url);
  t.teardown(() => Promise.all([hearer.close(), closer.close()]));
  await Promise.all([hearer.ready(), closer.ready()]);
  t.equal(hearer.hearsAppends, true);
  nats.pause();

  let started = Date.now();
  await closer.close();
  t.ok(Date.now() - started < NATS_DRAIN_LIMIT_MS + 1_000, `closed while NATS hangs, after ${Date.now() - started} ms`);
  // One still connecting (the kernel takes the connection; the server never says hello) closes as soon.
  const connecting = new NatsPositions(nats.url);
  started = Date.now();
  await connecting.close();
  t.ok(Date.now() - started < NATS_DRAIN_LIMIT_MS + 1_000, `closed while still connecting, after ${Date.now() - started} ms`);
  t.equal(connecting.connected, false);

  started = Date.now();
  const staleWithinMs = NATS_PING_INTERVAL_MS * (NATS_MAX_PINGS_OUT + 1) + 2_000;
  await eventually(async () => !hearer.connected && !hearer.hearsAppends, 'the hung connection found out', staleWithinMs);
  t.ok(Date.now() - started <= staleWithinMs, `found out after ${Date.now() - started} ms`);

  nats.resume();
  await eventually(async () => hearer.hearsAppends, 'heard again once NATS answers', 30_000);
});

t.test('appends announced over NATS wake a SQL store subscription in another process at once, not at its next poll', async (t) => {
  const url = await freshMysqlDatabase(t);
  // Polling every 20 s: whatever arrives sooner came by the news.
  const writer = await SqlEventStore.open({ client: 'mysql2', url, pollIntervalMs: 20_000 });
  const follower = await SqlEventStore.open({ client: 'mysql2', url, pollIntervalMs: 20_000 });
  const announcer = new NatsPositions(serviceUrl('NATS_URL'));
  const hearer = new NatsPositions(serviceUrl('NATS_URL'));
  t.teardown(async () => {
    await Promise.all([announcer.close(), hearer.close()]);
    await Promise.all([writer.close(), follower.close()]);
  });
  await Promise.all([announcer.ready(), hearer.ready()]);
  hearer.listenAppends((position) => follower.appendedElsewhere(position));
  const echoed: number[] = [];
  announcer.listenAppends((position) => echoed.push(position));
  const subscription = follower.subscribe({ after: 0 });
  t.teardown(() => subscription.close());
  const pages = subscription[Symbol.asyncIterator]();
  const first = pages.next(); // reads the empty store, then sleeps
  await new Promise((resolve) => setTimeout(resolve, 300));
  const appended = await writer.append('news-1', [{ id: randomUUID(), type: 'Something', data: {}, metadata: {} }], 'no_stream');
  const started = Date.now();
  announcer.announceAppend(appended.position);
  const page: IteratorResult<AllPage> | 'late' = await Promise.race([first, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5_000))]);
  t.not(page, 'late', 'the page came within 5 s (the poll would take 20 s)');
  if (page !== 'late' && page.done !== true) t.equal(page.value.events[0]?.position, appended.position);
  t.ok(Date.now() - started < 5_000, `after ${Date.now() - started} ms`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(echoed, [], 'the announcer does not hear itself: its own store woke its subscriptions already');
});
