/**
 * How the legacy surface speaks HTTP beyond its routes: errors as `{"error": "<text>"}` (the
 * status from the one code table), read-your-writes for browsers without asking (the reads wait
 * for the position of the browser's last write, its `min_position` cookie, in every projection
 * they read, the integer ids' included), and the cookie a command leaves for them.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isRefusal } from '../lib/errors.ts';
import { MIN_POSITION_COOKIE } from '../lib/http/min-position.ts';
import { headersOf, statusOf } from '../lib/http/problem.ts';
import Type from 'typebox';
import { MinPositionQuery, minimumOf } from '../query-api/read-your-writes/read-at.ts';
import type { ProjectionWaiter } from '../query-api/read-your-writes/waiter.ts';
import type { ReadSource, ReadSources } from '../read-models/replicas.ts';

/** The older system's error body, with the status our code table gives the refusal. */
export function legacyErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isRefusal(error)) return reply.code(statusOf(error.code)).headers(headersOf(error)).send({ error: error.message });
  if (error.validation) return reply.code(400).send({ error: error.message });
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return reply.code(status).send({ error: error.message });
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ error: 'something went wrong on our side; it has been logged' });
}

export const LEGACY_IDS = 'legacy-ids';

/** Every item of a paginated read, page after page: the older API answers whole lists. */
export async function everyPage<T>(page: (cursor: string | undefined) => Promise<{ items: readonly T[]; next_cursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

/** The older services answered an empty list as `null`. */
export function legacyList<T>(items: T[]): T[] | null {
  return items.length === 0 ? null : items;
}

/**
 * The query string of a read: `min_position` checked as on the main API (without a schema it
 * came through as text, so `abc` was ignored and 20 digits waited out the timeout); anything
 * else the older clients add is let through, as the older services ignored it.
 */
export const LegacyReadQuery = Type.Object({ ...MinPositionQuery });

/** Waits until every projection named has reached `position`; PROJECTION_LAGGING when one does not in time. */
export async function waitFor(waiter: ProjectionWaiter, projections: readonly string[], position: number): Promise<void> {
  for (const projection of projections) {
    if (await waiter.reached(projection, position) === undefined) {
      throw new AppError('PROJECTION_LAGGING', `the ${projection} read model has not reached position ${position} yet; retry shortly`);
    }
  }
}

/**
 * Where a read goes once the projections it reads have reached the reader's position (its
 * `min_position` cookie, or X-Min-Position): a replica that holds it for the first projection
 * named, else the primary. `X-Projection-Position` names the position read.
 */
export async function readSource(
  request: FastifyRequest, reply: FastifyReply, waiter: ProjectionWaiter, sources: ReadSources, projections: readonly [string, ...string[]],
): Promise<ReadSource> {
  const minimum = minimumOf(request);
  if (minimum !== undefined) await waitFor(waiter, projections, minimum);
  const [first] = projections;
  // Several projections: only the primary is sure to hold every one of them at the position.
  const source = projections.length > 1 && minimum !== undefined ? await sources.choose(first, Number.MAX_SAFE_INTEGER) : await sources.choose(first, minimum);
  void reply.header('X-Projection-Position', String(source.position ?? await waiter.position(first)));
  return source;
}

/** A cookie-authenticated command leaves its position for the browser's next reads. */
export function rememberPosition(request: FastifyRequest, reply: FastifyReply, position: number, secure: boolean): void {
  if (request.principal?.via !== 'cookie') return;
  void reply.setCookie(MIN_POSITION_COOKIE, String(position), { path: '/', sameSite: 'strict', httpOnly: true, secure });
}
