/**
 * `/metrics` in Prometheus text format, and the hook that times every request by its route
 * pattern (`/api/v1/bookings/:id`, never the URL with its ids).
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../observability/metrics.ts';

const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'no route', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
};

export const metricsRoutes = fp(metricsPlugin, { name: 'boxoffice-metrics' });
