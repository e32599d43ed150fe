/**
 * The queue's writer on a real (SQLite) event store: joins that read their place back are decided
 * and appended together (submitThenRead reads inside the batch), and a read caught up with the
 * store sees what another writer appended.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { placeOfUser, placeView, queueStream } from '../../domain/queue/index.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { QueueWriter } from './queue-writer.ts';

const CONCERT = randomUUID();
const NOW = '2030-01-01T10:00:00.000Z';
const OPENS = '2030-01-01T11:00:00.000Z';
const context: CommandContext = { correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: NOW };

async function openStore(t: Test): Promise<SqlEventStore> {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-queue-'));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

function writer(t: Test, store: SqlEventStore, batches: number[] = []): QueueWriter {
  const queues = new QueueWriter(store, { queueLimit: 1000, maxBatch: 500, onBackgroundError: (error) => t.fail(String(error)), onBatch: (size) => batches.push(size) });
  t.teardown(() => queues.drain());
  return queues;
}

t.test('two hundred joins reading their place back are decided in a few batches, each told its own place', async (t) => {
  const store = await openStore(t);
  const batches: number[] = [];
  const queues = writer(t, store, batches);
  await queues.submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: NOW }, context);
  const users = Array.from({ length: 200 }, () => randomUUID());
  const answers = await Promise.all(users.map((user) => queues.submitThenRead(CONCERT, { type: 'JoinQueue', user_id: user, place_id: randomUUID(), now: NOW }, context,
    (state) => {
      const place = placeOfUser(state, user);
      return place && placeView(state, place.placeId, NOW);
    })));
  t.ok(answers.every((answer, i) => answer.events.length === 1 && answer.read?.user_id === users[i] && answer.read?.status === 'waiting'), 'each its own place');
  t.ok(answers.every((answer) => answer.events[0]?.type === 'QueueJoined' && answer.events[0].data.place_id === answer.read?.place_id), 'the place it joined');
  t.ok(batches.length - 1 < 20, `200 joins in ${batches.length - 1} batches, not one append each`);
  t.equal((await store.readStream(queueStream(CONCERT))).length, 201);
});

t.test('a read caught up with the store sees what another instance appended; a plain read answers from memory', async (t) => {
  const store = await openStore(t);
  const here = writer(t, store);
  const there = writer(t, store);
  await here.submit(CONCERT, { type: 'OpenWaitingRoom', concert_id: CONCERT, opens_at: OPENS, now: NOW }, context);
  t.equal(await there.read(CONCERT, (state) => state.places.size), 0, 'the other instance loads the queue');
  await here.submit(CONCERT, { type: 'JoinQueue', user_id: randomUUID(), place_id: randomUUID(), now: NOW }, context);
  t.equal(await there.read(CONCERT, (state) => state.places.size), 0, 'from memory: stale');
  t.equal(await there.readCaughtUp(CONCERT, (state) => state.places.size), 1, 'caught up');
});
