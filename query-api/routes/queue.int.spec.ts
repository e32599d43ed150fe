import { Redis } from 'ioredis';
import knex from 'knex';
import t, { type Test } from 'tap';
import type { QueueEvent } from '../../domain/queue/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { BookingPasses } from '../../lib/security/booking-passes.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';
import { queueProjection } from '../../projectors/queue/queue.ts';
import { Checkpoints } from '../../read-models/checkpoints.ts';
import { RedisQueueBoard } from '../../read-models/queue-board.ts';
import { randomUUID } from 'node:crypto';
import { upcasters } from '../../domain/index.ts';
import { roleApp, testApp } from '../../test/support/app.ts';
import { eventually } from '../../test/support/eventually.ts';
import { T0, minutesAfter } from '../../test/support/concert-fixtures.ts';
import { projectionFixture } from '../../test/support/projection-spec.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { OPENS_AT, QUEUE_CONCERT, QUEUE_STREAM, WaitingRoomScript, passId, placeId, userId } from '../../test/support/waiting-room.ts';

const noStore = { readStream: async () => [] } as unknown as EventStore;
const inStream = (events: readonly QueueEvent[]) => events.map((event) => ({ event, stream: QUEUE_STREAM }));

async function redisBoard(t: Test, prefix: string) {
  const redis = new Redis(serviceUrl('REDIS_URL'));
  t.teardown(() => redis.disconnect());
  const board = new RedisQueueBoard(redis, prefix);
  const fixture = await projectionFixture(t, queueProjection({ board, store: noStore }));
  return { board, feed: (events: readonly QueueEvent[]) => fixture.given(inStream(events)) };
}

t.test('GET /api/v1/queue/:token on the query role: waiting, admitted with a signed pass, used, expired, sold out', async (t) => {
  const prefix = uniqueName('bo');
  const clock = { now: Date.parse(minutesAfter(T0, 2)) };
  const { app, wired } = await roleApp(t, { BOXOFFICE_ROLE: 'query', REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix }, { now: () => new Date(clock.now) });
  const { feed } = await redisBoard(t, prefix);
  const poll = (place: string) => app.inject({ method: 'GET', url: `/api/v1/queue/${place}` });
  const script = new WaitingRoomScript();

  await feed([...script.open(), ...script.join(1), ...script.join(2), ...script.join(3), ...script.join(4)]);
  let reply = await poll(placeId(1));
  t.equal(reply.statusCode, 200);
  t.strictSame(reply.json(), { status: 'waiting', position: null, ahead: null, estimated_wait_seconds: 58 * 60, pass: null, pass_expires_at: null }, 'before the lottery: the time until the opening');
  t.equal(reply.headers['retry-after'], '30', 'far from the opening: poll rarely');

  clock.now = Date.parse(OPENS_AT);
  await feed(script.draw());
  const order = script.order();
  const visitor = (place: string) => Number(place.slice(-12));
  reply = await poll(order[3]!);
  t.strictSame(reply.json(), { status: 'waiting', position: 4, ahead: 3, estimated_wait_seconds: null, pass: null, pass_expires_at: null }, 'drawn, no admission rate known yet');

  await feed([...script.admit([1, 2], minutesAfter(OPENS_AT, 1)), ...script.admit([3], minutesAfter(OPENS_AT, 1.5))]);
  await feed(script.join(5, minutesAfter(OPENS_AT, 1.6)));
  clock.now = Date.parse(minutesAfter(OPENS_AT, 2));
  reply = await poll(order[3]!);
  t.strictSame(reply.json(), { status: 'waiting', position: 4, ahead: 0, estimated_wait_seconds: 0, pass: null, pass_expires_at: null }, 'next in line');
  t.equal(reply.headers['retry-after'], '1', 'at the front: poll soon');
  reply = await poll(placeId(5));
  t.strictSame(reply.json(), { status: 'waiting', position: 5, ahead: 1, estimated_wait_seconds: 31, pass: null, pass_expires_at: null }, 'one ahead at 1 admission per 30 s');
  t.equal(reply.headers['retry-after'], '8');

  reply = await poll(order[0]!);
  const admitted = reply.json<{ status: string; pass: string; pass_expires_at: string; position: number }>();
  t.match(admitted, { status: 'admitted', position: 1, ahead: null, estimated_wait_seconds: null, pass: /^BP1\./, pass_expires_at: minutesAfter(OPENS_AT, 6) });
  t.equal(reply.headers['retry-after'], '2');
  const pass = new BookingPasses(wired.auth!.secret).read(admitted.pass);
  t.strictSame(pass, { passId: passId(1), userId: userId(visitor(order[0]!)), concertId: QUEUE_CONCERT, expiresAtMs: Date.parse(minutesAfter(OPENS_AT, 6)) }, 'the pass verifies and names its account and concert');
  t.equal(new BookingPasses('another deployment secret, 32 characters or more').read(admitted.pass), undefined, 'signed under this deployment\'s secret');

  await feed(script.use(visitor(order[0]!), 1));
  // API.md: admitted, then `pass` is set. Used, it buys nothing more (INVALID_PASS) but a keyed retry of its own booking.
  t.strictSame((await poll(order[0]!)).json(), { status: 'admitted', position: 1, ahead: null, estimated_wait_seconds: null, pass: admitted.pass, pass_expires_at: admitted.pass_expires_at }, 'a used pass is still named: an admitted place always has one');

  clock.now = Date.parse(minutesAfter(OPENS_AT, 7));
  t.match((await poll(order[1]!)).json(), { status: 'expired', pass: null }, 'past its expiry before PassExpired is recorded');
  await feed(script.expire(minutesAfter(OPENS_AT, 8)));
  t.match((await poll(order[2]!)).json(), { status: 'expired', pass: null, position: 3 });

  await feed(script.soldOut(minutesAfter(OPENS_AT, 9)));
  reply = await poll(placeId(5));
  t.strictSame(reply.json(), { status: 'sold_out', position: 5, ahead: null, estimated_wait_seconds: null, pass: null, pass_expires_at: null });
  t.equal(reply.headers['retry-after'], '30');

  reply = await poll('not-a-uuid');
  t.equal(reply.statusCode, 400, 'a malformed token');
  reply = await poll('a0000000-0000-4000-8000-ffffffffffff');
  t.equal(reply.statusCode, 404);
  t.equal(reply.json<{ code: string }>().code, 'NOT_FOUND');
  t.equal(reply.headers['retry-after'], '1', 'a place just taken may not be on the board yet: ask again in a second');
});

t.test('a waiting place is polled at least three times in a pass\'s life: Retry-After at most a third of BOOKING_PASS_TTL_SECONDS', async (t) => {
  const prefix = uniqueName('bo');
  const { app } = await roleApp(t, { BOXOFFICE_ROLE: 'query', REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix, BOOKING_PASS_TTL_SECONDS: '15' }, { now: () => new Date(minutesAfter(T0, 2)) });
  const { feed } = await redisBoard(t, prefix);
  const script = new WaitingRoomScript();
  await feed([...script.open(), ...script.join(1)]);
  const reply = await app.inject({ method: 'GET', url: `/api/v1/queue/${placeId(1)}` });
  t.equal(reply.json<{ estimated_wait_seconds: number }>().estimated_wait_seconds, 58 * 60, 'an hour away');
  t.equal(reply.headers['retry-after'], '5', 'polled every 5 s, not every 30 s, with passes of 15 s');
});

/** The query role alone over Redis, its board fed two joins, the draw and the first one's admission. */
async function queryRoleWithBoard(t: Test) {
  const prefix = uniqueName('bo');
  const made = await roleApp(t, { BOXOFFICE_ROLE: 'query', REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix }, { now: () => new Date(OPENS_AT) });
  const { feed } = await redisBoard(t, prefix);
  const script = new WaitingRoomScript();
  await feed([...script.open(), ...script.join(1), ...script.join(2), ...script.draw(), ...script.admit([1])]);
  return { ...made, script };
}

t.test('the status poll reads Redis alone: with the MySQL database (read models and event store) gone, it still answers', async (t) => {
  const { app, wired, script } = await queryRoleWithBoard(t);
  const url = new URL(wired.shared.config.mysqlUrl!);
  const admin = knex({ client: 'mysql2', connection: serviceUrl('MYSQL_URL'), pool: { min: 0, max: 1 } });
  t.teardown(() => admin.destroy());
  await admin.raw('DROP DATABASE ??', [url.pathname.slice(1)]);
  await t.rejects(wired.shared.store.headPosition(), 'the event store fails now');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/concerts' })).statusCode, 500, 'and so does a route that reads MySQL');
  for (const n of [1, 2]) {
    const reply = await app.inject({ method: 'GET', url: `/api/v1/queue/${placeId(n)}` });
    t.equal(reply.statusCode, 200, `place ${n} answered from Redis`);
    t.match(reply.json(), { status: script.order()[0] === placeId(n) ? 'admitted' : 'waiting' });
  }
});

t.test('a poll that names a position, with MySQL gone: from the board when the position is known, else 503 PROJECTION_LAGGING, never 500', async (t) => {
  const { app, wired, script } = await queryRoleWithBoard(t);
  const readModels = knex({ client: 'mysql2', connection: wired.shared.config.mysqlUrl!, pool: { min: 0, max: 1 } });
  t.teardown(() => readModels.destroy());
  // The queue projection at 40, as a projector process would have recorded it.
  const checkpoints = new Checkpoints(readModels, sqlDialectOf(readModels));
  await checkpoints.ensure('queue');
  await readModels.transaction(async (trx) => {
    const at = await checkpoints.lock(trx, 'queue');
    if (at === undefined || !(await checkpoints.advance(trx, 'queue', at.position, 40))) throw new Error('the queue checkpoint did not move to 40');
  });
  const poll = (place: string, headers: Record<string, string>) => app.inject({ method: 'GET', url: `/api/v1/queue/${place}`, headers });
  // The cookie a browser carries after its join (API.md: honoured as X-Min-Position).
  const seen = await poll(placeId(1), { cookie: 'min_position=40' });
  t.equal(seen.statusCode, 200, 'MySQL up: the position read from the checkpoint');
  t.equal(seen.headers['x-projection-position'], '40');

  const admin = knex({ client: 'mysql2', connection: serviceUrl('MYSQL_URL'), pool: { min: 0, max: 1 } });
  t.teardown(() => admin.destroy());
  await admin.raw('DROP DATABASE ??', [new URL(wired.shared.config.mysqlUrl!).pathname.slice(1)]);
  await t.rejects(checkpoints.get('queue'), 'the checkpoint cannot be read now');

  for (const [how, headers] of [['cookie', { cookie: 'min_position=40' }], ['X-Min-Position', { 'x-min-position': '12' }]] as const) {
    const known = await poll(placeId(2), headers);
    t.equal(known.statusCode, 200, `${how} at or below the position this process learned: answered from the board (${known.body.slice(0, 200)})`);
    t.match(known.json(), { status: script.order()[0] === placeId(2) ? 'admitted' : 'waiting' });
    t.equal(known.headers['x-projection-position'], '40', `${how}: the position learned, at or above the reader's`);
  }
  for (const [how, headers] of [['cookie', { cookie: 'min_position=41' }], ['X-Min-Position', { 'x-min-position': '41' }]] as const) {
    const beyond = await poll(placeId(1), headers);
    t.equal(beyond.statusCode, 503, `${how} beyond it: the board cannot be shown to hold it (${beyond.body.slice(0, 200)})`);
    t.equal(beyond.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(beyond.json(), { code: 'PROJECTION_LAGGING', status: 503 });
    t.equal(beyond.headers['retry-after'], '1', 'poll again shortly');
  }
});

t.test('Redis down: 503 QUEUE_UNAVAILABLE with Retry-After, never 500', async (t) => {
  const { app } = await roleApp(t, { BOXOFFICE_ROLE: 'query', REDIS_URL: 'redis://127.0.0.1:1' });
  const reply = await app.inject({ method: 'GET', url: `/api/v1/queue/${placeId(1)}` });
  t.equal(reply.statusCode, 503);
  t.equal(reply.json<{ code: string }>().code, 'QUEUE_UNAVAILABLE');
  t.equal(reply.headers['retry-after'], '2');
});

t.test('the embedded default (no REDIS_URL): the projector fills the board in memory, the query API reads it', async (t) => {
  const { app, services } = await testApp(t, {}, { wire: { now: () => new Date(OPENS_AT) } });
  const script = new WaitingRoomScript();
  const events = [...script.open(), ...script.join(1), ...script.join(2), ...script.draw(), ...script.admit([1])].map((event) => {
    const id = randomUUID();
    const metadata = { event_id: id, correlation_id: id, causation_id: id, actor_id: null, schema_version: upcasters.currentVersion(event.type), occurred_at: T0 };
    return { id, type: event.type, data: event.data, metadata };
  });
  await services.shared.store.append(QUEUE_STREAM, events, 'no_stream');
  services.projector.start();
  const second = script.order()[1]!;
  const reply = await eventually(async () => {
    const polled = await app.inject({ method: 'GET', url: `/api/v1/queue/${second}` });
    return polled.statusCode === 200 ? polled : undefined;
  }, 'the place is on the board');
  t.strictSame(reply.json(), { status: 'waiting', position: 2, ahead: 0, estimated_wait_seconds: null, pass: null, pass_expires_at: null }, 'next after the one admitted');
  t.match((await app.inject({ method: 'GET', url: `/api/v1/queue/${script.order()[0]!}` })).json(), { status: 'admitted', pass: /^BP1\./ });
  const views = (await services.projector.projectors.status()).find((view) => view.name === 'queue');
  t.match(views, { name: 'queue', status: 'live' }, 'the queue projection is listed with the others');
});
