/**
 * Authentication for every role: HS256 access tokens (`sub`, `role`, `jti`, `gen`, short expiry)
 * read from `Authorization: Bearer …` or the `token` cookie, checked against the revocation list
 * and the user's current session record (lib/security/sessions.ts): a token of an older
 * generation (a password change, a role change, forget-me since) is refused, and the role and
 * the verified address are the user's now, not those of when the token was issued.
 * A state-changing request authenticated by cookie must come from an allowed Origin (CSRF).
 */
import { randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Role } from '../../domain/user/index.ts';
import type { RevocationList } from '../security/revocations.ts';
import { UNCHANGED, type Sessions } from '../security/sessions.ts';
import { AppError, forbidden, unauthorized } from '../errors.ts';

export interface Principal {
  readonly userId: string;
  readonly role: Role;
  readonly tokenId: string;
  /** When the token expires, epoch ms. */
  readonly expiresAt: number;
  readonly via: 'header' | 'cookie';
  /** The user's address is verified (now, not when the token was issued). */
  readonly emailVerified: boolean;
}

export interface IssuedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly expiresIn: number;
}

interface TokenClaims {
  sub: string;
  role: Role;
  jti: string;
  /** email verified at issue */
  ev?: boolean;
  /** The user's generation at issue; absent counts as 0. */
  gen?: number;
  exp?: number;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler: a signed-in user, else 401. */
    requireUser: (request: FastifyRequest) => Promise<void>;
    /** preHandler: a signed-in admin, else 401/403. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
    issueToken: (userId: string, role: Role, emailVerified: boolean, generation?: number) => IssuedToken;
    /** preHandler: door staff or an admin, else 401/403. */
    requireStaff: (request: FastifyRequest) => Promise<void>;
    /** Sets the `token` cookie for browser clients (HttpOnly, SameSite=Strict). */
    setTokenCookie: (reply: FastifyReply, token: IssuedToken) => void;
    clearTokenCookie: (reply: FastifyReply) => void;
  }
}

export interface AuthOptions {
  readonly secret: string;
  readonly ttlSeconds: number;
  readonly revocations: RevocationList;
  readonly sessions: Sessions;
  readonly allowedOrigins: readonly string[];
  /** Mark the cookie Secure (everywhere but development). */
  readonly secureCookies: boolean;
}

export const TOKEN_COOKIE = 'token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ROLES: ReadonlySet<string> = new Set(['customer', 'staff', 'admin']);

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyJwt, {
    secret: options.secret,
    sign: { algorithm: 'HS256', expiresIn: options.ttlSeconds },
    // Only HS256: a token signed with "none" or with another algorithm is not a token of ours.
    verify: { algorithms: ['HS256'] },
  });
  app.decorateRequest('principal', null);

  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const { token, via } = tokenOf(request);
    let claims: TokenClaims;
    try {
      claims = app.jwt.verify<TokenClaims>(token);
    } catch (error) {
      const expired = (error as { code?: string }).code === 'FAST_JWT_EXPIRED';
      throw unauthorized(expired ? 'the access token has expired; sign in again' : 'the access token is not valid');
    }
    const generation = claims.gen ?? 0;
    if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || !ROLES.has(claims.role) || typeof claims.exp !== 'number' || !Number.isSafeInteger(generation)) {
      throw unauthorized('the access token is not valid');
    }
    let revoked = false;
    try {
      revoked = await options.revocations.isRevoked(claims.jti);
    } catch (error) {
      // Redis down: tokens live 15 minutes, so staying up beats refusing everyone.
      request.log.warn({ err: error }, 'revocation list unavailable; token accepted unchecked');
    }
    if (revoked) throw unauthorized('this access token was signed out');
    let role = claims.role;
    let emailVerified = claims.ev === true;
    const session = await options.sessions.current(claims.sub);
    if (session !== UNCHANGED) {
      if (session === null || !session.active || session.generation !== generation) {
        throw unauthorized('this access token was ended by a change to the account; sign in again');
      }
      role = session.role;
      emailVerified = session.emailVerified;
    }
    if (via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      const origin = request.headers.origin;
      if (origin === undefined || !options.allowedOrigins.includes(origin)) {
        throw new AppError('CSRF_REJECTED', 'a cookie-authenticated change must come from an allowed origin');
      }
    }
    request.principal = { userId: claims.sub, role, tokenId: claims.jti, expiresAt: claims.exp * 1000, via, emailVerified };
  };

  app.decorate('requireUser', authenticate);
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    await authenticate(request);
    if (request.principal?.role !== 'admin') throw forbidden('only an admin may do this');
  });
  app.decorate('requireStaff', async (request: FastifyRequest) => {
    await authenticate(request);
    const role = request.principal?.role;
    if (role !== 'staff' && role !== 'admin') throw forbidden('only door staff may do this');
  });
  app.decorate('issueToken', (userId: string, role: Role, emailVerified: boolean, generation = 0): IssuedToken => {
    const tokenId = randomUUID();
    return { token: app.jwt.sign({ sub: userId, role, jti: tokenId, gen: generation, ...(emailVerified ? { ev: true } : {}) }), tokenId, expiresIn: options.ttlSeconds };
  });
  app.decorate('setTokenCookie', (reply: FastifyReply, issued: IssuedToken) => {
    void reply.setCookie(TOKEN_COOKIE, issued.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: options.secureCookies,
      path: '/',
      maxAge: issued.expiresIn,
    });
  });
  app.decorate('clearTokenCookie', (reply: FastifyReply) => {
    void reply.clearCookie(TOKEN_COOKIE, { httpOnly: true, sameSite: 'strict', secure: options.secureCookies, path: '/' });
  });
}

/** The signed-in caller of a route guarded by requireUser/requireAdmin. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw unauthorized();
  return request.principal;
}

function tokenOf(request: FastifyRequest): { token: string; via: 'header' | 'cookie' } {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header);
    if (match?.[1] === undefined) throw unauthorized('use "Authorization: Bearer <token>"');
    return { token: match[1], via: 'header' };
  }
  const cookie = request.cookies[TOKEN_COOKIE];
  if (cookie) return { token: cookie, via: 'cookie' };
  throw unauthorized();
}

export const authPlugin = fp(auth, { name: 'boxoffice-auth', dependencies: ['@fastify/cookie'] });
