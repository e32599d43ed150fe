/**
 * The older system's API (LEGACY.md) over the same engine: its routes, request bodies and
 * answers, on the listeners of LEGACY_PORTS. Every listener answers every route of the older
 * three services (users, concerts and bookings, payments), so its front end, built as it is and
 * calling ports 8080, 8081 and 8082, works against any of them. Nothing here decides or reads
 * on its own: commands go to the command API's services, reads to the query API's read
 * repositories; only the shapes and the integer ids (projectors/legacy-ids) are its own.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BookingService } from '../command-api/bookings/bookings.ts';
import type { Captcha } from '../command-api/captcha/captcha.ts';
import type { ConcertService } from '../command-api/concerts/concerts.ts';
import type { PaymentService } from '../command-api/payments/payments.ts';
import type { UserService } from '../command-api/users/users.ts';
import type { Config } from '../lib/config.ts';
import type { LoginThrottle } from '../lib/security/login-throttle.ts';
import type { RevocationList } from '../lib/security/revocations.ts';
import type { BookingReads } from '../query-api/bookings/booking-reads.ts';
import type { ConcertReads } from '../query-api/concerts/concert-reads.ts';
import type { ProjectionWaiter } from '../query-api/read-your-writes/waiter.ts';
import type { ReadSources } from '../read-models/replicas.ts';
import { legacyErrorHandler } from './http.ts';
import type { LegacyIdReads } from './legacy-ids.ts';
import { legacyBookingRoutes } from './routes/bookings.ts';
import { legacyConcertRoutes } from './routes/concerts.ts';
import { legacyUserRoutes } from './routes/users.ts';

export interface LegacyApiDeps {
  readonly config: Config;
  // the command side
  readonly users: UserService;
  readonly captcha: Captcha;
  readonly loginThrottle: LoginThrottle;
  readonly revocations: RevocationList;
  readonly concerts: ConcertService;
  readonly bookings: BookingService;
  readonly payments: PaymentService;
  // the read side
  readonly concertReads: ConcertReads;
  readonly bookingReads: BookingReads;
  readonly waiter: ProjectionWaiter;
  readonly sources: ReadSources;
  readonly ids: LegacyIdReads;
}

export const legacyApi: FastifyPluginAsyncTypebox<LegacyApiDeps> = async (app, deps) => {
  // The older clients read `error` from every refusal; this scope's routes answer in its words.
  app.setErrorHandler(legacyErrorHandler);
  await app.register(legacyUserRoutes, deps);
  await app.register(legacyConcertRoutes, deps);
  await app.register(legacyBookingRoutes, deps);
};
