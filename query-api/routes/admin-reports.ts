/**
 * GET /api/v1/admin/concerts/:id/report — a concert's sales per ticket class and in total, as
 * JSON, or as CSV (`Accept: text/csv` or `?format=csv`). The figures come from four read models
 * read in one snapshot; `positions` names where each stood, and `X-Projection-Position` the
 * lowest of them (every figure reflects at least that position).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { notFound } from '../../lib/errors.ts';
import { problemResponses, UuidSchema } from '../../lib/http/schemas.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { MinPositionQuery, readAtAll } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import { REPORT_PROJECTIONS, salesReport, salesReportCsv } from '../reports/sales-report.ts';

const Rupiah = Type.Integer({ minimum: 0, description: 'rupiah' });
const Count = Type.Integer({ minimum: 0 });

const Figures = {
  capacity: Count,
  sold: Type.Integer({ minimum: 0, description: 'seats sold (booked)' }),
  held: Type.Integer({ minimum: 0, description: 'seats held by pending bookings (reserved)' }),
  available: Count,
  revenue: Type.Integer({ minimum: 0, description: "rupiah: the seat prices of the confirmed bookings" }),
  refunds_due: Type.Integer({ minimum: 0, description: 'rupiah owed back: refund_due, refunding or refund_failed' }),
  refunds_paid: Type.Integer({ minimum: 0, description: 'rupiah paid back: refunded' }),
  admitted: Type.Integer({ minimum: 0, description: 'tickets admitted at the door' }),
};

const SalesReport = Type.Object({
  concert: Type.Object({ id: Type.String(), name: Type.String() }),
  positions: Type.Object(Object.fromEntries(REPORT_PROJECTIONS.map((name) => [name, Type.Integer({ minimum: 0 })])) as Record<(typeof REPORT_PROJECTIONS)[number], ReturnType<typeof Type.Integer>>, {
    description: 'the position each read model had reached in the snapshot the figures come from',
  }),
  ticket_classes: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), price: Rupiah, ...Figures })),
  total: Type.Object(Figures),
});

/** CSV when asked by `format`, else when the Accept header names text/csv before JSON. */
function wantsCsv(request: FastifyRequest, format: 'json' | 'csv' | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  const types = (request.headers.accept ?? '').split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv !== -1 && (json === -1 || csv < json);
}

export const adminReportRoutes: FastifyPluginAsyncTypebox<{ waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { waiter, sources }) => {
  app.get('/api/v1/admin/concerts/:id/report', {
    schema: {
      tags: ['admin'],
      summary: "A concert's sales per ticket class and in total: capacity, sold, held, available, revenue, refunds due and paid, admitted",
      description: 'JSON, or CSV with a header row, one row per class and a TOTAL row (`Accept: text/csv` or `format=csv`).',
      security: [{ bearer: [] }],
      params: Type.Object({ id: UuidSchema }),
      querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])), ...MinPositionQuery }, { additionalProperties: false }),
      response: {
        200: { content: { 'application/json': { schema: SalesReport }, 'text/csv': { schema: Type.String() } } },
        ...problemResponses,
      },
    },
    preHandler: readAtAll(waiter, sources, REPORT_PROJECTIONS),
  }, async (request, reply) => {
    const report = await request.readSource.run((db) => salesReport(db, request.params.id.toLowerCase()));
    if (report === undefined) throw notFound('no such concert');
    void reply.header('X-Projection-Position', String(Math.min(...Object.values(report.positions))));
    if (!wantsCsv(request, request.query.format)) return reply.type('application/json; charset=utf-8').send(report);
    return reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="sales-${report.concert.id}.csv"`)
      .send(salesReportCsv(report));
  });
};
