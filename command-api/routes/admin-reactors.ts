/**
 * /api/v1/admin/reactors — each reactor's position, lag and parked events (what it could not
 * handle, with the reason), and the retry of what it parked: `reactors:status` and
 * `reactors:retry` over HTTP.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { notFound } from '../../lib/errors.ts';
import { problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { ReactorRunner } from '../reactors/runner.ts';
import type { ReadAtHead } from '../read-at-head.ts';
import { MinPositionQuery } from '../../lib/http/min-position.ts';

const ReactorStatusSchema = Type.Object({
  name: Type.String(),
  position: Type.Integer(),
  head_position: Type.Integer(),
  lag: Type.Integer(),
  parked_count: Type.Integer(),
  parked: Type.Array(Type.Object({
    event_id: Type.String(),
    position: Type.Integer(),
    stream: Type.String(),
    type: Type.String(),
    reason: Type.String(),
    tries: Type.Integer(),
    first_failed_at: Type.String({ format: 'date-time' }),
    last_failed_at: Type.String({ format: 'date-time' }),
  })),
});

export const adminReactorRoutes: FastifyPluginAsyncTypebox<{ reactors: readonly ReactorRunner[]; atHead: ReadAtHead }> = async (app, { reactors, atHead }) => {
  const named = (name: string): ReactorRunner => {
    const runner = reactors.find((candidate) => candidate.name === name);
    if (runner === undefined) throw notFound('no such reactor');
    return runner;
  };

  app.get('/api/v1/admin/reactors', {
    preHandler: atHead,
    schema: {
      tags: ['admin'],
      summary: 'Each reactor: position, head, lag, and the events it parked with the reason',
      security: [{ bearer: [] }],
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      response: { 200: Type.Array(ReactorStatusSchema), ...problemResponses },
    },
  }, async () => Promise.all(reactors.map((runner) => runner.status())));

  app.post('/api/v1/admin/reactors/:name/retry', {
    schema: {
      tags: ['admin'],
      summary: 'Hand parked events to their reactor again (one, or all): handled ones are unparked, failing ones stay with the new reason',
      security: [{ bearer: [] }],
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }),
      querystring: Type.Object({ event_id: Type.Optional(UuidSchema) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          reactor: Type.String(),
          retried: Type.Array(Type.Object({ event_id: Type.String(), handled: Type.Boolean(), reason: Type.Optional(Type.String()) })),
        }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const runner = named(request.params.name);
    const eventId = request.query.event_id;
    const retried = await runner.retry(eventId === undefined ? undefined : [eventId.toLowerCase()]);
    if (eventId !== undefined && retried.length === 0) throw notFound('no such parked event');
    return { reactor: runner.name, retried };
  });
};
