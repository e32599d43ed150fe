import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { serviceUrl, uniqueName } from '../test/support/services.ts';
import { MemoryQueueBoard, RedisQueueBoard, type BoardPlace, type QueueBoard } from './queue-board.ts';

const C = 'c1000000-0000-4000-8000-000000000001';
const P = 'a1000000-0000-4000-8000-000000000001';
const U = 'b1000000-0000-4000-8000-000000000001';
const waiting: BoardPlace = { placeId: P, concertId: C, userId: U, index: -1, pass: null, spent: '' };
const admitted: BoardPlace = { ...waiting, index: 4, pass: { passId: 'pass-1', expiresAtMs: 1_800_000_000_000, expiresAt: '2027-01-15T08:00:00.000Z' } };

const boards: [string, (t: Test) => QueueBoard][] = [
  ['redis', (t) => {
    const redis = new Redis(serviceUrl('REDIS_URL'));
    t.teardown(() => redis.disconnect());
    return new RedisQueueBoard(redis, uniqueName('board'));
  }],
  ['memory', () => new MemoryQueueBoard()],
];

for (const [kind, make] of boards) {
  t.test(`a place and its concert are read back together; unknown places are not on the board (${kind})`, async (t) => {
    const board = make(t);
    t.equal(await board.read(P), undefined);
    await board.write({ position: 3, places: [waiting], concerts: [] });
    t.strictSame(await board.read(P), {
      concertId: C, userId: U, index: -1, passId: '', expiresAtMs: Number.NaN, expiresAt: '', spent: '',
      admitted: 0, soldOut: false, opensAtMs: Number.NaN, admissionRate: 0,
    }, 'a concert not written yet reads as nothing admitted, no opening known');
    await board.write({ position: 5, places: [admitted], concerts: [{ concertId: C, admitted: 5, soldOut: true, opensAtMs: 1_700_000_000_000, admissionRate: 12.5 }] });
    t.strictSame(await board.read(P), {
      concertId: C, userId: U, index: 4, passId: 'pass-1', expiresAtMs: 1_800_000_000_000, expiresAt: '2027-01-15T08:00:00.000Z', spent: '',
      admitted: 5, soldOut: true, opensAtMs: 1_700_000_000_000, admissionRate: 12.5,
    });
  });

  t.test(`a write at or below a key's position changes nothing: replays are no-ops, nothing goes back (${kind})`, async (t) => {
    const board = make(t);
    await board.write({ position: 10, places: [{ ...admitted, spent: 'used' }], concerts: [{ concertId: C, admitted: 7, soldOut: false, opensAtMs: 1, admissionRate: 2 }] });
    await board.write({ position: 10, places: [waiting], concerts: [{ concertId: C, admitted: 1, soldOut: false, opensAtMs: 1, admissionRate: 2 }] });
    await board.write({ position: 4, places: [waiting], concerts: [{ concertId: C, admitted: 0, soldOut: false, opensAtMs: 1, admissionRate: 0 }] });
    t.match(await board.read(P), { index: 4, passId: 'pass-1', spent: 'used', admitted: 7 }, 'the position-10 state stands');
    await board.write({ position: 11, places: [], concerts: [{ concertId: C, admitted: 8, soldOut: true, opensAtMs: 1, admissionRate: 2 }] });
    t.match(await board.read(P), { spent: 'used', admitted: 8, soldOut: true }, 'a later write applies');
  });
}

t.test('the Redis layout: one hash per place and per concert under the prefix; many places go out in chunks', async (t) => {
  const redis = new Redis(serviceUrl('REDIS_URL'));
  t.teardown(() => redis.disconnect());
  const prefix = uniqueName('board');
  const board = new RedisQueueBoard(redis, prefix);
  const places = Array.from({ length: 2_500 }, (_, i): BoardPlace => ({ ...waiting, placeId: `p-${i}`, index: i }));
  await board.write({ position: 2, places, concerts: [{ concertId: C, admitted: 0, soldOut: false, opensAtMs: 1_700_000_000_000, admissionRate: 0 }] });
  t.same(await redis.hgetall(`${prefix}:queue:place:p-2499`), { _pos: '2', c: C, u: U, i: '2499', p: '', x: '', xs: '', s: '' });
  t.same(await redis.hgetall(`${prefix}:queue:concert:${C}`), { _pos: '2', a: '0', so: '0', o: '1700000000000', r: '0' });
  t.equal((await redis.keys(`${prefix}:queue:place:*`)).length, 2_500);
  t.match(await board.read('p-1234'), { index: 1234, concertId: C });
});

t.test('polls that arrive together are read in one call, each answered with its own place (unknown ones too)', async (t) => {
  const redis = new Redis(serviceUrl('REDIS_URL'));
  t.teardown(() => redis.disconnect());
  const board = new RedisQueueBoard(redis, uniqueName('board'));
  const places = Array.from({ length: 600 }, (_, i): BoardPlace => ({ ...waiting, placeId: `p-${i}`, index: i, concertId: i % 2 === 0 ? C : 'other-concert' }));
  await board.write({ position: 2, places, concerts: [{ concertId: C, admitted: 3, soldOut: false, opensAtMs: 1, admissionRate: 0 }] });
  const calls: number[] = [];
  const client = redis as unknown as { boxofficeQueueRead: (count: number, ...rest: string[]) => Promise<unknown> };
  const sent = client.boxofficeQueueRead.bind(redis);
  client.boxofficeQueueRead = async (count, ...rest) => {
    calls.push(count);
    return sent(count, ...rest);
  };
  const asked = [...places.map((place) => place.placeId), 'nobody', 'p-599'];
  const read = await Promise.all(asked.map((placeId) => board.read(placeId)));
  t.same(read.map((reading) => reading?.index), [...places.map((place) => place.index), undefined, 599]);
  t.same(read.slice(0, 2).map((reading) => reading?.admitted), [3, 0], 'each with its own concert');
  t.same(calls, [256, 256, 90], '602 polls in three calls of at most 256');
});
