import type { FastifyInstance } from 'fastify';

/**
 * A stop closes each connection once its request is answered: fastify's close shuts the idle
 * ones once, and a keep-alive connection whose request was in flight then would hold the process
 * for its keepAliveTimeout (72 s), past an orchestrator's grace period.
 */
export function closeEachConnectionOnceAnswered(app: FastifyInstance): void {
  let closingIdle: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closingIdle = setInterval(() => app.server.closeIdleConnections(), 100).unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(closingIdle);
    done();
  });
}
