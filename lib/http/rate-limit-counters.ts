/**
 * Rate-limit counters kept in memory and shared by every listener of one process (the main port
 * and each of LEGACY_PORTS). Without Redis, @fastify/rate-limit counts per fastify instance, so an
 * address got each route's limit once per port: four times the registrations, sign-ins and
 * bookings with LEGACY_PORTS=8080,8081,8082. Keys name the route as its Redis store does
 * (method and path), so the same route on every listener draws on one count.
 */
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

interface Window {
  current: number;
  startMs: number;
  windowMs: number;
}

/** The most keys kept; past it, the expired go first, then the oldest, down to a tenth below it (a sweep is not paid at every new key). */
const MAX_KEYS = 50_000;
const KEPT_AFTER_SWEEP = 45_000;

export interface SharedRateLimitCounters {
  /** The store class for the rate-limit plugin's `store` option: every instance built from it counts in these counters. */
  readonly store: FastifyRateLimitStoreCtor;
}

export function sharedRateLimitCounters(now: () => number = Date.now): SharedRateLimitCounters {
  const windows = new Map<string, Window>();

  const prune = (nowMs: number): void => {
    for (const [key, window] of windows) if (window.startMs + window.windowMs <= nowMs) windows.delete(key);
    for (const key of windows.keys()) {
      if (windows.size <= KEPT_AFTER_SWEEP) break;
      windows.delete(key);
    }
  };

  const counter = (prefix: string): FastifyRateLimitStore => ({
    incr(key, callback, timeWindow) {
      const nowMs = now();
      const name = `${prefix}${key}`;
      let window = windows.get(name);
      if (window === undefined || window.startMs + window.windowMs <= nowMs) {
        window = { current: 0, startMs: nowMs, windowMs: timeWindow };
        windows.delete(name); // re-inserted last: the map stays oldest first
        windows.set(name, window);
        if (windows.size > MAX_KEYS) prune(nowMs);
      }
      window.current += 1;
      callback(null, { current: window.current, ttl: window.startMs + window.windowMs - nowMs });
    },
    child(routeOptions) {
      // routeInfo is the route (method and url); a limit made by createRateLimit has none and keys on its own.
      const route = (routeOptions as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
      const method = Array.isArray(route?.method) ? route.method.join(',') : route?.method ?? '';
      return counter(`${method}${route?.url ?? ''}-`);
    },
  });

  const root = counter('');
  // The plugin constructs its store with `new`; every construction is a view of the same counters.
  const store = function SharedStore(_options: FastifyRateLimitOptions) {
    return root;
  } as unknown as FastifyRateLimitStoreCtor;
  return { store };
}
