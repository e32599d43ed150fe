/** GET /api/v1/queue/:token — the waiting room's status poll: the crowd's route, served from the board alone. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AppError } from '../../lib/errors.ts';
import { problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { QueueStatus } from '../queue/queue-status.ts';
import { awaitProjectionOrLastKnown, MinPositionQuery } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';

const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const QueueStatusAnswer = Type.Object({
  status: Type.Union([Type.Literal('waiting'), Type.Literal('admitted'), Type.Literal('sold_out'), Type.Literal('expired')]),
  position: Nullable(Type.Integer({ minimum: 1, description: '1-based place in lottery-then-arrival order; null until the lottery has run' })),
  ahead: Nullable(Type.Integer({ minimum: 0, description: 'places before this one not admitted yet; null unless waiting with a position' })),
  estimated_wait_seconds: Nullable(Type.Integer({ minimum: 0 })),
  pass: Nullable(Type.String({ description: 'the booking pass (Booking-Pass header) while admitted and unused' })),
  pass_expires_at: Nullable(Type.String()),
});

export const queueRoutes: FastifyPluginAsyncTypebox<{ queueStatus: QueueStatus; waiter: ProjectionWaiter }> = async (app, { queueStatus, waiter }) => {
  app.get('/api/v1/queue/:token', {
    // The board is the queue projection's: its position, awaited when the poller names one. The
    // poll answers from Redis alone, also while MySQL (the checkpoint) cannot be read.
    preHandler: awaitProjectionOrLastKnown(waiter, 'queue'),
    schema: {
      tags: ['waiting room'],
      summary: 'A waiting room place: position, people ahead, estimated wait, and the booking pass once admitted (poll again after Retry-After)',
      params: Type.Object({ token: UuidSchema }),
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      response: { 200: QueueStatusAnswer, ...problemResponses },
    },
  }, async (request, reply) => {
    const answer = await queueStatus.read(request.params.token);
    // A place joined a moment ago may not be on the board yet: asked again in a second, it is.
    if (answer === undefined) throw new AppError('NOT_FOUND', 'no such place in a waiting room (a place just taken shows within a moment)', { retryAfterSeconds: 1 });
    void reply.header('retry-after', answer.retryAfter);
    return answer;
  });
};
