/**
 * The older system's way to take a booking, as a baseline: one MariaDB transaction per request
 * that locks the ticket class row (SELECT … FOR UPDATE), counts down its available seats, marks
 * the lowest free seats and inserts the booking. Same HTTP front as ours (fastify, HS256 JWT,
 * strict body schema), 50 database connections. Run as its own process by bench/flash-sale.ts.
 *
 *   PORT=… MYSQL_URL=mysql://…/db JWT_SECRET=… node --import tsx bench/row-lock-baseline.ts
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import Type from 'typebox';
import { baselineServer, listenUntilStopped, runAsScript } from './baseline-server.ts';

export async function createBaselineSchema(db: Knex, classId: string, concertId: string, seats: number, price: number): Promise<void> {
  await db.schema.createTable('ticket_classes', (table) => {
    table.string('id', 36).primary();
    table.string('concert_id', 36).notNullable().index();
    table.bigInteger('price').notNullable();
    table.integer('total_seats').notNullable();
    table.integer('available_seats').notNullable();
  });
  await db.schema.createTable('seats', (table) => {
    table.bigIncrements('id');
    table.string('ticket_class_id', 36).notNullable();
    table.integer('seat_number').notNullable();
    table.string('status', 16).notNullable();
    table.string('booking_id', 36).nullable().index();
    table.unique(['ticket_class_id', 'seat_number']);
    table.index(['ticket_class_id', 'status', 'seat_number']);
  });
  await db.schema.createTable('bookings', (table) => {
    table.string('id', 36).primary();
    table.string('user_id', 36).notNullable().index();
    table.string('concert_id', 36).notNullable().index();
    table.bigInteger('total_price').notNullable();
    table.string('status', 16).notNullable().index();
    table.dateTime('expires_at').notNullable().index();
  });
  await db.schema.createTable('buyers', (table) => {
    table.string('booking_id', 36).primary();
    table.string('full_name', 100);
    table.string('phone_number', 20);
    table.string('email', 254);
    table.string('ktp_number', 16);
  });
  await db('ticket_classes').insert({ id: classId, concert_id: concertId, price, total_seats: seats, available_seats: seats });
  for (let from = 1; from <= seats; from += 5_000) {
    const rows = [];
    for (let n = from; n < Math.min(from + 5_000, seats + 1); n++) rows.push({ ticket_class_id: classId, seat_number: n, status: 'available' });
    await db('seats').insert(rows);
  }
}

/** The booking request body, shared with bench/redis-lua-baseline.ts. */
export const Body = Type.Object({
  concert_id: Type.String({ format: 'uuid' }),
  tickets_by_class: Type.Array(Type.Object({ ticket_class_id: Type.String({ format: 'uuid' }), quantity: Type.Integer({ minimum: 1, maximum: 5 }) }, { additionalProperties: false }), { minItems: 1, maxItems: 1 }),
  buyer_info: Type.Object({
    full_name: Type.String({ minLength: 1, maxLength: 100 }),
    phone_number: Type.String({ pattern: '^[0-9]{10,15}$' }),
    email: Type.String({ format: 'email' }),
    ktp_number: Type.String({ pattern: '^[0-9]{16}$' }),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

async function main(): Promise<void> {
  const { PORT, MYSQL_URL, JWT_SECRET } = process.env;
  if (!PORT || !MYSQL_URL || !JWT_SECRET) throw new Error('PORT, MYSQL_URL and JWT_SECRET are required');
  const { db, app } = await baselineServer(MYSQL_URL, JWT_SECRET);

  app.post('/api/v1/bookings', { schema: { body: Body } }, async (request, reply) => {
    const claims = await request.jwtVerify<{ sub: string }>();
    const { ticket_class_id: classId, quantity } = request.body.tickets_by_class[0] as { ticket_class_id: string; quantity: number };
    const bookingId = randomUUID();
    const outcome = await db.transaction(async (trx) => {
      const ticketClass = await trx('ticket_classes').where({ id: classId }).forUpdate().first<{ available_seats: number; price: number } | undefined>('available_seats', 'price');
      if (ticketClass === undefined) return 404;
      if (ticketClass.available_seats < quantity) return 409;
      const active = await trx('bookings').where({ user_id: claims.sub, concert_id: request.body.concert_id }).whereIn('status', ['pending', 'confirmed']).first<{ id: string } | undefined>('id');
      if (active !== undefined) return 409;
      await trx('ticket_classes').where({ id: classId }).decrement('available_seats', quantity);
      const seats = await trx('seats').where({ ticket_class_id: classId, status: 'available' }).orderBy('seat_number').limit(quantity).forUpdate().select<{ id: number }[]>('id');
      await trx('seats').whereIn('id', seats.map((s) => s.id)).update({ status: 'reserved', booking_id: bookingId });
      await trx('bookings').insert({
        id: bookingId, user_id: claims.sub, concert_id: request.body.concert_id, total_price: Number(ticketClass.price) * quantity, status: 'pending',
        expires_at: new Date(Date.now() + 900_000),
      });
      await trx('buyers').insert({ booking_id: bookingId, ...request.body.buyer_info });
      return 201;
    });
    return reply.code(outcome).send(outcome === 201 ? { id: bookingId, status: 'pending' } : { code: outcome === 409 ? 'SOLD_OUT' : 'NOT_FOUND' });
  });

  await listenUntilStopped(app, db, Number(PORT));
}

runAsScript(import.meta.url, main);
