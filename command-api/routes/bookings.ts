/** /api/v1/bookings (place, cancel) and /api/v1/admin/concerts (schedule, edit, add classes and seats, cancel). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../lib/http/auth.ts';
import Type, { type TSchema } from 'typebox';
import type { Config } from '../../lib/config.ts';
import { accountLimit, routeLimit } from '../../lib/http/limits.ts';
import { requireUuid } from '../../lib/http/authorization.ts';
import { BuyerInfoSchema, ConcertDetailsFields, FullNameSchema, IdempotencyHeaders, NewTicketClassSchema, KtpSchema, Instant, PositionSchema, problemResponses, requestContext, UuidSchema, WebUrlSchema } from '../../lib/http/schemas.ts';
import type { BookingService } from '../bookings/bookings.ts';
import type { ConcertService } from '../concerts/concerts.ts';

export interface BookingRoutesOptions {
  readonly config: Config;
  readonly bookings: BookingService;
}

const Quantity = Type.Integer({ minimum: 1, maximum: 5 });

const BookingBody = Type.Object({
  concert_id: UuidSchema,
  tickets_by_class: Type.Optional(Type.Array(
    Type.Object({ ticket_class_id: UuidSchema, quantity: Quantity }, { additionalProperties: false }),
    { minItems: 1, maxItems: 5, description: 'best available seats, lowest numbers first; or send seat_ids' },
  )),
  seat_ids: Type.Optional(Type.Array(UuidSchema, { minItems: 1, maxItems: 5 })),
  buyer_info: BuyerInfoSchema,
  ticket_holder_info: Type.Optional(Type.Array(
    Type.Object({ full_name: FullNameSchema, ktp_number: KtpSchema }, { additionalProperties: false }),
    { minItems: 1, maxItems: 5, description: 'one per ticket, in seat order; without it the buyer holds every ticket' },
  )),
}, { additionalProperties: false });

const BookingAnswer = Type.Object({
  id: Type.String(),
  // `pending` when placed; a retry with the same Idempotency-Key answers the booking's status now.
  status: Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed'), Type.Literal('refund_due')]),
  concert_id: Type.String(),
  total_price: Type.Integer(),
  expires_at: Instant,
  seats: Type.Array(Type.Object({ id: Type.String(), seat_number: Type.Integer(), ticket_class_id: Type.String() })),
  position: PositionSchema,
});

const bearer = [{ bearer: [] }];

const BookingHeaders = Type.Object({
  ...IdempotencyHeaders.properties,
  'booking-pass': Type.Optional(Type.String({
    minLength: 1, maxLength: 2048, description: "the waiting room's pass (GET /api/v1/queue/:token): needed while the concert's waiting room is on",
  })),
});

export const bookingRoutes: FastifyPluginAsyncTypebox<BookingRoutesOptions> = async (app, { config, bookings }) => {
  const perAccount = accountLimit(app, config, config.limits.bookingsPerMinutePerAccount, '1 minute');

  app.post('/api/v1/bookings', {
    preHandler: app.requireUser,
    config: routeLimit(config, config.limits.bookingsPerMinutePerIp, '1 minute'),
    schema: {
      tags: ['bookings'],
      summary: 'Book 1-5 tickets: by quantity per class or by seat id. Seats are held until expires_at.',
      security: bearer,
      headers: BookingHeaders,
      body: BookingBody,
      response: { 201: BookingAnswer, ...problemResponses },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    await perAccount(request, `booking:${principal.userId}`);
    const answer = await bookings.place(principal, request.body, request.headers['idempotency-key'], requestContext(request), request.headers['booking-pass']);
    return reply.code(201).send(answer);
  });

  app.put('/api/v1/bookings/:id/cancel', {
    preHandler: app.requireUser,
    schema: {
      tags: ['bookings'],
      summary: 'Cancel a pending booking (owner or admin); its seats go back on sale. Again on a cancelled one: the same answer (PUT is idempotent)',
      security: bearer,
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      response: { 200: Type.Object({ id: Type.String(), status: Type.Literal('cancelled'), position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => bookings.cancel(principalOf(request), request.params.id, requestContext(request)));
};

export const adminConcertRoutes: FastifyPluginAsyncTypebox<{ concerts: ConcertService }> = async (app, { concerts }) => {
  app.post('/api/v1/admin/concerts', {
    schema: {
      tags: ['admin'],
      summary: 'Schedule a concert with its ticket classes and numbered seats; it is on sale at once',
      security: bearer,
      headers: IdempotencyHeaders,
      body: Type.Object({
        ...ConcertDetailsFields,
        max_tickets_per_ktp: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        sales_open_at: Type.Optional(Instant),
        sales_close_at: Type.Optional(Instant),
        waiting_room: Type.Optional(Type.Boolean({ description: 'bookings need a Booking-Pass from the waiting room (POST /api/v1/concerts/:id/queue)' })),
        ticket_classes: Type.Array(NewTicketClassSchema, { minItems: 1, maxItems: 50 }),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          id: Type.String(),
          status: Type.Literal('active'),
          ticket_classes: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), price: Type.Integer(), total_seats_in_class: Type.Integer() })),
          position: PositionSchema,
        }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const created = await concerts.create(principalOf(request), request.body, request.headers['idempotency-key'], requestContext(request));
    return reply.code(201).send(created);
  });

  app.post('/api/v1/admin/concerts/:id/cancel', {
    schema: {
      tags: ['admin'],
      summary: 'Call a concert off: pending bookings are cancelled, paid ones become refund-due',
      security: bearer,
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false })),
      response: { 200: Type.Object({ id: Type.String(), status: Type.Literal('cancelled'), position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => {
    requireUuid(request.params.id, 'concert');
    return concerts.cancel(principalOf(request), request.params.id, request.body?.reason ?? 'cancelled by the organiser', requestContext(request));
  });

  app.patch('/api/v1/admin/concerts/:id', {
    schema: {
      tags: ['admin'],
      summary: "Edit a concert: only the given fields change, null clears an optional one; a class's new price applies to bookings made afterwards",
      security: bearer,
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      body: Type.Optional(ConcertEditBody),
      response: { 200: ConcertAnswer, ...problemResponses },
    },
  }, async (request) => {
    requireUuid(request.params.id, 'concert');
    return concerts.change(principalOf(request), request.params.id, request.body ?? {}, requestContext(request));
  });

  app.post('/api/v1/admin/concerts/:id/ticket-classes', {
    schema: {
      tags: ['admin'],
      summary: 'Add a ticket class, or seats to one: a new name adds a class; an existing name (same price) grows that class to total_seats_in_class seats in all, never fewer',
      security: bearer,
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        price: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: 'rupiah; an existing class keeps its price (change it with PATCH)' }),
        total_seats_in_class: Type.Integer({ minimum: 1, maximum: 200_000, description: "the class's seats in all after the addition, not the number added" }),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          concert_id: Type.String(), id: Type.String(), name: Type.String(), price: Type.Integer(), total_seats_in_class: Type.Integer(), position: PositionSchema,
        }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    requireUuid(request.params.id, 'concert');
    const grown = await concerts.addTicketClass(principalOf(request), request.params.id, request.body, requestContext(request));
    return reply.code(201).send(grown);
  });
};

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const ConcertEditBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  artist: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  date: Type.Optional(Instant),
  venue: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
  image_url: Type.Optional(Nullable(WebUrlSchema)),
  max_tickets_per_ktp: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100 }))),
  sales_open_at: Type.Optional(Nullable(Instant)),
  sales_close_at: Type.Optional(Nullable(Instant)),
  waiting_room: Type.Optional(Type.Boolean({ description: 'true switches the waiting room on, false off' })),
  ticket_classes: Type.Optional(Type.Array(
    Type.Object({ id: UuidSchema, price: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: 'rupiah' }) }, { additionalProperties: false }),
    { minItems: 1, maxItems: 50, description: 'new prices, for bookings made from now on' },
  )),
}, { additionalProperties: false });

const ConcertAnswer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  artist: Type.String(),
  date: Type.String(),
  venue: Type.String(),
  description: Nullable(Type.String()),
  image_url: Nullable(Type.String()),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('active'), Type.Literal('cancelled')]),
  max_tickets_per_ktp: Nullable(Type.Integer()),
  sales_open_at: Nullable(Type.String()),
  sales_close_at: Nullable(Type.String()),
  waiting_room: Type.Boolean(),
  ticket_classes: Type.Array(Type.Object({
    id: Type.String(), name: Type.String(), price: Type.Integer(), total_seats_in_class: Type.Integer(), available_seats_in_class: Type.Integer(),
  })),
  total_seats: Type.Integer(),
  available_seats: Type.Integer(),
  position: PositionSchema,
});


