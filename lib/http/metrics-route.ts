/**
 * `/metrics` in Prometheus text format, and the hook that times every request by its route
 * pattern (`/api/v1/bookings/:id`, never the URL with its ids).
 *
 * Not for the public: with METRICS_PORT set, /metrics is served only by a listener of its own
 * (`metricsServer`, bound to METRICS_HOST, 127.0.0.1 unless told) and the API port answers 404
 * for it; with METRICS_TOKEN set, it needs `Authorization: Bearer <METRICS_TOKEN>` wherever it is
 * served. The embedded default, with neither, keeps it on the API port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { closeEachConnectionOnceAnswered } from './close-connections.ts';
import { AppError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { errorHandler, notFoundHandler } from './problem.ts';
import { API_SECURITY_HEADERS } from './security-headers.ts';

type MetricsConfig = Pick<Config, 'metrics'>;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the request carries the token: compared in constant time (digests of equal length). */
function bearerMatches(request: FastifyRequest, expected: Buffer): boolean {
  const match = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1] ?? ''), expected);
}

function addMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string | null): void {
  const expected = token === null ? null : digest(token);
  app.get('/metrics', {
    schema: { hide: true },
    // A scraper's request, whatever it adds.
    config: { acceptsAnyInput: true },
    onRequest: (request, _reply, done) => {
      if (expected === null || bearerMatches(request, expected)) return done();
      done(new AppError('UNAUTHORIZED', 'send Authorization: Bearer <METRICS_TOKEN>'));
    },
  }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}

const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics; config: MetricsConfig }> = async (app, { metrics, config }) => {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'no route', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (config.metrics.port === null) addMetricsRoute(app, metrics, config.metrics.token);
};

/** The request timing of the API server, and /metrics on its port unless METRICS_PORT moves it. */
export const metricsRoutes = fp(metricsPlugin, { name: 'boxoffice-metrics' });

/** With METRICS_PORT: the server of its own that serves /metrics and nothing else (not listening yet); null without. */
export async function metricsServer(config: MetricsConfig, metrics: Metrics, logger: FastifyBaseLogger): Promise<FastifyInstance | null> {
  if (config.metrics.port === null) return null;
  // A scrape every few seconds is no news: its requests are not logged.
  const app = Fastify({ loggerInstance: logger, disableRequestLogging: true });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // A scrape in flight when the process stops must not keep its connection, and the process, open.
  closeEachConnectionOnceAnswered(app);
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(API_SECURITY_HEADERS);
    done();
  });
  addMetricsRoute(app, metrics, config.metrics.token);
  await app.ready();
  return app;
}
