/** /api/v1/admin/projections — lag and status of every read model, and blue/green rebuilds. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AppError, notFound } from '../../lib/errors.ts';
import { problemResponses } from '../../lib/http/schemas.ts';
import { RebuildInProgress, UnknownProjection, type ProjectionAdmin } from '../../read-models/projection-status.ts';
import { MinPositionQuery, minimumOf } from '../read-your-writes/read-at.ts';

const ProjectionAnswer = Type.Object({
  name: Type.String(),
  position: Type.Integer(),
  head_position: Type.Integer(),
  lag: Type.Integer(),
  status: Type.Union([Type.Literal('live'), Type.Literal('rebuilding'), Type.Literal('failed')]),
  rebuilt_at: Type.Union([Type.String(), Type.Null()]),
  rebuild: Type.Union([Type.Null(), Type.Object({
    phase: Type.String(),
    done: Type.Integer(),
    total: Type.Integer(),
    events_per_second: Type.Integer(),
    eta_seconds: Type.Union([Type.Integer(), Type.Null()]),
  })], { description: 'progress of the running (or last) rebuild in this process' }),
});

export const adminProjectionRoutes: FastifyPluginAsyncTypebox<{ projections: ProjectionAdmin }> = async (app, { projections }) => {
  /*
   * Read-your-writes (API.md: min_position, X-Min-Position and the cookie alike): this page is not
   * a read model a command writes, it reads the checkpoints and the store's head as they are now,
   * so it reflects every position up to the head it read. A reader's position is met once that
   * head has reached it; one beyond it was never answered (positions are answered once committed)
   * and is refused at once, as the command API's reads of the store refuse it. Waiting for the
   * projections instead kept the page away exactly when one had failed or lagged far behind (a
   * browser carries the cookie after any command), which is when an admin needs it.
   */
  app.get('/api/v1/admin/projections', {
    schema: {
      tags: ['admin'],
      summary: 'Position, head, lag and status of every projection',
      security: [{ bearer: [] }],
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      response: { 200: Type.Array(ProjectionAnswer), ...problemResponses },
    },
  }, async (request, reply) => {
    const minimum = minimumOf(request);
    const views = await projections.status();
    // X-Projection-Position: the head the page read (every view's head_position is at least it).
    const head = views.length === 0 ? 0 : Math.min(...views.map((view) => view.head_position));
    if (minimum !== undefined && head < minimum) throw new AppError('PROJECTION_LAGGING', `the event store has not reached position ${minimum}: no command answered it; retry shortly`);
    void reply.header('X-Projection-Position', String(head));
    return views.map((view) => ({
      ...view,
      rebuild: view.rebuild === null ? null : {
        phase: view.rebuild.phase,
        done: view.rebuild.done,
        total: view.rebuild.total,
        events_per_second: view.rebuild.eventsPerSecond,
        eta_seconds: view.rebuild.etaSeconds,
      },
    }));
  });

  app.post('/api/v1/admin/projections/:name/rebuild', {
    schema: {
      tags: ['admin'],
      summary: 'Rebuild a projection blue/green: reads keep the old tables until the new ones have caught up',
      security: [{ bearer: [] }],
      // The shape of every name the list shows (`legacy-ids` too); a name of that shape that is none of them is a 404.
      params: Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }) }),
      response: { 202: Type.Object({ name: Type.String(), status: Type.Literal('rebuilding') }), ...problemResponses },
    },
  }, async (request, reply) => {
    const { name } = request.params;
    try {
      await projections.startRebuild(name);
    } catch (error) {
      if (error instanceof UnknownProjection) throw notFound(`no projection named ${name}`);
      if (error instanceof RebuildInProgress) throw new AppError('REBUILD_IN_PROGRESS', `projection ${name} is already rebuilding`);
      throw error;
    }
    return reply.code(202).send({ name, status: 'rebuilding' });
  });
};
