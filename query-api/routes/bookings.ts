/**
 * GET /api/v1/bookings/my, /api/v1/bookings/:id and /api/v1/payments/:id: a user's own bookings
 * and payments (admins: anyone's). Someone else's and a missing one are the same 404.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { principalOf } from '../../lib/http/auth.ts';
import { loadOwned } from '../../lib/http/authorization.ts';
import { problemResponses } from '../../lib/http/schemas.ts';
import type { BookingReads, BookingView } from '../bookings/booking-reads.ts';
import { PageQuery } from '../pagination.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import type { ReadSources } from '../../read-models/replicas.ts';

const Masked = Type.String({ description: 'KTP number, all but the last 4 digits masked' });

/** A booking as its owner (or an admin) reads it; the back office's search lists the same. */
export const Booking = Type.Object({
  id: Type.String(),
  status: Type.Union([
    Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed'), Type.Literal('refund_due'),
  ]),
  concert_id: Type.String(),
  concert_name: Type.Union([Type.String(), Type.Null()]),
  concert_date: Type.Union([Type.String(), Type.Null()]),
  total_price: Type.Integer({ description: 'rupiah' }),
  expires_at: Type.String(),
  created_at: Type.String(),
  seats: Type.Array(Type.Object({ id: Type.String(), seat_number: Type.Integer(), ticket_class_id: Type.String(), ticket_class_name: Type.Union([Type.String(), Type.Null()]) })),
  buyer_info: Type.Union([
    Type.Object({ full_name: Type.String(), phone_number: Type.String(), email: Type.String(), ktp_number: Masked }),
    Type.Null(),
  ], { description: 'null once the buyer asked to be forgotten' }),
  ticket_holder_info: Type.Array(Type.Object({ full_name: Type.String(), ktp_number: Masked })),
  payment_id: Type.Union([Type.String(), Type.Null()]),
});

const Payment = Type.Object({
  id: Type.String(),
  booking_id: Type.String(),
  amount: Type.Integer({ description: 'rupiah' }),
  payment_method: Type.String(),
  status: Type.Union([
    Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed'),
    Type.Literal('refund_due'), Type.Literal('refunding'), Type.Literal('refunded'), Type.Literal('refund_failed'),
  ]),
  transaction_id: Type.String(),
  checkout_url: Type.String(),
  created_at: Type.String(),
});

const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
const AtPosition = Type.Object(MinPositionQuery, { additionalProperties: false });

/** What a response may carry: the owner's id stays inside. */
export function shown(booking: BookingView): Omit<BookingView, 'user_id'> {
  const { user_id: _owner, ...rest } = booking;
  return rest;
}

export const bookingReadRoutes: FastifyPluginAsyncTypebox<{ bookings: BookingReads; waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { bookings, waiter, sources }) => {
  const atBookings = readAt(waiter, sources, 'bookings');

  app.get('/api/v1/bookings/my', {
    schema: {
      tags: ['bookings'],
      summary: 'Your bookings, newest first',
      security: [{ bearer: [] }],
      querystring: Type.Object({ ...PageQuery, ...MinPositionQuery }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Booking), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
    preHandler: [app.requireUser, atBookings],
  }, async (request) => {
    const page = await request.readSource.run((db) => bookings.mine(db, principalOf(request).userId, request.query));
    return { items: page.items.map(shown), next_cursor: page.next_cursor };
  });

  app.get('/api/v1/bookings/:id', {
    schema: {
      tags: ['bookings'],
      summary: 'One of your bookings (admins: anyone\'s)',
      security: [{ bearer: [] }],
      params: Id,
      querystring: AtPosition,
      response: { 200: Booking, ...problemResponses },
    },
    preHandler: [app.requireUser, atBookings],
  }, async (request) => shown(await loadOwned(principalOf(request), request.params.id, (id) => request.readSource.run((db) => bookings.booking(db, id)), (b) => b.user_id, 'booking')));

  app.get('/api/v1/payments/:id', {
    schema: {
      tags: ['payments'],
      summary: 'One of your payments (admins: anyone\'s)',
      security: [{ bearer: [] }],
      params: Id,
      querystring: AtPosition,
      response: { 200: Payment, ...problemResponses },
    },
    preHandler: [app.requireUser, readAt(waiter, sources, 'payments')],
  }, async (request) => {
    const { user_id: _owner, ...payment } = await loadOwned(principalOf(request), request.params.id, (id) => request.readSource.run((db) => bookings.payment(db, id)), (p) => p.user_id, 'payment');
    return payment;
  });
};
