import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import t, { type Test } from 'tap';
import { upcasters, type DomainEvent } from '../../domain/index.ts';
import { queueEvents, type QueueEvent } from '../../domain/queue/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { ApplyContext, Projection, ProjectedEvent } from '../projection.ts';
import { MemoryQueueBoard, RedisQueueBoard, type QueueBoard } from '../../read-models/queue-board.ts';
import { minutesAfter, onSale } from '../../test/support/concert-fixtures.ts';
import { projectionFixture } from '../../test/support/projection-spec.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { OPENS_AT, QUEUE_CONCERT, QUEUE_STREAM, WaitingRoomScript, passId, placeId, userId } from '../../test/support/waiting-room.ts';
import { queueProjection } from './queue.ts';

const inStream = (events: readonly QueueEvent[]) => events.map((event) => ({ event, stream: QUEUE_STREAM }));

/** A store that holds only the queue's stream (what a restarted projection folds from), and nothing else. */
function streamStore(recorded: RecordedEvent[]): EventStore {
  return { readStream: async (stream: string) => (stream === QUEUE_STREAM ? recorded : []) } as unknown as EventStore;
}

function recordedAt(events: readonly QueueEvent[]): RecordedEvent[] {
  return events.map((event, i) => {
    const id = randomUUID();
    return {
      id, stream: QUEUE_STREAM, revision: i, position: i + 1, type: event.type, data: event.data, recordedAt: '2026-12-01T10:00:00.000Z',
      metadata: { event_id: id, correlation_id: id, causation_id: id, actor_id: null, schema_version: upcasters.currentVersion(event.type), occurred_at: '2026-12-01T10:00:00.000Z' },
    };
  });
}

const boards: [string, (t: Test) => { board: QueueBoard; dump: () => Promise<unknown> }][] = [
  ['redis', (t) => {
    const redis = new Redis(serviceUrl('REDIS_URL'));
    t.teardown(() => redis.disconnect());
    const prefix = uniqueName('queue');
    return {
      board: new RedisQueueBoard(redis, prefix),
      dump: async () => {
        const keys = (await redis.keys(`${prefix}:queue:*`)).sort();
        return Promise.all(keys.map(async (key) => [key, await redis.hgetall(key)]));
      },
    };
  }],
  ['memory', () => {
    const board = new MemoryQueueBoard();
    return { board, dump: async () => Promise.all(Array.from({ length: 6 }, (_, i) => board.read(placeId(i + 1)))) };
  }],
];

for (const [kind, make] of boards) {
  t.test(`the board follows a queue: join, lottery, admission, pass used and expired, sold out; a replay changes nothing (${kind})`, async (t) => {
    const { board, dump } = make(t);
    const fixture = await projectionFixture(t, queueProjection({ board, store: streamStore([]) }));
    const { redeliver } = fixture;
    const pages: QueueEvent[][] = [];
    const given = async (events: readonly { event: QueueEvent }[]) => {
      pages.push(events.map(({ event }) => event));
      return fixture.given(events);
    };
    const script = new WaitingRoomScript();
    t.equal(await given(inStream([...script.open(), ...script.join(1), ...script.join(2), ...script.join(3), ...script.join(4)])), 'applied');
    t.match(await board.read(placeId(2)), { concertId: QUEUE_CONCERT, userId: userId(2), index: -1, passId: '', admitted: 0, opensAtMs: Date.parse(OPENS_AT) });

    t.equal(await given(inStream(script.draw())), 'applied');
    const order = script.order();
    for (const [index, place] of order.entries()) t.match(await board.read(place), { index }, `the lottery put ${place} at ${index}`);
    t.equal(await given(inStream(script.join(5, minutesAfter(OPENS_AT, 0.5)))), 'applied');
    t.match(await board.read(placeId(5)), { index: 4 }, 'who joins after the draw queues behind everyone');

    t.equal(await given(inStream([...script.admit([1, 2], minutesAfter(OPENS_AT, 1)), ...script.admit([3], minutesAfter(OPENS_AT, 1.5))])), 'applied');
    const [first, second, third, fourth] = order as [string, string, string, string];
    t.match(await board.read(first), { passId: passId(1), spent: '', admitted: 3, expiresAt: minutesAfter(OPENS_AT, 6) });
    t.match(await board.read(third), { passId: passId(3), admitted: 3 });
    t.match(await board.read(fourth), { passId: '', admitted: 3, index: 3 });
    t.equal((await board.read(fourth))?.admissionRate, 0.033, 'the rate: one more admitted 30 s after the first admission (per second)');

    const holder = (place: string) => Number(place.slice(-12));
    t.equal(await given(inStream(script.use(holder(first), 1))), 'applied');
    t.match(await board.read(first), { spent: 'used', passId: passId(1) });
    t.equal(await given(inStream(script.expire(minutesAfter(OPENS_AT, 8)))), 'applied');
    t.match(await board.read(second), { spent: 'expired' });
    t.match(await board.read(third), { spent: 'expired' });
    t.match(await board.read(first), { spent: 'used' }, 'a used pass does not expire');

    t.equal(await given(inStream(script.soldOut())), 'applied');
    t.match(await board.read(fourth), { soldOut: true, passId: '' });

    const before = await dump();
    t.equal(await redeliver(), 'moved', 'the runner refuses a page below its checkpoint');
    // At-least-once: the same pages again (a runner whose checkpoint was lost, a rebuilt checkpoint) change nothing.
    const again = await projectionFixture(t, queueProjection({ board, store: streamStore([]) }));
    for (const page of pages) t.equal(await again.given(inStream(page)), 'applied');
    t.same(await dump(), before, 'replaying every page changes nothing on the board, positions included');
    const once = await projectionFixture(t, queueProjection({ board, store: streamStore([]) }));
    t.equal(await once.given(inStream(script.events)), 'applied');
    const withoutPositions = (dumped: unknown) => JSON.stringify(dumped).replaceAll(/"_pos":"\d+",?/g, '');
    t.equal(withoutPositions(await dump()), withoutPositions(before), 'the whole history in one page writes the same states');
  });
}

t.test('after a restart, a queue is folded from its stream up to the checkpoint, and the board continues right', async (t) => {
  const { board } = boards[0]![1](t);
  const script = new WaitingRoomScript();
  const history = [...script.open(), ...script.join(1), ...script.join(2), ...script.join(3), ...script.draw()];
  // A projection that was already at position 5 (its board written then), restarted: it knows nothing in memory.
  const restarted = await projectionFixture(t, queueProjection({ board, store: streamStore(recordedAt(history)) }));
  const padding = onSale()[0] as DomainEvent;
  t.equal(await restarted.given(history.map(() => padding)), 'applied', 'the checkpoint stands at 5');
  t.equal(await restarted.given(inStream([...script.join(4, minutesAfter(OPENS_AT, 1)), ...script.admit([1, 2])])), 'applied');
  const order = script.order();
  t.match(await board.read(placeId(4)), { index: 3, passId: '', admitted: 2 }, 'the late joiner stands behind the three drawn before the restart');
  t.match(await board.read(order[0]!), { passId: passId(1), index: 0, userId: userId(Number(order[0]!.slice(-12))) });
  t.match(await board.read(order[1]!), { passId: passId(2), index: 1 });
  t.equal(await board.read(order[2]!), undefined, 'places the batch did not touch are not rewritten (the projection before the restart wrote them)');
});

t.test('two runners of the projection taking turns (found as an attacker would): the board never goes backwards', async (t) => {
  const script = new WaitingRoomScript();
  const history = [...script.open(), ...script.join(1), ...script.join(2), ...script.join(3), ...script.draw(), ...script.admit([1])];
  const recorded = recordedAt(history);
  const all = recorded.map((event): ProjectedEvent => ({ ...decode(event, queueEvents), metadata: event.metadata as ProjectedEvent['metadata'], position: event.position, stream: event.stream }));
  const [joined, drawn, admitted] = [4, 5, 6];
  const board = new MemoryQueueBoard();
  const store = streamStore(recorded);
  const [first, second] = [queueProjection({ board, store }), queueProjection({ board, store })];
  /** One runner applies the page after `from` up to `to`, as the runner does (board writes, no tables). */
  const apply = async (projection: Projection, from: number, to: number) => {
    const batch = await projection.apply(all.filter((event) => event.position > from && event.position <= to), { position: to, from } as ApplyContext);
    for (const write of batch.writes) await write(undefined as unknown as Knex.Transaction);
  };
  const places = [placeId(1), placeId(2), placeId(3)];
  await apply(first, 0, joined);
  await apply(second, joined, drawn);
  const ordered = await Promise.all(places.map((place) => board.read(place)));
  t.same(ordered.map((place) => place?.index).sort(), [0, 1, 2], 'the second runner wrote the lottery order');
  await apply(first, drawn, admitted);
  const after = await Promise.all(places.map((place) => board.read(place)));
  t.same(after.map((place) => place?.index), ordered.map((place) => place?.index), 'the first runner, back after a page it did not see, keeps the order');
  t.equal(after.filter((place) => place?.passId !== '').length, 1, 'and writes the one admission');
  t.ok(after.every((place) => place?.admitted === 1), 'the concert has 1 admitted');
});
