/**
 * The queue's writer on a real (SQLite) event store: joins that read their place back are decided
 * and appended together (submitThenRead reads inside the batch); two instances taking joins at
 * once give each account one place, and a lost race costs a read of the winner's events, not a
 * fold of the whole stream; a read for the store's current state sees what another writer appended.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { placeOfUser, placeView, queueEvents, queueStream, type QueueEvent } from '../../domain/queue/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { isRefusal } from '../../lib/errors.ts';
import { overriding } from '../../test/support/overriding.ts';
import { QueueWriter } from './queue-writer.ts';

const CONCERT = '11111111-1111-4111-8111-111111111111';
const T0 = '2026-12-05T10:00:00.000Z';
const OPENS = '2026-12-05T11:00:00.000Z';
const context: CommandContext = { correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: T0 };

async function openStore(t: Test): Promise<SqlEventStore> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-queue-writer-'));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

/** The store as one instance sees it, counting its reads of the queue stream from its first event. */
function counting(store: EventStore): { store: EventStore; fullReads: () => number } {
  let fullReads = 0;
  const readStream = async (stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
    if (stream === queueStream(CONCERT) && (options?.fromRevision ?? 0) === 0) fullReads++;
    return store.readStream(stream, options);
  };
  return { store: overriding(store, { readStream }), fullReads: () => fullReads };
}

function writer(t: Test, store: EventStore, { maxBatch = 50, batches = [] as number[] } = {}): QueueWriter {
  const queues = new QueueWriter(store, {
    queueLimit: 10_000, maxBatch, onBackgroundError: (error) => t.fail(`background error: ${String(error)}`), onBatch: (size) => batches.push(size),
  });
  t.teardown(() => queues.drain());
  return queues;
}

t.test('two instances taking joins at once: each account one place, every join answered, lost races caught up without reloading', async (t) => {
  const store = await openStore(t);
  await writer(t, store).submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: T0 }, context);
  const a = counting(store);
  const b = counting(store);
  const [first, second] = [writer(t, a.store), writer(t, b.store)];
  const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
  // Every account joins at both instances, in opposite orders, all at once.
  const joins = users.flatMap((user, i) => [
    first.submit(CONCERT, { type: 'JoinQueue', user_id: user, place_id: randomUUID(), now: T0 }, context),
    second.submit(CONCERT, { type: 'JoinQueue', user_id: users[users.length - 1 - i]!, place_id: randomUUID(), now: T0 }, context),
  ]);
  const written = await Promise.all(joins);
  t.equal(written.length, 1_200, 'every join answered');

  const events = (await store.readStream(queueStream(CONCERT))).map((recorded) => decode(recorded, queueEvents) as QueueEvent);
  const joined = events.flatMap((event) => (event.type === 'QueueJoined' ? [event.data.user_id] : []));
  t.equal(joined.length, 600, 'one QueueJoined per account');
  t.equal(new Set(joined).size, 600);
  t.equal(written.filter((w) => w.events.length === 1).length, 600, 'each account told of its one join; its second join decided nothing');

  // Both instances agree with the stream.
  for (const queues of [first, second]) {
    t.same(await queues.read(CONCERT, (state) => [...state.entrants]), events.flatMap((event) => (event.type === 'QueueJoined' ? [event.data.place_id] : [])));
  }
  // Races were lost (the two appended into the same stream) but never cost a whole-stream fold beyond the first load.
  t.equal(a.fullReads(), 1, 'instance A loaded the stream once');
  t.equal(b.fullReads(), 1, 'instance B loaded the stream once');
});

t.test('two hundred joins reading their place back are decided in a few batches, each told its own place', async (t) => {
  const store = await openStore(t);
  const batches: number[] = [];
  const queues = writer(t, store, { maxBatch: 500, batches });
  await queues.submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: T0 }, context);
  const users = Array.from({ length: 200 }, () => randomUUID());
  const answers = await Promise.all(users.map((user) => queues.submitThenRead(CONCERT, { type: 'JoinQueue', user_id: user, place_id: randomUUID(), now: T0 }, context,
    (state) => {
      const place = placeOfUser(state, user);
      return place && placeView(state, place.placeId, T0);
    })));
  t.ok(answers.every((answer, i) => answer.events.length === 1 && answer.read?.user_id === users[i] && answer.read?.status === 'waiting'), 'each its own place');
  t.ok(answers.every((answer) => answer.events[0]?.type === 'QueueJoined' && answer.events[0].data.place_id === answer.read?.place_id), 'the place it joined');
  t.ok(batches.length - 1 < 20, `200 joins in ${batches.length - 1} batches, not one append each`);
  t.equal((await store.readStream(queueStream(CONCERT))).length, 201);
});

t.test('a read for the current state sees what another instance appended; a plain read answers from memory', async (t) => {
  const store = await openStore(t);
  const here = writer(t, store);
  const there = writer(t, store);
  await here.submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: T0 }, context);
  t.equal(await there.read(CONCERT, (state) => state.places.size), 0, 'the other instance loads the queue');
  await here.submit(CONCERT, { type: 'JoinQueue', user_id: randomUUID(), place_id: randomUUID(), now: T0 }, context);
  t.equal(await there.read(CONCERT, (state) => state.places.size), 0, 'from memory: stale');
  t.equal(await there.readCurrent(CONCERT, (state) => state.places.size), 1, 'caught up');
});

t.test('a command that decided nothing and ran out of tries is answered busy, not left hanging (found as an attacker would)', async (t) => {
  const store = await openStore(t);
  const other = writer(t, store);
  await other.submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: T0 }, context);
  await other.submit(CONCERT, { type: 'JoinQueue', user_id: 'u0', place_id: randomUUID(), now: T0 }, context);
  // This instance's view of the store: every time it checks the stream, the other instance has just appended a join.
  let foreign = 0;
  const streamRevisions = async (streams: readonly string[]) => {
    await other.submit(CONCERT, { type: 'JoinQueue', user_id: `x${foreign++}`, place_id: randomUUID(), now: T0 }, context);
    return store.streamRevisions(streams);
  };
  const moving = overriding(store, { streamRevisions });
  const here = new QueueWriter(moving, { queueLimit: 100, maxBatch: 50, maxAttempts: 5, onBackgroundError: (error) => t.fail(String(error)) });
  t.teardown(() => here.drain());
  await here.read(CONCERT, () => undefined);
  // u0 joins again here: a no-op, which each time finds the stream moved.
  const rejoin = here.submit(CONCERT, { type: 'JoinQueue', user_id: 'u0', place_id: randomUUID(), now: T0 }, context);
  const outcome = await Promise.race([
    rejoin.then(() => 'answered', (error: unknown) => (isRefusal(error, 'OVERLOADED') ? 'busy' : `failed: ${String(error)}`)),
    new Promise((resolve) => setTimeout(() => resolve('still pending after 3 s'), 3_000)),
  ]);
  t.equal(outcome, 'busy');
  t.equal(foreign, 5, 'it tried five times');
});
