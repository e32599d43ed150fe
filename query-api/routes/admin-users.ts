/** GET /api/v1/admin/users — the accounts, by username, optionally those beginning with `q`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { problemResponses } from '../../lib/http/schemas.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { PageQuery } from '../pagination.ts';
import { MinPositionQuery, readAt } from '../read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../read-your-writes/waiter.ts';
import { listUsers } from '../users/user-reads.ts';

const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String({ description: '`customer`, `staff` or `admin`' }),
  email_verified: Type.Boolean(),
  created_at: Type.String(),
});

export const adminUserListRoutes: FastifyPluginAsyncTypebox<{ waiter: ProjectionWaiter; sources: ReadSources }> = async (app, { waiter, sources }) => {
  app.get('/api/v1/admin/users', {
    schema: {
      tags: ['admin'],
      summary: 'Users by username; `q` keeps those whose username begins with it (any case)',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-zA-Z0-9_.-]+$', description: 'the beginning of a username, any case' })),
        ...PageQuery,
        ...MinPositionQuery,
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(User), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
    preHandler: [readAt(waiter, sources, 'users')],
  }, async (request) => {
    const { q, limit, cursor } = request.query;
    return request.readSource.run((db) => listUsers(db, { limit, ...(q === undefined ? {} : { q }), ...(cursor === undefined ? {} : { cursor }) }));
  });
};
