/**
 * The embedded all-in-one HTTP server: every role's routes on one port. Built without listening,
 * so tests use `app.inject()`.
 */
import type { DestinationStream } from 'pino';
import { commandApi } from '../command-api/app.ts';
import { queryApi } from '../query-api/app.ts';
import { createHttpServer, type HttpServer } from './http/server-kit.ts';
import type { Services } from './services.ts';

export async function buildApp(services: Services, options: { logStream?: DestinationStream } = {}): Promise<HttpServer> {
  const app = await createHttpServer(services.config, {
    auth: { secret: services.secrets.jwtSecret, revocations: services.revocations },
    readiness: services.readiness,
    redis: services.redis,
    logStream: options.logStream,
  });
  await app.register(commandApi, services);
  await app.register(queryApi, { availability: services.availability, projections: services.projectors });
  return app;
}
