/**
 * The HTTP server of a process: every role's routes on one port (the embedded all-in-one), or
 * one role's (BOXOFFICE_ROLE). Built without listening, so tests use `app.inject()`.
 */
import type { DestinationStream } from 'pino';
import { commandApi } from '../command-api/app.ts';
import { queryApi } from '../query-api/app.ts';
import { plays } from '../lib/config.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server-kit.ts';
import type { Services } from './wiring/services.ts';

export async function buildApp(services: Services, options: { logStream?: DestinationStream } = {}): Promise<HttpServer> {
  const app = await createHttpServer(services.config, {
    auth: { secret: services.secrets.jwtSecret, revocations: services.revocations },
    readiness: services.readiness,
    redis: services.redis,
    metrics: services.metrics,
    logStream: options.logStream,
  });
  if (plays(services.config, 'command')) await app.register(commandApi, services);
  if (plays(services.config, 'query')) {
    await app.register(queryApi, {
      availability: services.availability,
      concerts: services.concertReads,
      bookings: services.bookingReads,
      projections: services.projectors,
      waiter: services.waiter,
      sources: services.readSources,
    });
  }
  return app;
}
