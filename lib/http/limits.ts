/** Rate limits: per client address on a route, and per account from any address. */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

export type AccountLimit = (request: FastifyRequest, key: string) => Promise<void>;

/** `max` requests per `timeWindow` for one key, from any address; a no-op when RATE_LIMIT=off. */
export function accountLimit(app: FastifyInstance, config: Config, max: number, timeWindow: string): AccountLimit {
  if (!config.rateLimit) return async () => undefined;
  const keys = new WeakMap<FastifyRequest, string>();
  const check = app.createRateLimit({ max, timeWindow, keyGenerator: (request) => keys.get(request) ?? request.ip });
  return async (request, key) => {
    keys.set(request, key);
    const limit = await check(request);
    if (!limit.isAllowed && limit.isExceeded) {
      throw new AppError('RATE_LIMITED', 'too many attempts for this account; try again later', { retryAfterSeconds: limit.ttlInSeconds });
    }
  };
}

/** A route's per-IP rate limit, or none when RATE_LIMIT=off. */
export function routeLimit(config: Config, max: number, timeWindow: string): FastifyContextConfig {
  return config.rateLimit ? { rateLimit: { max, timeWindow } } : {};
}
