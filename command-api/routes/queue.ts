/** POST /api/v1/concerts/:id/queue: join the concert's waiting room (one place per account). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Config } from '../../lib/config.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { requireUuid } from '../../lib/http/authorization.ts';
import { accountLimit, routeLimit } from '../../lib/http/limits.ts';
import { problemResponses, requestContext } from '../../lib/http/schemas.ts';
import { requireSolvedCaptcha, type Captcha } from '../captcha/captcha.ts';
import type { WaitingRoomService } from '../queue/waiting-room.ts';

export interface QueueRoutesOptions {
  readonly config: Config;
  readonly captcha: Captcha;
  readonly waitingRoom: WaitingRoomService;
}

const Position = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'place in the queue (1 = next); null until the sale opens and the lottery has run' });
const Token = Type.String({ description: 'the place token: poll GET /api/v1/queue/:token' });

const Joined = Type.Object({ token: Token, status: Type.Literal('waiting'), position: Position });
const Place = Type.Object({
  token: Token,
  status: Type.Union([Type.Literal('waiting'), Type.Literal('admitted'), Type.Literal('expired'), Type.Literal('sold_out')]),
  position: Position,
});

export const queueRoutes: FastifyPluginAsyncTypebox<QueueRoutesOptions> = async (app, { config, captcha, waitingRoom }) => {
  const perAccount = accountLimit(app, config, config.limits.bookingsPerMinutePerAccount, '1 minute');

  app.post('/api/v1/concerts/:id/queue', {
    preHandler: app.requireUser,
    config: { ...routeLimit(config, config.limits.bookingsPerMinutePerIp, '1 minute'), positionIsQueuePlace: true },
    schema: {
      tags: ['bookings'],
      summary: "Join the concert's waiting room: 201 with a new place's token; the same account again: 200 with the place it has",
      security: [{ bearer: [] }],
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      body: Type.Optional(Type.Object({
        captcha_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'needed when a CAPTCHA service is configured; else `400 CAPTCHA_REQUIRED`' })),
      }, { additionalProperties: false })),
      response: { 200: Place, 201: Joined, ...problemResponses },
    },
  }, async (request, reply) => {
    requireUuid(request.params.id, 'concert');
    const principal = principalOf(request);
    await perAccount(request, `queue:${principal.userId}`);
    if (captcha.required) await requireSolvedCaptcha(captcha, request.body?.captcha_token, request.ip, request.log);
    const { joined, place } = await waitingRoom.join(principal, request.params.id, requestContext(request));
    // The place shows on the status board within a moment: its first poll, a second from now.
    return reply.code(joined ? 201 : 200).header('retry-after', '1').send(place);
  });
};
