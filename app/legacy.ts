/**
 * The listeners of LEGACY_PORTS: each a server of its own (the same security, CORS, cookies,
 * rate limits and health routes as the main one) with the older system's routes, built from the
 * services the main API's roles were given. Only a process that plays every role has both the
 * commands and the reads they need (lib/config.ts checkLegacyPorts refuses the rest).
 */
import { legacyApi } from '../legacy-api/app.ts';
import { LegacyIdReads } from '../legacy-api/legacy-ids.ts';
import type { ServerLogger } from '../lib/http/logger.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server-kit.ts';
import type { Wired } from './wiring/process.ts';

export async function buildLegacyApp(wired: Wired, logger: ServerLogger): Promise<HttpServer> {
  const { config, metrics, redis, rateLimitCounters } = wired.shared;
  const { command, query } = wired;
  if (command === undefined || query === undefined) throw new Error(`LEGACY_PORTS needs every role in one process; this one plays ${config.role}`);
  // Its routes take the older system's requests as LEGACY.md describes them, not API.md's strict ones.
  const app = await createHttpServer(config, { logger, auth: wired.auth, readiness: wired.readiness, redis, rateLimitCounters, metrics, strictInput: false });
  await app.register(legacyApi, {
    config,
    users: command.api.users,
    captcha: command.api.captcha,
    loginThrottle: command.api.loginThrottle,
    revocations: command.api.revocations,
    concerts: command.api.concerts,
    bookings: command.api.bookings,
    payments: command.api.payments,
    concertReads: query.api.concerts,
    bookingReads: query.api.bookings,
    waiter: query.api.waiter,
    sources: query.api.sources,
    ids: new LegacyIdReads(),
  });
  return app;
}

/** One listener per port of LEGACY_PORTS (none without it). */
export async function buildLegacyApps(wired: Wired, logger: ServerLogger): Promise<{ port: number; app: HttpServer }[]> {
  const ports = wired.shared.config.legacyPorts ?? [];
  return Promise.all(ports.map(async (port) => ({ port, app: await buildLegacyApp(wired, logger) })));
}
