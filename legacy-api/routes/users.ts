/**
 * The older user-service's routes: register (with `confirmPassword`), login (the `token` cookie
 * and `{message, user}`), logout, and the profile with an integer id. The same UserService the
 * main API uses decides everything.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { normalizeUsername } from '../../domain/user/index.ts';
import { requireSolvedCaptcha, type Captcha } from '../../command-api/captcha/captcha.ts';
import type { Profile, UserService } from '../../command-api/users/users.ts';
import type { Config } from '../../lib/config.ts';
import { AppError, unauthorized } from '../../lib/errors.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { accountLimit, routeLimit } from '../../lib/http/limits.ts';
import { requestContext } from '../../lib/http/schemas.ts';
import { ADMITTED, type LoginThrottle } from '../../lib/security/login-throttle.ts';
import type { RevocationList } from '../../lib/security/revocations.ts';
import type { ProjectionWaiter } from '../../query-api/read-your-writes/waiter.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { LEGACY_IDS, rememberPosition, waitFor } from '../http.ts';
import type { LegacyIdReads } from '../legacy-ids.ts';
import { ErrorBody, legacyProfile, LegacyProfile, MessageBody } from '../shapes.ts';

export interface LegacyUserRoutesOptions {
  readonly config: Config;
  readonly users: UserService;
  readonly captcha: Captcha;
  readonly revocations: RevocationList;
  readonly loginThrottle: LoginThrottle;
  readonly ids: LegacyIdReads;
  readonly waiter: ProjectionWaiter;
  readonly sources: ReadSources;
}

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

/** As the main API keys its per-account sign-in limit (a hash of the name), so both draw on one count. */
const accountKey = (username: string): string => createHash('sha256').update(normalizeUsername(username)).digest('hex');

export const legacyUserRoutes: FastifyPluginAsyncTypebox<LegacyUserRoutesOptions> = async (app, { config, users, captcha, revocations, loginThrottle, ids, waiter, sources }) => {
  const secure = config.nodeEnv !== 'development';
  const loginPerAccount = accountLimit(app, config, config.limits.loginPerMinutePerAccount, '1 minute');
  /** The profile with its number, once the legacy-ids projection has numbered the user. */
  const numbered = async (profile: Profile, position: number): Promise<LegacyProfile> => {
    await waitFor(waiter, [LEGACY_IDS], position);
    const source = await sources.choose(LEGACY_IDS, position);
    const number = await source.run((db) => ids.number(db, 'user', profile.id));
    if (number === undefined) throw new AppError('PROJECTION_LAGGING', 'this account has no number on the older API yet; retry shortly');
    return legacyProfile(profile, number);
  };

  app.post('/api/v1/users/register', {
    config: routeLimit(config, config.limits.registerPerHourPerIp, '1 hour'),
    schema: {
      tags: ['legacy'],
      body: Type.Object({
        username: Type.String({ minLength: 3, maxLength: 50, pattern: '^[a-zA-Z0-9_.-]+$' }),
        email: Type.String({ format: 'email', maxLength: 254 }),
        password: Type.String({ minLength: 10, maxLength: 256 }),
        confirmPassword: Type.String({ maxLength: 256 }),
        // The older front end sends none: where a CAPTCHA is configured, it cannot register here (as on the main API).
        captcha_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
      }, { additionalProperties: false }),
      response: { 201: LegacyProfile, ...errors },
    },
  }, async (request, reply) => {
    const { username, email, password, confirmPassword, captcha_token: captchaToken } = request.body;
    if (confirmPassword !== password) throw new AppError('VALIDATION_FAILED', 'confirmPassword must be the same as password');
    if (captcha.required) await requireSolvedCaptcha(captcha, captchaToken, request.ip, request.log);
    const { profile, position } = await users.register({ username, email, password }, requestContext(request));
    return reply.code(201).send(await numbered(profile, position));
  });

  app.post('/api/v1/users/login', {
    config: routeLimit(config, config.limits.loginPerMinutePerIp, '1 minute'),
    schema: {
      tags: ['legacy'],
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 50 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ message: Type.String(), user: LegacyProfile }), ...errors },
    },
  }, async (request, reply) => {
    const { username, password } = request.body;
    const account = normalizeUsername(username);
    await loginPerAccount(request, `login:${accountKey(username)}:${request.ip}`);
    // The main API's lockout, without its CAPTCHA step (the older front end has none to show).
    const guarded = await loginThrottle.guarded(account).catch(() => false);
    const admission = await loginThrottle.admit(account, request.ip, guarded).catch(() => ADMITTED);
    if (!admission.admitted) {
      throw new AppError('ACCOUNT_LOCKED', 'too many failed sign-ins to this account from this address; try again after the wait', { retryAfterSeconds: admission.retryAfterSeconds });
    }
    const signedIn = await users.login(username, password, requestContext(request));
    if (signedIn === null) {
      await loginThrottle.failed(account).catch(() => undefined);
      throw unauthorized('invalid username or password');
    }
    await loginThrottle.succeeded(account, request.ip).catch(() => undefined);
    const { profile, generation, position } = signedIn;
    app.setTokenCookie(reply, app.issueToken(profile.id, profile.role, profile.email_verified, generation));
    return { message: 'Login successful', user: await numbered(profile, position) };
  });

  app.post('/api/v1/users/logout', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], response: { 200: MessageBody, ...errors } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    await revocations.revoke(principal.tokenId, principal.expiresAt);
    app.clearTokenCookie(reply);
    return { message: 'Logout successful' };
  });

  app.get('/api/v1/users/profile', {
    preHandler: app.requireUser,
    schema: { tags: ['legacy'], response: { 200: LegacyProfile, ...errors } },
  }, async (request) => {
    const profile = await users.profile(principalOf(request).userId);
    if (profile === null) throw unauthorized('this account no longer exists');
    return numbered(profile, 0);
  });

  /**
   * The older profile page sends back what it showed (`{id, username, email}`). A username never
   * changes and the id is the caller's; a new email address or password needs the current
   * password, as on the main API (the older page has no field for it: it is told so).
   */
  app.put('/api/v1/users/profile', {
    preHandler: app.requireUser,
    schema: {
      tags: ['legacy'],
      body: Type.Object({
        id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
        username: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
        password: Type.Optional(Type.String({ minLength: 10, maxLength: 256 })),
        current_password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      }, { additionalProperties: false }),
      response: { 200: LegacyProfile, ...errors },
    },
  }, async (request, reply) => {
    const { id, username, email, password, current_password: currentPassword } = request.body;
    const userId = principalOf(request).userId;
    const now = await users.profile(userId);
    if (now === null) throw unauthorized('this account no longer exists');
    const shown = await numbered(now, 0);
    if (id !== undefined && id !== shown.id) throw new AppError('VALIDATION_FAILED', 'id must be your own');
    if (username !== undefined && normalizeUsername(username) !== normalizeUsername(now.username)) throw new AppError('VALIDATION_FAILED', 'a username cannot be changed');
    const newEmail = email !== undefined && email.trim().toLowerCase() !== now.email?.toLowerCase() ? email : undefined;
    if (newEmail === undefined && password === undefined) return shown;
    if (currentPassword === undefined) throw new AppError('VALIDATION_FAILED', 'current_password is required to change the email address or the password');
    const { profile, position } = await users.updateProfile(userId, {
      ...(newEmail === undefined ? {} : { email: newEmail }), ...(password === undefined ? {} : { password }), current_password: currentPassword,
    }, requestContext(request));
    rememberPosition(request, reply, position, secure);
    return numbered(profile, position);
  });
};
