/**
 * The command API: routes that change state. `commandApi` registers them on a server built by
 * src/http/server-kit.ts: the embedded all-in-one (src/app.ts) today, a command role of its own
 * when the roles run apart.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EventStore } from '../eventstore/port.ts';
import { ConfigError, SETTINGS, type Config } from '../lib/config.ts';
import { MIN_POSITION_COOKIE } from '../lib/http/min-position.ts';
import type { LoginThrottle } from '../lib/security/login-throttle.ts';
import type { RevocationList } from '../lib/security/revocations.ts';
import type { Captcha } from './captcha/captcha.ts';
import { readAtHead } from './read-at-head.ts';
import type { BookingService } from './bookings/bookings.ts';
import type { ConcertService } from './concerts/concerts.ts';
import type { PaymentService } from './payments/payments.ts';
import type { RefundService } from './payments/refunds.ts';
import { adminRefundRoutes } from './routes/admin-refunds.ts';
import type { ReactorRunner } from './reactors/runner.ts';
import { adminReactorRoutes } from './routes/admin-reactors.ts';
import { adminStreamRoutes } from './routes/admin-streams.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { adminConcertRoutes, bookingRoutes } from './routes/bookings.ts';
import type { PaymentGateway } from './payments/gateway.ts';
import { gatewayWebhookRoutes } from './routes/gateway-webhook.ts';
import { paymentRoutes, sandboxCheckoutRoutes, sandboxWebhookRoutes } from './routes/payments.ts';
import { userRoutes } from './routes/users.ts';
import { doorRoutes } from './routes/door.ts';
import { queueRoutes } from './routes/queue.ts';
import type { WaitingRoomService } from './queue/waiting-room.ts';
import type { Door } from './tickets/door.ts';
import type { TicketCodes } from '../lib/tickets/ticket-codes.ts';
import type { UserService } from './users/users.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer's `position` is a place in a waiting room's queue: no read-your-writes cookie is set from it. */
    positionIsQueuePlace?: boolean;
  }
}

export interface CommandApiDeps {
  /** Names the gateway chosen (`paymentGatewayOf`): the sandbox's routes exist only when it is the sandbox. */
  readonly config: Config;
  readonly store: EventStore;
  readonly users: UserService;
  readonly captcha: Captcha;
  readonly loginThrottle: LoginThrottle;
  readonly revocations: RevocationList;
  readonly concerts: ConcertService;
  readonly bookings: BookingService;
  readonly payments: PaymentService;
  /** Pays money owed back through the gateway (an admin's retry starts a new attempt). */
  readonly refunds: RefundService;
  readonly now: () => Date;
  readonly webhookSecret: string;
  /**
   * Who takes the money: the sandbox (its pages and HMAC webhook), or a real gateway (its webhook
   * at /api/v1/payments/webhook/<name>); `none` (an operator's command that reaches no gateway) is never served.
   */
  readonly gateway: { readonly name: 'sandbox' | 'midtrans' | 'none'; readonly gateway: PaymentGateway };
  /** The reactors' runners: their status and the retry of what they parked. */
  readonly reactors: readonly ReactorRunner[];
  /** Check-in and transfers; the keys tickets' QR codes are signed with. */
  readonly door: Door;
  readonly ticketCodes: TicketCodes;
  /** Joining a concert's waiting room. */
  readonly waitingRoom: WaitingRoomService;
}

export const commandApi: FastifyPluginAsyncTypebox<CommandApiDeps> = async (app, deps) => {
  if (deps.gateway.name === 'none') throw new ConfigError(SETTINGS.paymentGateway.variable, 'must be set to serve the command routes: midtrans takes real payments, sandbox pays nothing (free tickets)');
  // A browser (cookie-authenticated) sees its own writes without asking: its later reads carry
  // the position of its last command, as if it sent X-Min-Position.
  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    // A waiting room's answer names a place in its queue, not a position of the event store.
    if (request.routeOptions.config.positionIsQueuePlace === true) return payload;
    const position = (payload as { position?: unknown } | null)?.position;
    if (request.principal?.via === 'cookie' && reply.statusCode < 300 && typeof position === 'number') {
      void reply.setCookie(MIN_POSITION_COOKIE, String(position), {
        path: '/', sameSite: 'strict', httpOnly: true, secure: deps.config.nodeEnv !== 'development',
      });
    }
    return payload;
  });
  // The reads answered from the event store: X-Projection-Position and min_position are the store's.
  const atHead = readAtHead(deps.store);
  await app.register(userRoutes, { ...deps, atHead });
  await app.register(bookingRoutes, deps);
  await app.register(paymentRoutes, deps);
  await app.register(doorRoutes, { door: deps.door, codes: deps.ticketCodes, now: deps.now, atHead });
  await app.register(queueRoutes, { config: deps.config, captcha: deps.captcha, waitingRoom: deps.waitingRoom });
  if (deps.gateway.name === 'sandbox') {
    // The sandbox pays nothing: its checkout pages and its webhook exist only where it is the gateway.
    await app.register(sandboxWebhookRoutes, deps);
    await app.register(sandboxCheckoutRoutes, deps);
  } else {
    // A real gateway's notifications, checked its own way and confirmed by asking it.
    await app.register(gatewayWebhookRoutes, { ...deps.gateway, payments: deps.payments, store: deps.store });
  }
  // Everything under /api/v1/admin answers admins only.
  await app.register(async (admin) => {
    admin.addHook('onRequest', admin.requireAdmin);
    await admin.register(adminStreamRoutes, { store: deps.store, atHead });
    await admin.register(adminConcertRoutes, { concerts: deps.concerts });
    await admin.register(adminUserRoutes, { users: deps.users });
    await admin.register(adminRefundRoutes, { refunds: deps.refunds, now: deps.now });
    await admin.register(adminReactorRoutes, { reactors: deps.reactors, atHead });
  });
};
