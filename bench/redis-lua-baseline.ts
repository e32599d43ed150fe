/**
 * The strongest design a team would pick instead of ours, as a second flash-sale baseline: the
 * same HTTP front (bench/baseline-server.ts: fastify, HS256 JWT, the row-lock baseline's body
 * schema), the seats of each class in Redis, taken by one Lua script per booking, and the
 * booking written to MariaDB afterwards by a batching writer. The 201 is sent as soon as Redis
 * said yes: a crash between the script and the writer's INSERT loses bookings that were
 * confirmed to their buyers (their seats stay taken in Redis, the bookings exist nowhere).
 * Run as its own process by bench/redis-lua-baseline-run.ts.
 *
 *   PORT=… MYSQL_URL=mysql://…/db REDIS_URL=redis://… JWT_SECRET=… BUYER_KEY=<64 hex> \
 *     node --import tsx bench/redis-lua-baseline.ts
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import Type from 'typebox';
import { seatId } from '../domain/concert/seats.ts';
import { baselineServer, listenUntilStopped, runAsScript } from './baseline-server.ts';
import { Body as BookingBody } from './row-lock-baseline.ts';

export interface RedisSale {
  readonly concertId: string;
  readonly classId: string;
  readonly seats: number;
  readonly price: number;
}

/** One hash tag per concert, so the script's keys share a slot on a Redis Cluster too. */
export const redisKeys = {
  ticketClass: (concertId: string, classId: string) => `flash:{${concertId}}:class:${classId}`,
  freeSeats: (concertId: string, classId: string) => `flash:{${concertId}}:free:${classId}`,
  activeBooking: (concertId: string, userId: string) => `flash:{${concertId}}:active:${userId}`,
};

/**
 * Takes the lowest free seats of one class for one user, or refuses, in one atomic step:
 * the class must belong to the concert, the user must have no active booking for the concert,
 * the class must have `quantity` free seats (all or none). The user's active booking lasts as
 * long as the hold. Answers {0, price, seat numbers…} or {code}: 1 no such class, 2 an active
 * booking already, 3 sold out.
 *   KEYS: class hash {concert, price}, free seats (sorted set, score = seat number), active booking
 *   ARGV: concert id, quantity, booking id, hold ms
 */
export const TAKE_SEATS = `
local class = redis.call('HMGET', KEYS[1], 'concert', 'price')
if class[1] ~= ARGV[1] then return {1} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {2} end
local quantity = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[2]) < quantity then return {3} end
local taken = redis.call('ZPOPMIN', KEYS[2], quantity)
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
local answer = {0, tonumber(class[2])}
for i = 1, #taken, 2 do answer[#answer + 1] = tonumber(taken[i]) end
return answer
`;

/** The tables the writer fills, and the class's seats loaded into Redis. */
export async function createRedisBaselineSchema(db: Knex, redis: Redis, sale: RedisSale): Promise<void> {
  await db.schema.createTable('bookings', (table) => {
    table.string('id', 36).primary();
    table.string('user_id', 36).notNullable().index();
    table.string('concert_id', 36).notNullable().index();
    table.bigInteger('total_price').notNullable();
    table.string('status', 16).notNullable().index();
    table.dateTime('expires_at', { precision: 3 }).notNullable().index();
    // AES-256-GCM of the buyer's details (IV, tag, ciphertext): no personal data in clear text.
    table.binary('buyer_sealed', 1024).notNullable();
  });
  await db.schema.createTable('booking_seats', (table) => {
    table.string('booking_id', 36).notNullable().index();
    table.string('ticket_class_id', 36).notNullable();
    table.integer('seat_number').notNullable();
    // Not unique on purpose: the audit counts a seat sold twice instead of the writer failing on it.
    table.index(['ticket_class_id', 'seat_number']);
  });
  const freeSeats = redisKeys.freeSeats(sale.concertId, sale.classId);
  await redis.del(freeSeats);
  await redis.hset(redisKeys.ticketClass(sale.concertId, sale.classId), { concert: sale.concertId, price: sale.price });
  for (let from = 1; from <= sale.seats; from += 10_000) {
    const members: number[] = [];
    for (let n = from; n < Math.min(from + 10_000, sale.seats + 1); n++) members.push(n, n);
    await redis.zadd(freeSeats, ...members);
  }
}

interface QueuedBooking {
  readonly id: string;
  readonly user_id: string;
  readonly concert_id: string;
  readonly total_price: number;
  readonly status: 'pending';
  readonly expires_at: Date;
  readonly buyer_sealed: Buffer;
}

interface QueuedSeat {
  readonly booking_id: string;
  readonly ticket_class_id: string;
  readonly seat_number: number;
}

/**
 * Writes accepted bookings to MariaDB behind the answers: every `everyMs` (or at once when
 * `batch` are waiting), everything waiting goes in one transaction of two multi-row INSERTs,
 * one transaction at a time. A failed batch is retried; nothing waits for it.
 */
export class BookingWriter {
  private bookings: QueuedBooking[] = [];
  private seats: QueuedSeat[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Knex, private readonly everyMs: number, private readonly batch: number) {}

  add(booking: QueuedBooking, seats: readonly QueuedSeat[]): void {
    this.bookings.push(booking);
    this.seats.push(...seats);
    if (this.bookings.length >= this.batch) this.flushSoon(0);
    else this.flushSoon(this.everyMs);
  }

  /** Resolves once everything added so far is committed. */
  async drain(): Promise<void> {
    while (this.writing !== undefined || this.bookings.length > 0) {
      if (this.writing === undefined) this.flushSoon(0);
      await (this.writing ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.writing !== undefined) return; // the running write schedules the next one
    if (this.timer !== undefined && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.write().finally(() => {
        this.writing = undefined;
        if (this.bookings.length > 0) this.flushSoon(this.bookings.length >= this.batch ? 0 : this.everyMs);
      });
    }, delayMs);
  }

  private async write(): Promise<void> {
    const bookings = this.bookings;
    const seats = this.seats;
    this.bookings = [];
    this.seats = [];
    if (bookings.length === 0) return;
    try {
      await this.db.transaction(async (trx) => {
        await trx('bookings').insert(bookings);
        await trx('booking_seats').insert(seats);
      });
    } catch (error) {
      process.stderr.write(`booking writer: ${String(error)}; retrying ${bookings.length} bookings\n`);
      this.bookings = [...bookings, ...this.bookings];
      this.seats = [...seats, ...this.seats];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const BookingAnswer = Type.Object({
  id: Type.String(),
  status: Type.Literal('pending'),
  concert_id: Type.String(),
  total_price: Type.Integer(),
  expires_at: Type.String(),
  seats: Type.Array(Type.Object({ id: Type.String(), seat_number: Type.Integer(), ticket_class_id: Type.String() })),
});
const Refusal = Type.Object({ code: Type.String() });

const HOLD_MS = 900_000;
const REFUSALS = { 1: [404, 'NOT_FOUND'], 2: [409, 'ACTIVE_BOOKING_EXISTS'], 3: [409, 'SOLD_OUT'] } as const;

function seal(key: Buffer, value: unknown): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
}

/** The script's answer, checked: {0, price, seat numbers…} or {refusal code}. */
function taken(answer: unknown): { refusal: 1 | 2 | 3 } | { price: number; seatNumbers: number[] } {
  if (!Array.isArray(answer) || !answer.every((n) => typeof n === 'number')) throw new Error(`unexpected script answer: ${String(answer)}`);
  const [code, price, ...seatNumbers] = answer;
  if (code === 1 || code === 2 || code === 3) return { refusal: code };
  if (code !== 0 || price === undefined) throw new Error(`unexpected script answer: ${String(answer)}`);
  return { price, seatNumbers };
}

async function main(): Promise<void> {
  const { PORT, MYSQL_URL, REDIS_URL, JWT_SECRET, BUYER_KEY } = process.env;
  if (!PORT || !MYSQL_URL || !REDIS_URL || !JWT_SECRET || !BUYER_KEY) throw new Error('PORT, MYSQL_URL, REDIS_URL, JWT_SECRET and BUYER_KEY are required');
  const buyerKey = Buffer.from(BUYER_KEY, 'hex');
  if (buyerKey.length !== 32) throw new Error('BUYER_KEY is 32 bytes in hex');
  const { db, app } = await baselineServer(MYSQL_URL, JWT_SECRET);
  // Commands issued in the same tick leave in one write: the script's round trips are shared.
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  let script = String(await redis.script('LOAD', TAKE_SEATS));
  const writer = new BookingWriter(db, Number(process.env.WRITE_EVERY_MS ?? 5), 1_000);
  const takeSeats = async (keys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await redis.evalsha(script, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error; // Redis restarted: load it again
      script = String(await redis.script('LOAD', TAKE_SEATS));
      return redis.evalsha(script, keys.length, ...keys, ...args);
    }
  };

  // The stop drains the writer once no request is between its script and the writer: a request
  // whose client has gone (the load stopped) no longer holds the server open, but it may still be
  // waiting for its script, and then hands its booking to the writer.
  let handling = 0;
  let handled: (() => void) | undefined;
  const allHandled = () => (handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => { handled = resolve; }));

  app.post('/api/v1/bookings', { schema: { body: BookingBody, response: { 201: BookingAnswer, 400: Refusal, 403: Refusal, 404: Refusal, 409: Refusal } } }, async (request, reply) => {
    handling++;
    try {
      const claims = await request.jwtVerify<{ sub: string; ev?: boolean }>();
      if (claims.ev !== true) return reply.code(403).send({ code: 'EMAIL_NOT_VERIFIED' });
      const { concert_id: concertId, tickets_by_class: [wanted] } = request.body;
      if (wanted === undefined) return reply.code(400).send({ code: 'VALIDATION_FAILED' }); // minItems 1: never
      const bookingId = randomUUID();
      const outcome = taken(await takeSeats(
        [redisKeys.ticketClass(concertId, wanted.ticket_class_id), redisKeys.freeSeats(concertId, wanted.ticket_class_id), redisKeys.activeBooking(concertId, claims.sub)],
        [concertId, wanted.quantity, bookingId, HOLD_MS],
      ));
      if ('refusal' in outcome) {
        const [status, code] = REFUSALS[outcome.refusal];
        return reply.code(status).send({ code });
      }
      const expiresAt = new Date(Date.now() + HOLD_MS);
      const totalPrice = outcome.price * wanted.quantity;
      writer.add(
        { id: bookingId, user_id: claims.sub, concert_id: concertId, total_price: totalPrice, status: 'pending', expires_at: expiresAt, buyer_sealed: seal(buyerKey, request.body.buyer_info) },
        outcome.seatNumbers.map((n) => ({ booking_id: bookingId, ticket_class_id: wanted.ticket_class_id, seat_number: n })),
      );
      return reply.code(201).send({
        id: bookingId, status: 'pending', concert_id: concertId, total_price: totalPrice, expires_at: expiresAt.toISOString(),
        seats: outcome.seatNumbers.map((n) => ({ id: seatId(wanted.ticket_class_id, n), seat_number: n, ticket_class_id: wanted.ticket_class_id })),
      });
    } finally {
      if (--handling === 0) handled?.();
    }
  });

  // SIGTERM: stop taking requests, then the writer drains before the pool closes.
  await listenUntilStopped(app, { destroy: async () => { await allHandled(); await writer.drain(); await redis.quit(); await db.destroy(); } }, Number(PORT));
}

runAsScript(import.meta.url, main);
