/** POST /api/v1/admin/refunds/:paymentId — pay a refund owed (or refused by the gateway before) now. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { principalOf } from '../../lib/http/auth.ts';
import { PositionSchema, problemResponses, requestContext, UuidSchema } from '../../lib/http/schemas.ts';
import type { RefundService } from '../payments/refunds.ts';

export const adminRefundRoutes: FastifyPluginAsyncTypebox<{ refunds: RefundService; now: () => Date }> = async (app, { refunds, now }) => {
  app.post('/api/v1/admin/refunds/:paymentId', {
    schema: {
      tags: ['admin'],
      summary: 'Pay a refund owed, or refused by the gateway before, now: a new attempt that the refunds reactor pays through the gateway',
      security: [{ bearer: [] }],
      params: Type.Object({ paymentId: UuidSchema }),
      response: {
        202: Type.Object({ payment_id: Type.String(), status: Type.Literal('refunding'), position: PositionSchema }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const context = { ...requestContext(request), actorId: principalOf(request).userId, occurredAt: now().toISOString() };
    const started = await refunds.startNow(request.params.paymentId, context);
    return reply.code(202).send({ payment_id: request.params.paymentId, status: 'refunding', position: started.position });
  });
};
