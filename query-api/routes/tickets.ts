/**
 * GET /api/v1/bookings/:id/tickets, /api/v1/bookings/:id/tickets.html, /api/v1/tickets/:id/qr.svg
 * (the buyer's, or an admin's) and GET /api/v1/admin/concerts/:id/checkin (door staff, admins):
 * a confirmed booking's tickets with their signed QR codes, as JSON, as images and as a page to
 * print; and the door's counts. Someone else's booking or ticket is the same 404 as a missing one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import Type from 'typebox';
import { DomainError } from '../../domain/index.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { loadOwned, requireUuid } from '../../lib/http/authorization.ts';
import { problemResponses } from '../../lib/http/schemas.ts';
import { asHtml } from '../../lib/http/security-headers.ts';
import { TicketViewSchema, type TicketView } from '../../lib/tickets/ticket-view.ts';
import { readCheckpointPosition } from '../../read-models/checkpoints.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import { qrPng, qrSvg, ticketPage, TICKET_PAGE_CSP } from '../tickets/ticket-page.ts';
import type { BookingTickets, TicketReads } from '../tickets/ticket-reads.ts';

const Checkin = Type.Object({
  concert_id: Type.String(),
  classes: Type.Array(Type.Object({
    ticket_class_id: Type.String(),
    ticket_class_name: Type.String(),
    issued: Type.Integer(),
    admitted: Type.Integer(),
    void: Type.Integer(),
  })),
  gates: Type.Array(Type.Object({ gate: Type.String(), admitted: Type.Integer() })),
});

const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
const AtPosition = Type.Object(MinPositionQuery, { additionalProperties: false });

export const ticketRoutes: FastifyPluginAsyncTypebox<{ tickets: TicketReads; waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { tickets, waiter, sources }) => {
  // A booking's tickets need both its status (bookings) and its tickets (tickets) at the reader's position.
  const atBoth = [readAt(waiter, sources, 'bookings'), readAt(waiter, sources, 'tickets')];

  /** The caller's confirmed booking with its tickets: 400 malformed id, 404 someone else's or missing, 409 not confirmed. */
  const confirmedBooking = async <T extends BookingTickets>(request: FastifyRequest, id: string, load: (db: Knex, id: string) => Promise<T | null>): Promise<T> => {
    const found = await loadOwned(principalOf(request), id, (bookingId) => request.readSource.run(async (db) => {
      // A replica chosen for the tickets' position may hold the booking's status from before it.
      if (request.minPosition !== undefined && request.readSource.position !== undefined && await readCheckpointPosition(db, 'bookings') < request.minPosition) {
        throw new AppError('PROJECTION_LAGGING', `the bookings read model has not reached position ${request.minPosition} here yet; retry shortly`);
      }
      return load(db, bookingId);
    }), (value) => value.booking.user_id, 'booking');
    if (found.booking.status !== 'confirmed') {
      throw new AppError('NOT_CONFIRMED', `this booking is ${found.booking.status}: tickets come with a confirmed booking`);
    }
    return found;
  };

  app.get('/api/v1/bookings/:id/tickets', {
    schema: {
      tags: ['tickets'],
      summary: 'The tickets of one of your confirmed bookings, with their QR codes (admins: anyone\'s)',
      security: [{ bearer: [] }],
      params: Id,
      querystring: AtPosition,
      response: { 200: Type.Array(TicketViewSchema), ...problemResponses },
    },
    preHandler: [app.requireUser, ...atBoth],
  }, async (request) => (await confirmedBooking(request, request.params.id, (db, id) => tickets.ofBooking(db, id))).tickets);

  app.get('/api/v1/bookings/:id/tickets.html', {
    schema: {
      tags: ['tickets'],
      summary: 'The tickets of a confirmed booking as a page to print: one ticket per page, its QR code inline',
      security: [{ bearer: [] }],
      params: Id,
      querystring: AtPosition,
      response: { 200: Type.String({ description: 'text/html' }), ...problemResponses },
    },
    preHandler: [app.requireUser, ...atBoth],
  }, async (request, reply) => {
    const printable = await confirmedBooking(request, request.params.id, (db, id) => tickets.printable(db, id));
    return asHtml(reply).headers({ 'content-security-policy': TICKET_PAGE_CSP, 'cache-control': 'no-store' }).send(await ticketPage(printable));
  });

  app.get('/api/v1/tickets/:id/qr.svg', {
    schema: {
      tags: ['tickets'],
      summary: 'The QR code of one of your tickets as SVG (`?format=png`: PNG)',
      security: [{ bearer: [] }],
      params: Id,
      querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('svg'), Type.Literal('png')])), ...MinPositionQuery }, { additionalProperties: false }),
      response: { 200: Type.Unsafe<string | Buffer>({ type: 'string', description: 'image/svg+xml, or image/png' }), ...problemResponses },
    },
    preHandler: [app.requireUser, readAt(waiter, sources, 'tickets')],
  }, async (request, reply) => {
    const { view } = await loadOwned(principalOf(request), request.params.id, (id) => request.readSource.run((db) => tickets.ticket(db, id)), (ticket) => ticket.userId, 'ticket');
    const qr = scannable(view);
    void reply.header('cache-control', 'no-store');
    if (request.query.format === 'png') return reply.type('image/png').send(await qrPng(qr));
    return reply.type('image/svg+xml; charset=utf-8').send(await qrSvg(qr));
  });

  app.get('/api/v1/admin/concerts/:id/checkin', {
    schema: {
      tags: ['tickets', 'admin'],
      summary: 'The door: per class tickets issued, admitted and void; per gate admitted (door staff, admins)',
      security: [{ bearer: [] }],
      params: Id,
      querystring: AtPosition,
      response: { 200: Checkin, ...problemResponses },
    },
    onRequest: app.requireStaff,
    preHandler: [readAt(waiter, sources, 'tickets')],
  }, async (request) => {
    requireUuid(request.params.id, 'concert');
    const summary = await request.readSource.run((db) => tickets.checkin(db, request.params.id.toLowerCase()));
    if (summary === null) throw notFound('no such concert');
    return summary;
  });
};

function scannable(view: TicketView): string {
  if (view.status === 'void') throw new DomainError('TICKET_VOID', 'this ticket is void: its booking was cancelled or refunded, or its concert cancelled');
  if (view.qr === null) throw notFound('this ticket has no code: its holder\'s details were forgotten');
  return view.qr;
}
