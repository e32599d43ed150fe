/** GET /api/v1/concerts/:id/availability — the hot path of a sale: seats left per ticket class. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { notFound } from '../../lib/errors.ts';
import { problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { AvailabilityReader } from '../concerts/availability.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import type { ReadSources } from '../../read-models/replicas.ts';

const AvailabilityAnswer = Type.Object({
  concert_id: Type.String(),
  ticket_classes: Type.Array(Type.Object({ id: Type.String(), available: Type.Integer({ minimum: 0 }) })),
  position: Type.Integer({ minimum: 0, description: 'position of the last event these counts include' }),
});

export const availabilityRoutes: FastifyPluginAsyncTypebox<{ availability: AvailabilityReader; waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { availability, waiter, sources }) => {
  app.get('/api/v1/concerts/:id/availability', {
    schema: {
      tags: ['concerts'],
      summary: 'Seats available per ticket class, live (Redis, with a MySQL fallback)',
      params: Type.Object({ id: UuidSchema }),
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      response: { 200: AvailabilityAnswer, ...problemResponses },
    },
    preHandler: readAt(waiter, sources, 'concerts'),
  }, async (request, reply) => {
    const answer = await availability.read(request.params.id, request.readSource, request.minPosition);
    if (answer === undefined) throw notFound('no such concert');
    // The position these very counts are true at (the cache may trail the projection a little).
    void reply.header('X-Projection-Position', String(answer.position));
    return { concert_id: answer.concertId, ticket_classes: [...answer.classes], position: answer.position };
  });
};
