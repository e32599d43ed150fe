/**
 * /api/v1/users: register, verify email, login, logout, profile. Each route declares its body,
 * query and response schemas; an unknown field or a wrong type is a 400 before a handler runs.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../../lib/http/auth.ts';
import Type from 'typebox';
import { normalizeUsername, RoleSchema } from '../../domain/user/index.ts';
import type { Config } from '../../lib/config.ts';
import { AppError, isRefusal, unauthorized } from '../../lib/errors.ts';
import { IdempotencyHeaders, PositionSchema, problemResponses, requestContext } from '../../lib/http/schemas.ts';
import { accountLimit, routeLimit } from '../../lib/http/limits.ts';
import { ADMITTED, type LoginThrottle } from '../../lib/security/login-throttle.ts';
import type { RevocationList } from '../../lib/security/revocations.ts';
import { requireSolvedCaptcha, type Captcha } from '../captcha/captcha.ts';
import type { UserService } from '../users/users.ts';
import type { ReadAtHead } from '../read-at-head.ts';
import { MinPositionQuery } from '../../lib/http/min-position.ts';
import { asHtml } from '../../lib/http/security-headers.ts';

export interface UserRoutesOptions {
  readonly config: Config;
  readonly users: UserService;
  readonly captcha: Captcha;
  readonly loginThrottle: LoginThrottle;
  readonly revocations: RevocationList;
  /** The profile is read from the event store: its position and min_position are the store's. */
  readonly atHead: ReadAtHead;
}

const Username = Type.String({ minLength: 3, maxLength: 50, pattern: '^[a-zA-Z0-9_.-]+$', description: '3-50 of a-z, A-Z, 0-9, _ . -; unique case-insensitively' });
const Email = Type.String({ format: 'email', maxLength: 254 });
const NewPassword = Type.String({ minLength: 10, maxLength: 256, description: 'at least 10 characters, not one of the most common passwords' });

export const ProfileSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
  email_verified: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'Profile' });

const ProfileAnswer = Type.Object({ ...ProfileSchema.properties, position: PositionSchema });

const RegisterBody = Type.Object({
  username: Username,
  email: Email,
  password: NewPassword,
  captcha_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
}, { additionalProperties: false });

const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 50 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  captcha_token: Type.Optional(Type.String({
    minLength: 1, maxLength: 8192, description: 'needed (with a CAPTCHA service configured) once the account has had many failed sign-ins; else `400 CAPTCHA_REQUIRED`',
  })),
}, { additionalProperties: false });

const TokenBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });

const ProfileUpdateBody = Type.Object({
  email: Type.Optional(Email),
  password: Type.Optional(NewPassword),
  current_password: Type.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false });

const tags = ['users'];
const bearer = [{ bearer: [] }];

/** Per-account limits key on a hash of the name: nobody's username sits in Redis. */
const accountKey = (username: string): string => createHash('sha256').update(normalizeUsername(username)).digest('hex');

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { config, users, captcha, loginThrottle, revocations, atHead }) => {
  const { limits } = config;
  const loginPerAccount = accountLimit(app, config, limits.loginPerMinutePerAccount, '1 minute');

  app.post('/api/v1/users/register', {
    config: routeLimit(config, limits.registerPerHourPerIp, '1 hour'),
    schema: {
      tags,
      summary: 'Create an account; a verification mail goes to the address. With an Idempotency-Key, the same request again answers the same account and appends nothing',
      headers: IdempotencyHeaders,
      body: RegisterBody,
      response: { 201: ProfileAnswer, ...problemResponses },
    },
  }, async (request, reply) => {
    const { username, email, password, captcha_token: captchaToken } = request.body;
    if (captcha.required) {
      if (captchaToken === undefined) throw new AppError('CAPTCHA_REQUIRED', 'solve the CAPTCHA and send its captcha_token');
      let passed: boolean;
      try {
        passed = await captcha.verify(captchaToken, request.ip);
      } catch (error) {
        request.log.error({ err: error }, 'CAPTCHA service unavailable');
        throw new AppError('CAPTCHA_UNAVAILABLE', 'the CAPTCHA check is unavailable; try again shortly');
      }
      if (!passed) throw new AppError('CAPTCHA_FAILED', 'the CAPTCHA was not solved');
    }
    const { profile, position } = await users.register({ username, email, password }, requestContext(request), request.headers['idempotency-key']);
    return reply.code(201).send({ ...profile, position });
  });

  app.post('/api/v1/users/verify-email', {
    schema: {
      tags,
      summary: 'Verify an email address with the token from the mail (works once)',
      body: TokenBody,
      response: { 200: Type.Object({ position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => users.verifyEmail(request.body.token, requestContext(request)));

  app.get('/api/v1/users/verify-email', {
    schema: {
      tags,
      summary: 'The link in the verification mail: verifies, then shows a page (or redirects to VERIFY_REDIRECT_URL)',
      querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    try {
      await users.verifyEmail(request.query.token, requestContext(request));
      return verificationAnswer(reply, config, 200, 'verified', 'Your email address is verified. You can book tickets now.');
    } catch (error) {
      if (isRefusal(error)) return verificationAnswer(reply, config, 400, error.code, error.message);
      throw error;
    }
  });

  app.post('/api/v1/users/verify-email/resend', {
    preHandler: app.requireUser,
    config: routeLimit(config, 5, '1 hour'),
    schema: {
      tags,
      summary: 'Send the verification mail again',
      security: bearer,
      response: { 202: Type.Object({ status: Type.Literal('sent') }), ...problemResponses },
    },
  }, async (request, reply) => {
    await users.resendVerification(principalOf(request).userId);
    return reply.code(202).send({ status: 'sent' as const });
  });

  app.post('/api/v1/users/login', {
    config: routeLimit(config, limits.loginPerMinutePerIp, '1 minute'),
    schema: {
      tags,
      summary: 'Sign in: an access token, also set as the HttpOnly `token` cookie',
      body: LoginBody,
      response: {
        200: Type.Object({
          access_token: Type.String(),
          token_type: Type.Literal('Bearer'),
          expires_in: Type.Integer(),
          user: ProfileSchema,
          position: PositionSchema,
        }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const { username, password, captcha_token: captchaToken } = request.body;
    const account = normalizeUsername(username);
    // Per account and address: counted per account from anywhere, a stranger used up the owner's share.
    await loginPerAccount(request, `login:${accountKey(username)}:${request.ip}`);
    // A guarded account (many failures from every address together) asks for the CAPTCHA where one
    // is configured; without one, the throttle makes addresses that already tried it wait instead.
    const guarded = await bestEffort(request, loginThrottle.guarded(account), false);
    const needsCaptcha = guarded && captcha.required;
    if (needsCaptcha && captchaToken === undefined) throw new AppError('CAPTCHA_REQUIRED', 'solve the CAPTCHA and send its captcha_token');
    // Counted before it is checked: over the limit, no password is evaluated.
    const admission = await bestEffort(request, loginThrottle.admit(account, request.ip, guarded && !captcha.required), ADMITTED);
    if (!admission.admitted) {
      throw new AppError('ACCOUNT_LOCKED', 'too many failed sign-ins to this account from this address; try again after the wait', {
        retryAfterSeconds: admission.retryAfterSeconds,
      });
    }
    if (needsCaptcha) await requireSolvedCaptcha(captcha, captchaToken, request.ip, request.log);
    const signedIn = await users.login(username, password, requestContext(request));
    if (signedIn === null) {
      await bestEffort(request, loginThrottle.failed(account), undefined);
      throw unauthorized('unknown username or wrong password');
    }
    await bestEffort(request, loginThrottle.succeeded(account, request.ip), undefined);
    const token = app.issueToken(signedIn.profile.id, signedIn.profile.role, signedIn.profile.email_verified, signedIn.generation);
    app.setTokenCookie(reply, token);
    return {
      access_token: token.token,
      token_type: 'Bearer' as const,
      expires_in: token.expiresIn,
      user: signedIn.profile,
      position: signedIn.position,
    };
  });

  app.post('/api/v1/users/logout', {
    preHandler: app.requireUser,
    schema: { tags, summary: 'Sign out: the token is revoked until it expires', security: bearer, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    await revocations.revoke(principal.tokenId, principal.expiresAt);
    app.clearTokenCookie(reply);
    return reply.code(204).send(null);
  });

  app.get('/api/v1/users/profile', {
    preHandler: [app.requireUser, atHead],
    schema: {
      tags, summary: 'Your account', security: bearer, querystring: Type.Object(MinPositionQuery, { additionalProperties: false }), response: { 200: ProfileSchema, ...problemResponses },
    },
  }, async (request) => {
    const profile = await users.profile(principalOf(request).userId);
    if (profile === null) throw unauthorized('this account no longer exists');
    return profile;
  });

  app.put('/api/v1/users/profile', {
    preHandler: app.requireUser,
    schema: {
      tags,
      summary: 'Change your email address and/or password (the current password is required)',
      security: bearer,
      body: ProfileUpdateBody,
      response: { 200: ProfileAnswer, ...problemResponses },
    },
  }, async (request) => {
    const { profile, position } = await users.updateProfile(principalOf(request).userId, request.body, requestContext(request));
    return { ...profile, position };
  });
};

/** The lockout counters live in Redis when configured; Redis down must not stop sign-ins. */
async function bestEffort<T>(request: FastifyRequest, work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    request.log.warn({ err: error }, 'login throttle unavailable');
    return fallback;
  }
}


const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The verification link's answer: a small page, or a redirect to the front end when configured. */
function verificationAnswer(reply: FastifyReply, config: Config, status: number, outcome: string, message: string): FastifyReply {
  if (config.verifyRedirectUrl !== null) {
    const target = new URL(config.verifyRedirectUrl);
    target.searchParams.set('status', status === 200 ? 'verified' : 'failed');
    if (status !== 200) target.searchParams.set('code', outcome);
    return reply.redirect(target.toString(), 302);
  }
  const title = status === 200 ? 'Email verified' : 'Verification failed';
  return asHtml(reply.code(status)).send(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1><p>${escapeHtml(message)}</p></body></html>`,
  );
}
