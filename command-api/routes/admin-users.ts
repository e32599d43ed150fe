/**
 * DELETE /api/v1/admin/users/:id/personal-data — crypto-shreds a user's personal data on request.
 * PUT /api/v1/admin/users/:id/role — gives a user another role; their existing tokens stop working.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { RoleSchema } from '../../domain/user/index.ts';
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

  app.put('/api/v1/admin/users/:id/role', {
    schema: {
      tags: ['admin'],
      summary: "Give a user another role (customer, staff, admin); the user's existing tokens stop working",
      security: [{ bearer: [] }],
      params: Type.Object({ id: UuidSchema }),
      body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
      response: { 200: Type.Object({ user_id: Type.String(), role: RoleSchema, position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => {
    const changed = await users.changeRole(request.params.id, request.body.role, principalOf(request).userId, requestContext(request));
    if (changed === null) throw notFound('no such user');
    return { user_id: request.params.id, role: changed.role, position: changed.position };
  });
};
