/**
 * The older booking-service's booking routes and payment-service's payment routes: integer
 * concert and ticket-class ids in, one ticket holder (or null), bare arrays out, `booked_seats`,
 * and payments that name their amount (it must be the booking's total). Commands go through the
 * command API's BookingService and PaymentService; reads through the query API's BookingReads.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Knex } from 'knex';
import Type from 'typebox';
import type { BookingService } from '../../command-api/bookings/bookings.ts';
import type { PaymentService } from '../../command-api/payments/payments.ts';
import type { Config } from '../../lib/config.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { loadOwned } from '../../lib/http/authorization.ts';
import { accountLimit, routeLimit } from '../../lib/http/limits.ts';
import { BuyerInfoSchema, FullNameSchema, KtpSchema, requestContext } from '../../lib/http/schemas.ts';
import type { BookingReads, BookingView } from '../../query-api/bookings/booking-reads.ts';
import type { ProjectionWaiter } from '../../query-api/read-your-writes/waiter.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { everyPage, LEGACY_IDS, legacyList, LegacyReadQuery, readSource, rememberPosition, waitFor } from '../http.ts';
import type { LegacyIdReads } from '../legacy-ids.ts';
import { ErrorBody, LegacyIdParams, legacyBooking, LegacyBooking, legacyPayment, LegacyPayment, MessageBody } from '../shapes.ts';

export interface LegacyBookingRoutesOptions {
  readonly config: Config;
  readonly bookings: BookingService;
  readonly payments: PaymentService;
  readonly bookingReads: BookingReads;
  readonly ids: LegacyIdReads;
  readonly waiter: ProjectionWaiter;
  readonly sources: ReadSources;
}

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const LegacyNumber = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const BookingId = Type.Object({ id: Type.String({ maxLength: 64 }) });
const BOOKING_READS = ['bookings', LEGACY_IDS] as const;
const PAYMENT_READS = ['payments', LEGACY_IDS] as const;

const Holder = Type.Object({ full_name: FullNameSchema, ktp_number: KtpSchema }, { additionalProperties: false });

const BookingBody = Type.Object({
  concert_id: LegacyNumber,
  tickets_by_class: Type.Array(
    Type.Object({ ticket_class_id: LegacyNumber, quantity: Type.Integer({ minimum: 1, maximum: 5 }) }, { additionalProperties: false }),
    { minItems: 1, maxItems: 5 },
  ),
  buyer_info: BuyerInfoSchema,
  ticket_holder_info: Type.Optional(Type.Union([Holder, Type.Null()])),
}, { additionalProperties: false });

const PaymentBody = Type.Object({
  booking_id: Type.String({ format: 'uuid' }),
  amount: Type.Number({ minimum: 0 }),
  payment_method: Type.Union([Type.Literal('credit_card'), Type.Literal('bank_transfer')]),
}, { additionalProperties: false });

const OUR_METHOD = { credit_card: 'card', bank_transfer: 'bank_transfer' } as const;

/** Bookings in the older shape, their numbers looked up together. */
export async function legacyBookings(db: Knex, ids: LegacyIdReads, views: readonly BookingView[]): Promise<LegacyBooking[]> {
  if (views.length === 0) return [];
  const seats = views.flatMap((view) => view.seats);
  const [users, concerts, payments, classes, seatNumbers] = await Promise.all([
    ids.numbers(db, 'user', views.map((view) => view.user_id)),
    ids.numbers(db, 'concert', views.map((view) => view.concert_id)),
    ids.numbers(db, 'payment', views.flatMap((view) => view.payment_id ?? [])),
    ids.numbers(db, 'ticket_class', seats.map((seat) => seat.ticket_class_id)),
    ids.seatNumbers(db, seats),
  ]);
  return views.flatMap((view) => {
    const user = users.get(view.user_id);
    const concert = concerts.get(view.concert_id);
    if (user === undefined || concert === undefined) return [];
    const payment = view.payment_id === null ? null : payments.get(view.payment_id) ?? null;
    return [legacyBooking(view, { user, concert, payment, classes, seats: seatNumbers })];
  });
}

export const legacyBookingRoutes: FastifyPluginAsyncTypebox<LegacyBookingRoutesOptions> = async (app, { config, bookings, payments, bookingReads, ids, waiter, sources }) => {
  const secure = config.nodeEnv !== 'development';
  /** One booking, the caller's (an admin: anyone's), in the older shape. */
  const bookingOf = async (db: Knex, request: Parameters<typeof principalOf>[0], id: string): Promise<LegacyBooking> => {
    const view = await loadOwned(principalOf(request), id, (bookingId) => bookingReads.booking(db, bookingId), (b) => b.user_id, 'booking');
    const [shown] = await legacyBookings(db, ids, [view]);
    if (shown === undefined) throw new AppError('PROJECTION_LAGGING', 'this booking has no numbers on the older API yet; retry shortly');
    return shown;
  };

  const perAccount = accountLimit(app, config, config.limits.bookingsPerMinutePerAccount, '1 minute');

  app.post('/api/v1/bookings', {
    preHandler: app.requireUser,
    config: routeLimit(config, config.limits.bookingsPerMinutePerIp, '1 minute'),
    schema: { tags: ['legacy'], body: BookingBody, response: { 201: LegacyBooking, ...errors } },
  }, async (request, reply) => {
    await perAccount(request, `booking:${principalOf(request).userId}`);
    const body = request.body;
    const source = await sources.choose(LEGACY_IDS);
    const { concertId, classes } = await source.run(async (db) => ({
      concertId: await ids.idOf(db, 'concert', body.concert_id),
      classes: await Promise.all(body.tickets_by_class.map(async (c) => ({ ticket_class_id: await ids.idOf(db, 'ticket_class', c.ticket_class_id), quantity: c.quantity }))),
    }));
    if (concertId === undefined) throw notFound('concert not found');
    const ticketsByClass = classes.map((c) => {
      if (c.ticket_class_id === undefined) throw new AppError('VALIDATION_FAILED', 'no such ticket class');
      return { ticket_class_id: c.ticket_class_id, quantity: c.quantity };
    });
    const tickets = ticketsByClass.reduce((sum, c) => sum + c.quantity, 0);
    const holder = body.ticket_holder_info ?? null;
    const placed = await bookings.place(principalOf(request), {
      concert_id: concertId,
      tickets_by_class: ticketsByClass,
      buyer_info: body.buyer_info,
      // One holder for the whole booking, as the older system kept it: the holder of every ticket.
      ticket_holder_info: holder === null ? undefined : Array.from({ length: tickets }, () => holder),
    }, undefined, requestContext(request));
    rememberPosition(request, reply, placed.position, secure);
    await waitFor(waiter, BOOKING_READS, placed.position);
    const read = await sources.choose('bookings', Number.MAX_SAFE_INTEGER);
    return reply.code(201).send(await read.run((db) => bookingOf(db, request, placed.id)));
  });

  app.get('/api/v1/bookings/my', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], querystring: LegacyReadQuery, response: { 200: Type.Union([Type.Array(LegacyBooking), Type.Null()]), ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, BOOKING_READS);
    const mine = await source.run(async (db) => legacyBookings(db, ids,
      await everyPage((cursor) => bookingReads.mine(db, principalOf(request).userId, { limit: 100, cursor }))));
    return legacyList(mine);
  });

  app.get('/api/v1/bookings/:id', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], params: BookingId, querystring: LegacyReadQuery, response: { 200: LegacyBooking, ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, BOOKING_READS);
    return source.run((db) => bookingOf(db, request, request.params.id));
  });

  app.put('/api/v1/bookings/:id/cancel', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], params: BookingId, response: { 200: MessageBody, ...errors } },
  }, async (request, reply) => {
    const cancelled = await bookings.cancel(principalOf(request), request.params.id, requestContext(request));
    rememberPosition(request, reply, cancelled.position, secure);
    return { message: 'Booking cancelled successfully' };
  });

  app.post('/api/v1/payments', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], body: PaymentBody, querystring: LegacyReadQuery, response: { 201: LegacyPayment, 200: LegacyPayment, ...errors } },
  }, async (request, reply) => {
    const { booking_id: bookingId, amount, payment_method: method } = request.body;
    const principal = principalOf(request);
    // The amount the client names must be what the booking costs; what is charged is the booking's, as always.
    const source = await readSource(request, reply, waiter, sources, ['bookings']);
    const booking = await source.run((db) => loadOwned(principal, bookingId, (id) => bookingReads.booking(db, id), (b) => b.user_id, 'booking'));
    if (amount !== booking.total_price) throw new AppError('VALIDATION_FAILED', `amount must be the booking's total price (${booking.total_price})`);
    const { answer, created } = await payments.start(principal, { booking_id: bookingId, payment_method: OUR_METHOD[method] }, undefined, requestContext(request));
    rememberPosition(request, reply, answer.position, secure);
    await waitFor(waiter, PAYMENT_READS, answer.position);
    const read = await sources.choose('payments', Number.MAX_SAFE_INTEGER);
    const shown = await read.run(async (db) => {
      const [payment, number] = await Promise.all([bookingReads.payment(db, answer.id), ids.number(db, 'payment', answer.id)]);
      return payment === null || number === undefined ? undefined : legacyPayment(payment, number);
    });
    if (shown === undefined) throw new AppError('PROJECTION_LAGGING', 'this payment has no number on the older API yet; retry shortly');
    return reply.code(created ? 201 : 200).send(shown);
  });

  app.get('/api/v1/payments/:id', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], params: LegacyIdParams, querystring: LegacyReadQuery, response: { 200: LegacyPayment, ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, PAYMENT_READS);
    return source.run(async (db) => {
      const number = Number(request.params.id);
      const id = await ids.idOf(db, 'payment', number);
      if (id === undefined) throw notFound('payment not found');
      const payment = await loadOwned(principalOf(request), id, (paymentId) => bookingReads.payment(db, paymentId), (p) => p.user_id, 'payment');
      return legacyPayment(payment, number);
    });
  });
};
