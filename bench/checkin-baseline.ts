/**
 * The door the CRUD way, as a baseline: a `tickets` table and one
 * `UPDATE tickets SET admitted_at = ?, gate = ? WHERE id = ? AND admitted_at IS NULL` per scan
 * (one row changed: admitted; none: already admitted). Same HTTP front as ours: fastify, HS256 JWT
 * of a staff or admin account, a strict body schema, and the QR code's Ed25519 signature checked
 * with the same TicketCodes (a door that does not check it lets in any forged code); 50 database
 * connections. Run as its own process by bench/checkin.ts.
 *
 *   PORT=… MYSQL_URL=mysql://…/db JWT_SECRET=… TICKET_SIGNING_KEYS=… node --import tsx bench/checkin-baseline.ts
 */
import type { Knex } from 'knex';
import Type from 'typebox';
import { baselineServer, listenUntilStopped, runAsScript } from './baseline-server.ts';
import { DomainError } from '../domain/index.ts';
import { TicketCodes } from '../lib/tickets/ticket-codes.ts';

export interface BaselineTicket {
  readonly id: string;
  readonly concertId: string;
  readonly seatNumber: number;
}

export async function createTicketsTable(db: Knex, tickets: readonly BaselineTicket[]): Promise<void> {
  await db.schema.createTable('tickets', (table) => {
    table.string('id', 64).primary();
    table.string('concert_id', 36).notNullable().index();
    table.integer('seat_number').notNullable();
    table.specificType('admitted_at', 'DATETIME(3)').nullable();
    table.string('gate', 64).nullable();
  });
  for (let from = 0; from < tickets.length; from += 5_000) {
    await db('tickets').insert(tickets.slice(from, from + 5_000).map((ticket) => ({ id: ticket.id, concert_id: ticket.concertId, seat_number: ticket.seatNumber })));
  }
}

const Body = Type.Object({
  qr: Type.String({ minLength: 1, maxLength: 1024 }),
  gate: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 _.:-]+$' })),
}, { additionalProperties: false });

async function main(): Promise<void> {
  const { PORT, MYSQL_URL, JWT_SECRET, TICKET_SIGNING_KEYS } = process.env;
  if (!PORT || !MYSQL_URL || !JWT_SECRET || !TICKET_SIGNING_KEYS) throw new Error('PORT, MYSQL_URL, JWT_SECRET and TICKET_SIGNING_KEYS are required');
  const codes = new TicketCodes(TICKET_SIGNING_KEYS.split(',').map((seed) => Buffer.from(seed, 'base64')));
  const { db, app } = await baselineServer(MYSQL_URL, JWT_SECRET);

  app.post('/api/v1/checkin', { schema: { body: Body } }, async (request, reply) => {
    const claims = await request.jwtVerify<{ role?: string }>();
    if (claims.role !== 'staff' && claims.role !== 'admin') return reply.code(403).send({ code: 'FORBIDDEN' });
    let ticket;
    try {
      ticket = codes.verify(request.body.qr);
    } catch (error) {
      if (error instanceof DomainError) return reply.code(400).send({ code: error.code });
      throw error;
    }
    const gate = request.body.gate ?? 'main';
    const [result] = (await db.raw('UPDATE tickets SET admitted_at = ?, gate = ? WHERE id = ? AND admitted_at IS NULL', [new Date(), gate, ticket.t])) as [{ affectedRows: number }];
    if (result.affectedRows !== 1) return reply.code(409).send({ code: 'ALREADY_ADMITTED' });
    return reply.send({ result: 'admitted', ticket: { id: ticket.t, seat_number: ticket.s } });
  });

  await listenUntilStopped(app, db, Number(PORT));
}

runAsScript(import.meta.url, main);
