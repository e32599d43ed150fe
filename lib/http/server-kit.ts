/**
 * The HTTP server every role builds on: logging with redaction, request ids, strict validation
 * (TypeBox, no coercion of bodies, unknown fields refused), problem+json errors, security headers, CORS
 * from the allow-list, cookies, rate limiting, authentication, OpenAPI at /docs and the health
 * routes. Roles add their routes to what this returns.
 */
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifySchemaCompiler,
  type FastifySchemaValidationError,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { authPlugin, type AuthOptions } from './auth.ts';
import { healthRoutes, type ReadinessCheck } from './health.ts';
import { metricsRoutes } from './metrics-route.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ServerLogger } from './logger.ts';
import { API_SECURITY_HEADERS } from './security-headers.ts';
import { AppError } from '../errors.ts';
import { errorHandler, notFoundHandler } from './problem.ts';
import { acceptNoBodyWhereOptional } from './optional-body.ts';
import { refuseUnknownInput } from './strict-input.ts';
import { closeEachConnectionOnceAnswered } from './close-connections.ts';
import type { SharedRateLimitCounters } from './rate-limit-counters.ts';

export type HttpServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpServerDeps {
  /** The process's logger, made first (serverLogger), so everything built before the server logs through it too. */
  readonly logger: ServerLogger;
  /** How tokens are checked; a process that serves no signed-in user (the projector) has none. */
  readonly auth: Omit<AuthOptions, 'allowedOrigins' | 'secureCookies' | 'ttlSeconds'> | undefined;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Shared rate-limit counters across instances; in memory without it. */
  readonly redis?: Redis | undefined;
  /** Without Redis: the process's counters, shared with its other listeners (rate-limit-counters.ts). */
  readonly rateLimitCounters?: SharedRateLimitCounters | undefined;
  /** What /metrics reports. */
  readonly metrics: Metrics;
  /**
   * Whether routes that declare no query string or body refuse any (strict-input.ts); true unless
   * false. The older system's surface (LEGACY_PORTS) follows LEGACY.md's shapes, not API.md's.
   */
  readonly strictInput?: boolean;
}

export const BODY_LIMIT_BYTES = 64 * 1024;
/** The OpenAPI UI's pages (@fastify/swagger-ui's own routes and query strings). */
const DOCS_PREFIX = '/docs';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createHttpServer(config: Config, deps: HttpServerDeps): Promise<HttpServer> {
  const { root, childLoggerFactory } = deps.logger;
  const loggerInstance: FastifyBaseLogger = root;
  const app = Fastify({
    loggerInstance,
    childLoggerFactory,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // A caller's request id is kept when it is a plain token (it ends up in logs and events).
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  closeEachConnectionOnceAnswered(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Before the optional body's hook: the empty body it adds is one that may be left out.
  if (deps.strictInput !== false) refuseUnknownInput(app, { exceptUnder: [DOCS_PREFIX] });
  acceptNoBodyWhereOptional(app);
  // The security headers of a JSON answer (HTML pages add their own: security-headers.ts) and
  // the request id. A callback hook: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(API_SECURITY_HEADERS).header('x-request-id', request.id);
    done();
  });
  await app.register(cors, {
    origin: [...config.corsOrigins],
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Booking-Pass', 'X-Min-Position', 'X-Request-Id'],
    exposedHeaders: ['X-Projection-Position', 'Retry-After', 'X-Request-Id'],
  });
  await app.register(cookie);
  if (config.rateLimit) {
    await app.register(rateLimit, {
      global: false,
      // Redis down: serve without limits rather than fail every request.
      skipOnError: true,
      ...(deps.redis ? { redis: deps.redis, nameSpace: 'boxoffice:rate:' } : deps.rateLimitCounters ? { store: deps.rateLimitCounters.store } : {}),
      errorResponseBuilder: (_request, context) => new AppError('RATE_LIMITED', `too many requests; try again in ${context.after}`, {
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
    });
  }
  if (deps.auth !== undefined) {
    await app.register(authPlugin, {
      ...deps.auth,
      ttlSeconds: config.jwtTtlSeconds,
      allowedOrigins: config.corsOrigins,
      secureCookies: config.nodeEnv !== 'development',
    });
  }
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'boxoffice',
        description: 'Concert tickets, sold exactly once. Errors are RFC 9457 problem details with a stable `code`.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
  await app.register(healthRoutes, { checks: deps.readiness });
  await app.register(metricsRoutes, { metrics: deps.metrics, config });
  return app;
}


/**
 * TypeBox checks every part of a request. A body is checked as sent: a number in quotes is a
 * wrong type, not a number. Query strings, params and headers arrive as text, so they get their
 * defaults and are converted to the schema's types — only when the text does not already pass
 * as it is (the generic conversion walks the schema: the hot read path's params never need it).
 */
const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema);
  const failed = (input: unknown) => ({ error: [...validator.Errors(input)] as unknown as FastifySchemaValidationError[] });
  if (httpPart === 'body') return (value: unknown) => (validator.Check(value) ? { value } : failed(value));
  const hasDefaults = JSON.stringify(schema).includes('"default":');
  return (value: unknown) => {
    const defaulted = hasDefaults ? Value.Default(schema, Value.Clone(value)) : value;
    if (validator.Check(defaulted)) return { value: defaulted };
    const converted = Value.Convert(schema, hasDefaults ? defaulted : Value.Clone(value));
    return validator.Check(converted) ? { value: converted } : failed(converted);
  };
};
