import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import t, { type Test } from 'tap';
import type { ConcertEvent } from '../../domain/concert/index.ts';
import { SeatCache } from '../../read-models/seat-cache.ts';
import { CONCERT, REGULAR, VIP, held, holdByClass, holdBySeat, onSale, vipSeat } from '../../test/support/concert-fixtures.ts';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { SeatCacheFeed } from './seat-cache-feed.ts';
import { concertsProjection } from './concerts.ts';

const B1 = 'b1000000-0000-4000-8000-000000000001';
const B2 = 'b2000000-0000-4000-8000-000000000002';
const U1 = 'u1000000-0000-4000-8000-000000000001';
const U2 = 'u2000000-0000-4000-8000-000000000002';

async function rig(t: Test, kind: 'mysql' | 'sqlite' = 'mysql') {
  const redis = new Redis(serviceUrl('REDIS_URL'));
  t.teardown(() => redis.disconnect());
  const cache = new SeatCache(redis, uniqueName('seats'));
  const refills = { asked: 0 };
  const feed = new SeatCacheFeed(cache, () => refills.asked++);
  const fixture = await projectionFixture(t, concertsProjection({ seatCache: feed }), kind);
  return { ...fixture, cache, feed, redis, refills };
}

const seatRows = (db: Knex) => db('seats').orderBy(['ticket_class_id', 'seat_number'])
  .select<{ id: string; status: string; booking_id: string | null }[]>('id', 'status', 'booking_id');
const classCounts = async (db: Knex) => Object.fromEntries((await db('ticket_classes').select<{ id: string; available_seats_in_class: number }[]>())
  .map((row) => [row.id, Number(row.available_seats_in_class)]));

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`concerts, classes, seats and the seat cache follow a concert's events (${kind})`, async (t) => {
    const { db, given, redeliver, cache } = await rig(t, kind);
    t.equal(await given(onSale()), 'applied');
    const concert = await db('concerts').where({ id: CONCERT }).first<Row>();
    t.match(concert, { name: 'Senandung Senja', artist: 'Nadin Amizah', venue: 'Istora Senayan', status: 'active', date: '2027-02-14T12:00:00.000Z' });
    t.equal(Number(concert.total_seats), 13);
    t.equal(Number(concert.available_seats), 13);
    t.same(await classCounts(db), { [VIP]: 3, [REGULAR]: 10 });
    const classes = await db('ticket_classes').orderBy('sort_order').select<Row[]>('id', 'name', 'price', 'total_seats_in_class');
    t.same(classes.map((row) => [row.id, row.name, Number(row.price), Number(row.total_seats_in_class)]), [[VIP, 'VIP', 1_500_000, 3], [REGULAR, 'Regular', 500_000, 10]]);
    const seats = await seatRows(db);
    t.equal(seats.length, 13);
    t.ok(seats.every((seat) => seat.status === 'available' && seat.booking_id === null));
    t.same(seats.slice(0, 3).map((seat) => seat.id), [vipSeat(1), vipSeat(2), vipSeat(3)], 'seat ids are the derived ones');
    t.same(await cache.availability(CONCERT), { position: 2, classes: new Map([[VIP, 3], [REGULAR, 10]]) });

    const history: ConcertEvent[] = onSale();
    const hold1 = held(holdBySeat(B1, U1, [vipSeat(1), vipSeat(2)]), history);
    history.push(hold1);
    const hold2 = held(holdByClass(B2, U2, [{ ticket_class_id: REGULAR, quantity: 3 }]), history);
    t.equal(await given([hold1, hold2]), 'applied');
    t.same(await classCounts(db), { [VIP]: 1, [REGULAR]: 7 });
    const afterHolds = await seatRows(db);
    t.same(new Map(afterHolds.filter((seat) => seat.status === 'reserved').map((seat) => [seat.id, seat.booking_id])),
      new Map([[vipSeat(1), B1], [vipSeat(2), B1], ...hold2.data.seats.map((seat): [string, string] => [seat.seat_id, B2])]));
    t.same((await cache.seatStatuses(1, CONCERT))?.size, 5, 'the seat map holds the five held seats');

    const now = '2026-12-01T10:05:00.000Z';
    t.equal(await given([
      { type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: B2, seat_ids: hold2.data.seats.map((seat) => seat.seat_id), reason: 'cancelled', released_at: now } },
      { type: 'SeatsSold', data: { concert_id: CONCERT, booking_id: B1, seat_ids: [vipSeat(1), vipSeat(2)], transaction_id: 'tx-1', sold_at: now } },
    ]), 'applied');
    t.same(await classCounts(db), { [VIP]: 1, [REGULAR]: 10 });
    const afterSale = await seatRows(db);
    t.same(afterSale.filter((seat) => seat.status !== 'available').map((seat) => [seat.id, seat.status, seat.booking_id]),
      [[vipSeat(1), 'booked', B1], [vipSeat(2), 'booked', B1]]);
    t.equal(Number((await db('concerts').where({ id: CONCERT }).first<Row>()).available_seats), 11);
    t.same(await cache.availability(CONCERT), { position: 6, classes: new Map([[VIP, 1], [REGULAR, 10]]) });
    t.same(await cache.seatStatuses(1, CONCERT), new Map([[vipSeat(1), 'booked'], [vipSeat(2), 'booked']]));

    const before = await tableChecksums(db, ['concerts', 'ticket_classes', 'seats']);
    t.equal(await redeliver(), 'moved', 'a re-delivered page is refused');
    t.same(await tableChecksums(db, ['concerts', 'ticket_classes', 'seats']), before, 'and changes no row');
    t.same((await cache.availability(CONCERT))?.classes, new Map([[VIP, 1], [REGULAR, 10]]));

    t.equal(await given([{ type: 'ConcertCancelled', data: { concert_id: CONCERT, reason: 'venue closed', cancelled_at: now } }]), 'applied');
    t.equal((await db('concerts').where({ id: CONCERT }).first<Row>()).status, 'cancelled');
  });
}

t.test('the seat cache ignores stale writes, drops keys with a gap, and is refilled from MySQL', async (t) => {
  const { db, given, cache, feed, redis, refills } = await rig(t);
  await given(onSale());
  const hold = held(holdBySeat(B1, U1, [vipSeat(3)]));
  await given([hold]);
  t.same((await cache.availability(CONCERT))?.position, 3);

  // A write older than the keys is ignored.
  t.same(await cache.apply(1, [{ concertId: CONCERT, previous: 0, position: 2, available: new Map([[VIP, 3]]), seats: new Map() }]), []);
  t.same((await cache.availability(CONCERT))?.classes.get(VIP), 2);

  // Redis lost the keys (restarted empty): the next change finds a gap and drops what it has.
  await redis.flushdb();
  await given([{ type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: B1, seat_ids: [vipSeat(3)], reason: 'expired', released_at: '2026-12-01T10:16:00.000Z' } }]);
  t.equal(refills.asked, 1, 'the gap asks for a refill');
  t.equal(await cache.availability(CONCERT), undefined, 'no partial keys are left to read');

  await feed.refill(db, 1);
  t.same(await cache.availability(CONCERT), { position: 4, classes: new Map([[VIP, 3], [REGULAR, 10]]) }, 'refilled from MySQL at its position');
  t.same(await cache.seatStatuses(1, CONCERT), new Map(), 'no seat is held');

  // Once whole, the cache reports the projection's position, also for batches that did not touch the concert.
  await given([{ type: 'ConcertPublished', data: { concert_id: 'c0000000-0000-4000-8000-00000000000f', published_at: '2026-12-01T10:20:00.000Z' } }]);
  t.equal((await cache.availability(CONCERT))?.position, 5);

  // A write that fails stops the position until a refill has run. (A key of the wrong type makes
  // the real Redis refuse the script.)
  const availKey = `${cache.generationKey.replace(/:generation$/, '')}:g1:avail:${CONCERT}`;
  await redis.del(availKey);
  await redis.set(availKey, 'not a hash');
  await t.rejects(given([held(holdBySeat(B2, U2, [vipSeat(1)]))]), /WRONGTYPE/);
  await given([{ type: 'ConcertPublished', data: { concert_id: 'c0000000-0000-4000-8000-00000000000f', published_at: '2026-12-01T10:21:00.000Z' } }]);
  t.equal(await redis.get(availKey.replace(/:avail:.*$/, ':position')), '5', 'the position stays where the cache was last whole');
  t.equal(refills.asked, 2, 'the failure asks for a refill');
  await redis.del(availKey);
  await feed.refill(db, 1);
  t.same(await cache.availability(CONCERT), { position: 7, classes: new Map([[VIP, 2], [REGULAR, 10]]) }, 'the refill makes it whole again');
});
