import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import t, { type Test } from 'tap';
import { seatId, type ConcertEvent } from '../../domain/concert/index.ts';
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

const BALCONY = 'ba1c0000-0000-4000-8000-0000000000b1';
const AT = '2026-12-01T10:30:00.000Z';

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`an admin's edits: details, sales window, prices, a new class and seats added, in the rows and the seat cache (${kind})`, async (t) => {
    const { db, given, cache, feed } = await rig(t, kind);
    const history: ConcertEvent[] = onSale();
    const hold = held(holdBySeat(B1, U1, [vipSeat(1)]), history);
    await given([...history, hold]);

    t.equal(await given([
      { type: 'ConcertDetailsChanged', data: { concert_id: CONCERT, name: 'Senandung Senja II', date: '2027-03-01T12:00:00.000Z', description: null, sales_open_at: '2026-12-02T03:00:00.000Z', changed_at: AT } },
      { type: 'TicketClassPriceChanged', data: { concert_id: CONCERT, ticket_class_id: VIP, price: 2_000_000, previous_price: 1_500_000, changed_at: AT } },
    ]), 'applied');
    t.match(await db('concerts').where({ id: CONCERT }).first<Row>(), {
      name: 'Senandung Senja II', artist: 'Nadin Amizah', date: '2027-03-01T12:00:00.000Z', description: null, sales_open_at: '2026-12-02T03:00:00.000Z', sales_close_at: null,
    });
    t.equal(Number((await db('ticket_classes').where({ id: VIP }).first<Row>()).price), 2_000_000);

    // Seats added to VIP (seats 4-5), a new class in the same batch, and a hold on an added seat.
    const added: ConcertEvent[] = [
      { type: 'SeatsAdded', data: { concert_id: CONCERT, ticket_class_id: VIP, added: 2, seat_count: 5, added_at: AT } },
      { type: 'TicketClassAdded', data: { concert_id: CONCERT, ticket_class: { ticket_class_id: BALCONY, name: 'Balcony', price: 100_000, seat_count: 4 }, added_at: AT } },
      { type: 'ConcertDetailsChanged', data: { concert_id: CONCERT, sales_open_at: null, changed_at: AT } },
    ];
    const grown = [...history, hold, ...added];
    const hold2 = held(holdBySeat(B2, U2, [vipSeat(5), seatId(BALCONY, 2)], { now: AT, expires_at: '2026-12-01T10:45:00.000Z' }), grown);
    t.equal(await given([...added, hold2]), 'applied');
    const concert = await db('concerts').where({ id: CONCERT }).first<Row>();
    t.equal(Number(concert.total_seats), 19, '13 + 2 + 4');
    t.equal(Number(concert.available_seats), 16, 'three seats held');
    t.equal(concert.sales_open_at, null, 'null clears the opening');
    const classes = await db('ticket_classes').where({ concert_id: CONCERT }).orderBy('sort_order').select<Row[]>('id', 'name', 'price', 'total_seats_in_class', 'available_seats_in_class', 'sort_order');
    t.same(classes.map((row) => [row.id, row.name, Number(row.price), Number(row.total_seats_in_class), Number(row.available_seats_in_class), Number(row.sort_order)]), [
      [VIP, 'VIP', 2_000_000, 5, 3, 0], [REGULAR, 'Regular', 500_000, 10, 10, 1], [BALCONY, 'Balcony', 100_000, 4, 3, 2],
    ]);
    const seats = await seatRows(db);
    t.equal(seats.length, 19, 'a row per seat, the added ones included');
    t.same(seats.filter((seat) => seat.status !== 'available').map((seat) => [seat.id, seat.booking_id]).sort(),
      [[vipSeat(1), B1], [vipSeat(5), B2], [seatId(BALCONY, 2), B2]].sort());
    const numbers = await db('seats').where({ ticket_class_id: VIP }).orderBy('seat_number').pluck('seat_number');
    t.same(numbers.map(Number), [1, 2, 3, 4, 5]);
    t.same((await cache.availability(CONCERT))?.classes, new Map([[VIP, 3], [REGULAR, 10], [BALCONY, 3]]), 'the cache counts the new class');
    t.equal((await cache.seatStatuses(1, CONCERT))?.get(seatId(BALCONY, 2)), 'reserved');

    // Released later: the added seat is available again in the rows and the cache.
    await given([{ type: 'HoldReleased', data: { concert_id: CONCERT, booking_id: B2, seat_ids: hold2.data.seats.map((seat) => seat.seat_id), reason: 'cancelled', released_at: AT } }]);
    t.same(await classCounts(db), { [VIP]: 4, [REGULAR]: 10, [BALCONY]: 4 });
    t.same((await cache.availability(CONCERT))?.classes, new Map([[VIP, 4], [REGULAR, 10], [BALCONY, 4]]));

    // A refill from the tables gives the same cache.
    await feed.refill(db, 1);
    t.same((await cache.availability(CONCERT))?.classes, new Map([[VIP, 4], [REGULAR, 10], [BALCONY, 4]]), 'refilled with the new class');
  });
}
