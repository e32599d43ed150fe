/**
 * The query API: routes that read. `queryApi` registers them on a server built by
 * src/http/server-kit.ts: the embedded all-in-one (src/app.ts) today, a query role of its own
 * when the roles run apart. It never imports command-api/.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BookingReads } from './bookings/booking-reads.ts';
import type { AvailabilityReader } from './concerts/availability.ts';
import type { ConcertReads } from './concerts/concert-reads.ts';
import type { ProjectionAdmin } from '../read-models/projection-status.ts';
import type { ReadSource, ReadSources } from '../read-models/replicas.ts';
import { adminBookingRoutes } from './routes/admin-bookings.ts';
import { adminProjectionRoutes } from './routes/admin-projections.ts';
import { adminRefundRoutes } from './routes/admin-refunds.ts';
import { adminUserListRoutes } from './routes/admin-users.ts';
import { adminReportRoutes } from './routes/admin-reports.ts';
import type { ProjectionWaiter } from './read-your-writes/waiter.ts';
import type { QueueStatus } from './queue/queue-status.ts';
import { queueRoutes } from './routes/queue.ts';
import { availabilityRoutes } from './routes/availability.ts';
import { bookingReadRoutes } from './routes/bookings.ts';
import { concertRoutes } from './routes/concerts.ts';
import { ticketRoutes } from './routes/tickets.ts';
import type { TicketReads } from './tickets/ticket-reads.ts';

export interface QueryApiDeps {
  readonly availability: AvailabilityReader;
  readonly concerts: ConcertReads;
  readonly bookings: BookingReads;
  readonly tickets: TicketReads;
  readonly projections: ProjectionAdmin;
  readonly waiter: ProjectionWaiter;
  /** Replicas in turn, the primary where it must. */
  readonly sources: ReadSources;
  /** The keyed digest of an address (PERSONAL_DATA_DIGEST_KEY): the back office searches bookings by it. */
  readonly emailDigest: (email: string) => string;
  /** The waiting room's status poll, read from its board alone. */
  readonly queueStatus: QueueStatus;
}

export const queryApi: FastifyPluginAsyncTypebox<QueryApiDeps> = async (app, deps) => {
  app.decorateRequest('minPosition', undefined);
  // Set by readAt on every route that reads; declared here so requests keep one shape.
  app.decorateRequest('readSource', undefined as unknown as ReadSource);
  await app.register(availabilityRoutes, deps);
  await app.register(concertRoutes, deps);
  await app.register(bookingReadRoutes, deps);
  await app.register(ticketRoutes, deps);
  await app.register(queueRoutes, deps);
  await app.register(async (admin) => {
    admin.addHook('onRequest', admin.requireAdmin);
    await admin.register(adminProjectionRoutes, deps);
    await admin.register(adminRefundRoutes, deps);
    await admin.register(adminBookingRoutes, deps);
    await admin.register(adminUserListRoutes, deps);
    await admin.register(adminReportRoutes, deps);
  });
};
