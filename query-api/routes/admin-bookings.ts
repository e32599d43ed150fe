/**
 * GET /api/v1/admin/bookings — the back office finds any booking: by concert, status, user, time
 * placed and exact email (through its keyed digest), newest first, keyset-paginated; each item as
 * GET /api/v1/bookings/:id answers it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { toCanonicalInstant } from '../../domain/index.ts';
import { AppError } from '../../lib/errors.ts';
import { Instant, problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import type { BookingReads } from '../bookings/booking-reads.ts';
import { searchBookings, type BookingSearch } from '../bookings/booking-search.ts';
import { PageQuery } from '../pagination.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import { Booking, shown } from './bookings.ts';

const Status = Type.Union([
  Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed'), Type.Literal('refund_due'),
]);

const SearchQuery = Type.Object({
  concert_id: Type.Optional(UuidSchema),
  status: Type.Optional(Status),
  user_id: Type.Optional(UuidSchema),
  email: Type.Optional(Type.String({
    minLength: 3, maxLength: 254, pattern: '^\\s*[^@\\s]+@[^@\\s]+\\s*$',
    description: "the buyer's or the account's address, exactly (case and surrounding space aside); matched through its keyed digest",
  })),
  created_from: Type.Optional(Instant),
  created_to: Type.Optional(Instant),
  ...PageQuery,
  ...MinPositionQuery,
}, { additionalProperties: false });

export interface AdminBookingDeps {
  readonly bookings: BookingReads;
  readonly waiter: ProjectionWaiter;
  readonly sources: ReadSources;
  /** The keyed digest of an address (lib/personal-data/digest.ts emailDigest under PERSONAL_DATA_DIGEST_KEY). */
  readonly emailDigest: (email: string) => string;
}

export const adminBookingRoutes: FastifyPluginAsyncTypebox<AdminBookingDeps> = async (app, { bookings, waiter, sources, emailDigest }) => {
  app.get('/api/v1/admin/bookings', {
    schema: {
      tags: ['admin'],
      summary: 'Find bookings by concert, status, user, time placed or email, newest first',
      security: [{ bearer: [] }],
      querystring: SearchQuery,
      response: { 200: Type.Object({ items: Type.Array(Booking), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
    preHandler: [readAt(waiter, sources, 'bookings')],
  }, async (request) => {
    const { concert_id: concertId, status, user_id: userId, email, created_from: createdFrom, created_to: createdTo, limit, cursor } = request.query;
    if (createdFrom !== undefined && createdTo !== undefined && toCanonicalInstant(createdFrom) > toCanonicalInstant(createdTo)) {
      throw new AppError('VALIDATION_FAILED', 'created_from must not be after created_to');
    }
    const search: BookingSearch = {
      limit,
      ...(concertId === undefined ? {} : { concertId: concertId.toLowerCase() }),
      ...(status === undefined ? {} : { status }),
      ...(userId === undefined ? {} : { userId: userId.toLowerCase() }),
      ...(email === undefined ? {} : { emailDigest: emailDigest(email) }),
      ...(createdFrom === undefined ? {} : { createdFrom }),
      ...(createdTo === undefined ? {} : { createdTo }),
      ...(cursor === undefined ? {} : { cursor }),
    };
    const page = await request.readSource.run(async (db) => {
      const found = await searchBookings(db, search);
      return { items: await bookings.views(db, found.rows), next_cursor: found.next_cursor };
    });
    return { items: page.items.map(shown), next_cursor: page.next_cursor };
  });
};
