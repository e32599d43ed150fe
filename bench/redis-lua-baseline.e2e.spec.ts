/**
 * The Redis + Lua baseline as a process on the harness's MariaDB and Redis: what it answers, what
 * its writer stores after the answer, what a crash before the write loses (and that the audit
 * counts it), and a one-second run of its benchmark.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import knex from 'knex';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { seatId } from '../domain/concert/seats.ts';
import { freePort, startRedis } from '../test/harness/servers.ts';
import { freshMysqlDatabase, serviceUrl } from '../test/support/services.ts';
import { tokens } from './flash-sale.ts';
import { spawnProcess, stop } from './processes.ts';
import { auditRedisBaseline, benchRedisBaseline, forgetSale, oversoldIn } from './redis-lua-baseline-run.ts';
import { createRedisBaselineSchema, redisKeys, type RedisSale } from './redis-lua-baseline.ts';

const buyer_info = { full_name: 'Rina Kusuma', phone_number: '081234567890', email: 'rina@example.test', ktp_number: '3201234567890001' };

async function startBaseline(t: Test, writeEveryMs: number, redisUrl = serviceUrl('REDIS_URL')) {
  const mysqlUrl = await freshMysqlDatabase(t);
  const db = knex({ client: 'mysql2', connection: mysqlUrl, pool: { min: 0, max: 2 } });
  t.teardown(() => db.destroy());
  const redis = new Redis(redisUrl);
  const sale: RedisSale = { concertId: randomUUID(), classId: randomUUID(), seats: 3, price: 100 };
  t.teardown(async () => { await forgetSale(redis, sale); redis.disconnect(); });
  await createRedisBaselineSchema(db, redis, sale);
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  const server = await spawnProcess(['bench/redis-lua-baseline.ts'], {
    PORT: String(port), MYSQL_URL: mysqlUrl, REDIS_URL: redisUrl, JWT_SECRET: secret,
    BUYER_KEY: randomBytes(32).toString('hex'), WRITE_EVERY_MS: String(writeEveryMs),
  }, /baseline listening/);
  t.teardown(async () => { if (server.exitCode === null && server.signalCode === null) await stop(server); });
  const users = tokens(secret, 3);
  const book = async (token: string | undefined, body: Record<string, unknown>) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ concert_id: sale.concertId, tickets_by_class: [{ ticket_class_id: sale.classId, quantity: 1 }], buyer_info, ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { db, redis, sale, server, port, users, secret, book };
}

t.test('takes the lowest free seats in Redis, refuses as ours does, and writes the bookings to MariaDB after answering', async (t) => {
  const { db, redis, sale, server, users, book } = await startBaseline(t, 5);
  const [first, second] = users.tokens;

  const booked = await book(first, { tickets_by_class: [{ ticket_class_id: sale.classId, quantity: 2 }] });
  t.equal(booked.status, 201);
  t.match(booked.body, {
    status: 'pending', concert_id: sale.concertId, total_price: 200, expires_at: /^\d{4}-\d\d-\d\dT/,
    seats: [{ id: seatId(sale.classId, 1), seat_number: 1, ticket_class_id: sale.classId }, { id: seatId(sale.classId, 2), seat_number: 2, ticket_class_id: sale.classId }],
  });
  t.match(await book(first, {}), { status: 409, body: { code: 'ACTIVE_BOOKING_EXISTS' } }, 'one active booking per user and concert');
  t.match(await book(second, { tickets_by_class: [{ ticket_class_id: sale.classId, quantity: 2 }] }), { status: 409, body: { code: 'SOLD_OUT' } }, 'all or none');
  const last = await book(second, {});
  t.match(last, { status: 201, body: { seats: [{ seat_number: 3 }] } });
  t.match(await book(users.tokens[2], { concert_id: randomUUID() }), { status: 404, body: { code: 'NOT_FOUND' } }, 'a class of another concert');
  t.equal((await book(users.tokens[2], { buyer_info: { ...buyer_info, ktp_number: '123' } })).status, 400);
  t.equal((await book(undefined, {})).status, 401);

  await stop(server); // drains the writer
  const rows = await db('bookings').orderBy('total_price', 'desc').select<{ id: string; user_id: string; total_price: number; buyer_sealed: Buffer }[]>('id', 'user_id', 'total_price', 'buyer_sealed');
  t.same(rows.map((r) => [r.id, r.user_id, Number(r.total_price)]), [[booked.body.id, users.userIds[0], 200], [last.body.id, users.userIds[1], 100]]);
  t.notOk(rows.some((r) => r.buyer_sealed.includes('Rina') || r.buyer_sealed.includes('3201234567890001')), 'the buyer is stored sealed');
  t.same((await db('booking_seats').orderBy('seat_number').select('booking_id', 'seat_number')).map((r: { booking_id: string; seat_number: number }) => [r.booking_id, r.seat_number]),
    [[booked.body.id, 1], [booked.body.id, 2], [last.body.id, 3]]);
  t.equal(await redis.zcard(redisKeys.freeSeats(sale.concertId, sale.classId)), 0);
  t.same(await auditRedisBaseline(db, redis, sale, new Set([booked.body.id, last.body.id] as string[])), { seatsTwice: 0, pastCapacity: 0, storesApart: 0, answeredNotStored: 0 }, 'the audit finds nothing wrong');
});

t.test('a crash between the Lua script and the write loses a booking answered 201, and the audit counts it', async (t) => {
  const { db, redis, sale, server, users, book } = await startBaseline(t, 60_000); // the writer waits a minute
  const booked = await book(users.tokens[0], {});
  t.equal(booked.status, 201);
  server.kill('SIGKILL');
  await new Promise((resolve) => server.once('exit', resolve));
  t.equal(await redis.zcard(redisKeys.freeSeats(sale.concertId, sale.classId)), 2, 'Redis gave the seat away');
  t.same(await db('bookings').select('id'), [], 'MariaDB never heard of the booking');
  const audit = await auditRedisBaseline(db, redis, sale, new Set([booked.body.id as string]));
  t.same(audit, { seatsTwice: 0, pastCapacity: 0, storesApart: 1, answeredNotStored: 1 }, 'the seat gone from Redis but not in MariaDB, and the lost booking');
  t.equal(oversoldIn(audit), 2);
});

t.test('a stop while a booking waits for its script writes that booking, though its client has gone', async (t) => {
  // A Redis of its own: the pause below would stall every other spec's writes on the shared one.
  const ownRedis = await startRedis();
  t.teardown(() => ownRedis.stop());
  // The writer waits a minute: only the stop's drain writes the booking.
  const { db, redis, sale, server, port, users } = await startBaseline(t, 60_000, ownRedis.url);
  // Redis holds the script's answer back, as a busy one does at the moment the load stops; long
  // enough that the server has its SIGTERM well before the script answers.
  const pauseMs = 3_000;
  await redis.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE');
  const paused = Date.now();
  const body = JSON.stringify({ concert_id: sale.concertId, tickets_by_class: [{ ticket_class_id: sale.classId, quantity: 1 }], buyer_info });
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /api/v1/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${users.tokens[0] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // The script has been sent once Redis holds a client blocked on it.
  while (!/ flags=b .* cmd=evalsha /.test(String(await redis.call('CLIENT', 'LIST')))) await new Promise((resolve) => setTimeout(resolve, 10));
  // The load generator stops as autocannon does, dropping its connections, and the bench stops the server.
  socket.resetAndDestroy();
  const stopping = stop(server);
  t.ok(Date.now() - paused < pauseMs / 2, 'the server was told to stop while the script was still held back');
  await stopping;
  t.equal(await redis.zcard(redisKeys.freeSeats(sale.concertId, sale.classId)), 2, 'the script took a seat');
  t.same(await auditRedisBaseline(db, redis, sale, new Set()), { seatsTwice: 0, pastCapacity: 0, storesApart: 0, answeredNotStored: 0 }, 'and the booking that has it was written');
});

t.test('the benchmark runs and its audit finds nothing oversold', async (t) => {
  const figures = await benchRedisBaseline(serviceUrl('MYSQL_URL'), serviceUrl('REDIS_URL'), 1, 4_000);
  t.ok(figures.booked > 0, `${figures.booked} booked, ${figures.non2xx} refused, ${figures.unwrittenAtStop} not yet written when the load stopped`);
  t.equal(figures.oversold, 0);
  t.same(figures.audit, { seatsTwice: 0, pastCapacity: 0, storesApart: 0, answeredNotStored: 0 });
  t.equal(figures.errors, 0);
});
