/** DELETE /api/v1/admin/users/:id/personal-data — crypto-shreds a user's personal data on request. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { principalOf } from '../../lib/http/auth.ts';
import { notFound } from '../../lib/errors.ts';
import { PositionSchema, problemResponses, requestContext, UuidSchema } from '../../lib/http/schemas.ts';
import type { UserService } from '../users/users.ts';

export const adminUserRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (app, { users }) => {
  app.delete('/api/v1/admin/users/:id/personal-data', {
    schema: {
      tags: ['admin'],
      summary: "Forget a user's personal data: their key is deleted, so nothing sealed with it opens again; events stay and replay",
      security: [{ bearer: [] }],
      params: Type.Object({ id: UuidSchema }),
      response: { 200: Type.Object({ user_id: Type.String(), position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => {
    const forgotten = await users.forgetPersonalData(request.params.id, principalOf(request).userId, requestContext(request));
    if (forgotten === null) throw notFound('no such user');
    return { user_id: request.params.id, position: forgotten.position };
  });
};
