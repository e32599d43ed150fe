import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { healthRoutes, type ReadinessCheck } from './http/health.ts';
import { loggerOptions } from './http/logger.ts';

export interface AppDependencies {
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
}

/**
 * The embedded all-in-one HTTP server: every role's routes on one port. Built without listening,
 * so tests use `app.inject()`.
 */
export async function buildApp(config: Config, deps: AppDependencies = { readiness: {} }): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config),
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: 'x-request-id',
  });
  await app.register(healthRoutes, { checks: deps.readiness });
  return app;
}
