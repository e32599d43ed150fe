/**
 * The flash sale against bench/redis-lua-baseline.ts: the same load as bench/flash-sale.ts (autocannon,
 * 100 connections, every request a different signed-in user booking one ticket of a class of 150,000
 * seats, a 2 s warm-up first), then the audit once the server has stopped and its writer drained.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { cpuMsOf, databasePid, settled, watchMachine } from './cpu-time.ts';
import { Redis } from 'ioredis';
import { freePort } from '../test/harness/servers.ts';
import { database } from './database.ts';
import { figures, load, tokens, type SaleFigures } from './flash-sale.ts';
import { spawnProcess, stop } from './processes.ts';
import { createRedisBaselineSchema, redisKeys, type RedisSale } from './redis-lua-baseline.ts';

export interface RedisSaleFigures extends SaleFigures {
  /** Bookings answered 201 but not yet in MariaDB when the load stopped: what a crash then would have lost. */
  readonly unwrittenAtStop: number;
  /** The audit's findings by check (`oversold` is their sum). */
  readonly audit: RedisAudit;
  /** CPU the server process (HTTP, JWT, script calls, the writer) and Redis spent per booking in the timed load, ms. */
  readonly serverCpuMsPerBooking: number;
  readonly redisCpuMsPerBooking: number;
}

/** CPU the Redis server has used, ms (INFO cpu). */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000;
}

const SEATS = 150_000;
const buyerInfo = { full_name: 'Rina Kusuma', phone_number: '081234567890', email: 'rina@example.test', ktp_number: '3201234567890001' };

/** Redis as a team would run it for this: an append-only file, fsynced every second. */
export async function redisLikeProduction(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await redis.config('SET', 'appendonly', 'yes');
    await redis.config('SET', 'appendfsync', 'everysec');
  } finally {
    redis.disconnect();
  }
}

/** What the audit found, by check; with nothing crashed each is 0. */
export interface RedisAudit {
  /** Rows of booking_seats past one a seat: a seat in two bookings. */
  readonly seatsTwice: number;
  /** Booked seats past the class's size. */
  readonly pastCapacity: number;
  /** How far booked seats in MariaDB and free seats in Redis are from adding up to the class: seats one store gave out that the other does not know. */
  readonly storesApart: number;
  /** Bookings answered 201 that MariaDB does not have. */
  readonly answeredNotStored: number;
}

/** The audit's count. Its checks overlap (a lost booking answered 201 is a seat apart and a 201 not stored): it counts findings, not bookings. */
export const oversoldIn = (audit: RedisAudit): number => audit.seatsTwice + audit.pastCapacity + audit.storesApart + audit.answeredNotStored;

/**
 * After the writer drained: a seat in two bookings, booked seats past the class's size, Redis and
 * MariaDB disagreeing on how many seats are gone, and each 201 whose booking is not in MariaDB.
 */
export async function auditRedisBaseline(db: Knex, redis: Redis, sale: RedisSale, answered201: ReadonlySet<string>): Promise<RedisAudit> {
  const [{ seats = 0, distinctSeats = 0 } = {}] = await db('booking_seats').where({ ticket_class_id: sale.classId })
    .select<{ seats: number; distinctSeats: number }[]>(db.raw('COUNT(*) AS seats'), db.raw('COUNT(DISTINCT seat_number) AS distinctSeats'));
  const free = await redis.zcard(redisKeys.freeSeats(sale.concertId, sale.classId));
  const stored = new Set((await db('bookings').select<{ id: string }[]>('id')).map((row) => row.id));
  let answeredNotStored = 0;
  for (const id of answered201) if (!stored.has(id)) answeredNotStored++;
  return {
    seatsTwice: Number(seats) - Number(distinctSeats),
    pastCapacity: Math.max(0, Number(seats) - sale.seats),
    storesApart: Math.abs(Number(seats) + free - sale.seats),
    answeredNotStored,
  };
}

/** Deletes the sale's keys: the class, its free seats and every user's active booking. */
export async function forgetSale(redis: Redis, sale: RedisSale): Promise<void> {
  await redis.del(redisKeys.ticketClass(sale.concertId, sale.classId), redisKeys.freeSeats(sale.concertId, sale.classId));
  const stream = redis.scanStream({ match: redisKeys.activeBooking(sale.concertId, '*'), count: 1_000 });
  for await (const keys of stream) if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
}

export async function benchRedisBaseline(mysqlServerUrl: string, redisUrl: string, seconds: number, users: number): Promise<RedisSaleFigures> {
  const db = await database(mysqlServerUrl, `flash_redis_${randomBytes(4).toString('hex')}`);
  const secret = randomBytes(32).toString('hex');
  const sale: RedisSale = { concertId: randomUUID(), classId: randomUUID(), seats: SEATS, price: 750_000 };
  const setup = knex({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
  const redis = new Redis(redisUrl);
  await createRedisBaselineSchema(setup, redis, sale);
  const port = await freePort();
  const server = await spawnProcess(['bench/redis-lua-baseline.ts'], { PORT: String(port), MYSQL_URL: db.url, REDIS_URL: redisUrl, JWT_SECRET: secret, BUYER_KEY: randomBytes(32).toString('hex') }, /baseline listening/);
  try {
    const signedIn = tokens(secret, users);
    const body = JSON.stringify({ concert_id: sale.concertId, tickets_by_class: [{ ticket_class_id: sale.classId, quantity: 1 }], buyer_info: buyerInfo });
    const base = `http://127.0.0.1:${port}`;
    const answered201 = new Set<string>();
    await load(base, body, signedIn.tokens.slice(0, 2_000), 2, answered201);
    // Measured besides the server and Redis: MariaDB, where the writer commits the bookings.
    const pids = [server.pid ?? 0, Number((await redis.info('server')).match(/process_id:(\d+)/)?.[1]), await databasePid(setup)];
    // The warm-up's requests still in flight when it stopped are answered first, not in the phase.
    const settledMs = await settled(pids);
    const cpuBefore = [await cpuMsOf(server.pid ?? 0), await redisCpuMs(redis)] as const;
    const machine = await watchMachine(pids);
    const result = await load(base, body, signedIn.tokens.slice(2_000), seconds, answered201);
    const disturbance = await machine.stop();
    const cpuAfter = [await cpuMsOf(server.pid ?? 0), await redisCpuMs(redis)] as const;
    const booked = result.statusCodeStats?.['201']?.count ?? 0;
    const [{ written = 0 } = {}] = await setup('bookings').count<{ written: number }[]>({ written: '*' });
    const unwrittenAtStop = Math.max(0, answered201.size - Number(written));
    await stop(server); // answers what is in flight, then drains the writer
    const audit = await auditRedisBaseline(setup, redis, sale, answered201);
    return {
      ...figures(result, booked, oversoldIn(audit)),
      unwrittenAtStop,
      audit,
      serverCpuMsPerBooking: (cpuAfter[0] - cpuBefore[0]) / booked,
      redisCpuMsPerBooking: (cpuAfter[1] - cpuBefore[1]) / booked,
      disturbance,
      settledMs,
    };
  } finally {
    if (server.exitCode === null && server.signalCode === null) await stop(server);
    await forgetSale(redis, sale);
    redis.disconnect();
    await setup.destroy();
    await db.drop();
  }
}
