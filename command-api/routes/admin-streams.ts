/**
 * /api/v1/admin/streams/:stream — a stream's events in order, with their metadata (audit). Secrets
 * (a password's hash) are shown as `[redacted]`; sealed personal data as its envelope.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { EventStore } from '../../eventstore/port.ts';
import { problemResponses } from '../../lib/http/schemas.ts';
import { redactSecrets } from '../../lib/security/redact.ts';
import { MinPositionQuery } from '../../lib/http/min-position.ts';
import type { ReadAtHead } from '../read-at-head.ts';

const StreamEvent = Type.Object({
  position: Type.Integer(),
  revision: Type.Integer(),
  event_id: Type.String(),
  type: Type.String(),
  data: Type.Unknown(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  recorded_at: Type.String({ format: 'date-time' }),
});

export const adminStreamRoutes: FastifyPluginAsyncTypebox<{ store: EventStore; atHead: ReadAtHead }> = async (app, { store, atHead }) => {
  app.get('/api/v1/admin/streams/:stream', {
    // The head seen before the stream is read: the page holds every event of the stream up to it.
    preHandler: atHead,
    schema: {
      tags: ['admin'],
      summary: "A stream's events in order with their metadata (audit)",
      security: [{ bearer: [] }],
      params: Type.Object({ stream: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^$\\s][^\\s]*$' }) }),
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the next_cursor of the previous page' })),
        ...MinPositionQuery,
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ stream: Type.String(), items: Type.Array(StreamEvent), next_cursor: Type.Union([Type.String(), Type.Null()]) }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const { stream } = request.params;
    const { limit, cursor } = request.query;
    const events = await store.readStream(stream, { fromRevision: cursor === undefined ? 0 : Number(cursor), maxCount: limit + 1 });
    const page = events.slice(0, limit);
    const next = events[limit];
    return {
      stream,
      items: page.map((event) => ({
        position: event.position,
        revision: event.revision,
        event_id: event.id,
        type: event.type,
        data: redactSecrets(event.data),
        metadata: redactSecrets(event.metadata) as Record<string, unknown>,
        recorded_at: event.recordedAt,
      })),
      next_cursor: next === undefined ? null : String(next.revision),
    };
  });
};
