/**
 * GET /api/v1/concerts, /api/v1/concerts/:id and /api/v1/concerts/:id/seats: browsing, from the
 * concerts read model. A concert's answers carry an ETag made of the position of its last change
 * (the list's, of the projection's position): If-None-Match with it answers 304.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { notFound } from '../../lib/errors.ts';
import { Instant, problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { ConcertReads } from '../concerts/concert-reads.ts';
import { PageQuery } from '../pagination.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import type { ReadSources } from '../../read-models/replicas.ts';

const TicketClass = Type.Object({
  id: Type.String(),
  name: Type.String(),
  price: Type.Integer({ description: 'rupiah' }),
  total_seats_in_class: Type.Integer(),
  available_seats_in_class: Type.Integer(),
});

const Concert = Type.Object({
  id: Type.String(),
  name: Type.String(),
  artist: Type.String(),
  date: Instant,
  venue: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  image_url: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('active'), Type.Literal('cancelled')]),
  max_tickets_per_ktp: Type.Union([Type.Integer(), Type.Null()]),
  sales_open_at: Type.Union([Instant, Type.Null()], { description: 'when sales open; null: they are open' }),
  sales_close_at: Type.Union([Instant, Type.Null()], { description: "when sales close; null: at the concert's date" }),
  waiting_room: Type.Boolean({ description: 'booking needs a Booking-Pass from the waiting room (POST /api/v1/concerts/:id/queue)' }),
  ticket_classes: Type.Array(TicketClass),
  total_seats: Type.Integer(),
  available_seats: Type.Integer(),
});

const Seat = Type.Object({
  id: Type.String(),
  seat_number: Type.Integer(),
  status: Type.Union([Type.Literal('available'), Type.Literal('reserved'), Type.Literal('booked')]),
  ticket_class_id: Type.String(),
});

const NotModified = Type.Null({ description: 'the copy the client has is current' });

/** Answers 304 when the client already has the version `position` names. */
function notModified(request: FastifyRequest, reply: FastifyReply, position: number): boolean {
  const etag = `W/"${position}"`;
  void reply.header('ETag', etag);
  return request.headers['if-none-match']?.split(',').some((tag) => tag.trim() === etag) === true;
}

export const concertRoutes: FastifyPluginAsyncTypebox<{ concerts: ConcertReads; waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { concerts, waiter, sources }) => {
  const preHandler = readAt(waiter, sources, 'concerts');

  app.get('/api/v1/concerts', {
    schema: {
      tags: ['concerts'],
      summary: 'Concerts, upcoming first; search by name or artist, filter by status and date',
      querystring: Type.Object({
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        status: Type.Optional(Type.Union([Type.Literal('scheduled'), Type.Literal('active'), Type.Literal('cancelled')])),
        date_from: Type.Optional(Instant),
        date_to: Type.Optional(Instant),
        ...PageQuery,
        ...MinPositionQuery,
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Concert), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 304: NotModified, ...problemResponses },
    },
    preHandler,
  }, async (request, reply) => {
    const { q, status, date_from: dateFrom, date_to: dateTo, limit, cursor } = request.query;
    if (notModified(request, reply, Number(reply.getHeader('X-Projection-Position')))) return reply.code(304).send(null);
    return request.readSource.run((db) => concerts.list(db, { q, status, dateFrom, dateTo, limit, cursor }));
  });

  app.get('/api/v1/concerts/:id', {
    schema: {
      tags: ['concerts'],
      summary: 'A concert with its ticket classes and seats left',
      params: Type.Object({ id: UuidSchema }),
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      response: { 200: Concert, 304: NotModified, ...problemResponses },
    },
    preHandler,
  }, async (request, reply) => {
    const concert = await request.readSource.run((db) => concerts.one(db, request.params.id));
    if (concert === undefined) throw notFound('no such concert');
    if (notModified(request, reply, concert.position)) return reply.code(304).send(null);
    return concert;
  });

  app.get('/api/v1/concerts/:id/seats', {
    schema: {
      tags: ['concerts'],
      summary: "A concert's seat map: available, reserved (held) or booked (sold); never by whom",
      params: Type.Object({ id: UuidSchema }),
      querystring: Type.Object({
        ticket_class_id: Type.Optional(UuidSchema),
        status: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('reserved'), Type.Literal('booked')])),
        ...PageQuery,
        ...MinPositionQuery,
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Seat), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 304: NotModified, ...problemResponses },
    },
    preHandler,
  }, async (request, reply) => {
    const { ticket_class_id: ticketClassId, status, limit, cursor } = request.query;
    const seats = await request.readSource.run((db) => concerts.seats(db, request.params.id, { ticketClassId, status, limit, cursor }));
    if (seats === undefined) throw notFound('no such concert');
    // The cursor names the page: the same position and cursor is the same page.
    if (notModified(request, reply, seats.position)) return reply.code(304).send(null);
    return { items: seats.items, next_cursor: seats.next_cursor };
  });
};
