/**
 * The HTTP server of a process: the routes of every role it plays on one port (the embedded
 * all-in-one), or one role's. Built without listening, so tests use `app.inject()`. A projector
 * alone serves only /health and /metrics.
 */
import { commandApi } from '../command-api/app.ts';
import type { ServerLogger } from '../lib/http/logger.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server-kit.ts';
import { queryApi } from '../query-api/app.ts';
import type { Wired } from './wiring/process.ts';

export async function buildApp(wired: Wired, logger: ServerLogger): Promise<HttpServer> {
  const { config, metrics, redis, rateLimitCounters } = wired.shared;
  const app = await createHttpServer(config, { logger, auth: wired.auth, readiness: wired.readiness, redis, rateLimitCounters, metrics });
  if (wired.command !== undefined) await app.register(commandApi, wired.command.api);
  if (wired.query !== undefined) await app.register(queryApi, wired.query.api);
  return app;
}
