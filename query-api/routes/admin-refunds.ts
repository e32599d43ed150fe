/** GET /api/v1/admin/refunds — the money owed back, being paid back, paid back or refused by the gateway. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { problemResponses } from '../../lib/http/schemas.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { PageQuery } from '../pagination.ts';
import { listRefunds } from '../payments/refund-reads.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';

const RefundStatus = Type.Union([Type.Literal('refund_due'), Type.Literal('refunding'), Type.Literal('refunded'), Type.Literal('refund_failed')]);

const Refund = Type.Object({
  payment_id: Type.String(),
  booking_id: Type.String(),
  amount: Type.Integer({ description: 'rupiah' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: "the gateway's reason when refund_failed; else why the money is owed back" }),
  status: RefundStatus,
  updated_at: Type.String(),
});

export const adminRefundRoutes: FastifyPluginAsyncTypebox<{ waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { waiter, sources }) => {
  app.get('/api/v1/admin/refunds', {
    schema: {
      tags: ['admin'],
      summary: 'Refunds owed, being paid, paid and refused, oldest change first',
      security: [{ bearer: [] }],
      querystring: Type.Object({ status: Type.Optional(RefundStatus), ...PageQuery, ...MinPositionQuery }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Refund), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
    preHandler: [readAt(waiter, sources, 'payments')],
  }, async (request) => {
    const { status, limit, cursor } = request.query;
    return request.readSource.run((db) => listRefunds(db, { ...(status === undefined ? {} : { status }), limit, ...(cursor === undefined ? {} : { cursor }) }));
  });
};
