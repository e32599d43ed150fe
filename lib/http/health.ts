import type { FastifyPluginAsync } from 'fastify';
import { withTimeout } from '../timeout.ts';

/**
 * A dependency the role needs before it can serve: answers when healthy, throws when not. It may
 * answer with a word other than `ok` that a monitor should see while the role stays ready
 * (payments: `simulated` under the sandbox gateway).
 */
export type ReadinessCheck = () => Promise<void | string>;

export interface HealthOptions {
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** `/health/live`: the process runs. `/health/ready`: every dependency of this role answers. */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { checks }) => {
  app.get('/health/live', {
    schema: {
      response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
    },
  }, async () => ({ status: 'ok' }));

  app.get('/health/ready', {
    schema: {
      response: {
        '2xx': readinessBody,
        '5xx': readinessBody,
      },
    },
  }, async (request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          const said = await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, said ?? 'ok', true] as const;
        } catch (error) {
          request.log.warn({ err: error, dependency: name }, 'readiness check failed');
          return [name, 'unavailable', false] as const;
        }
      }),
    );
    const ready = results.every(([, , answered]) => answered);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results.map(([name, status]) => [name, status])) });
  });
};

const readinessBody = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['status', 'checks'],
} as const;
