/**
 * The read side of read-your-writes for a route: the position a reader asks for (`min_position`
 * in the query, the `X-Min-Position` header, or the `min_position` cookie a cookie-authenticated
 * command set), waited for before the route reads; `X-Projection-Position` on every answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AppError } from '../../lib/errors.ts';
import { MIN_POSITION_COOKIE } from '../../lib/http/min-position.ts';
import type { ReadSource, ReadSources } from '../../read-models/replicas.ts';
import type { ProjectionWaiter } from './waiter.ts';

/** The query property every read route accepts. */
export const MinPositionQuery = {
  min_position: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'answer only once the read model has reached this position (read-your-writes)' })),
};

const POSITION = /^[0-9]{1,15}$/;

export function minimumOf(request: FastifyRequest): number | undefined {
  const fromQuery = (request.query as { min_position?: number } | undefined)?.min_position;
  if (fromQuery !== undefined) return fromQuery;
  const header = request.headers['x-min-position'];
  if (header !== undefined) {
    if (typeof header !== 'string' || !POSITION.test(header.trim())) throw new AppError('VALIDATION_FAILED', 'X-Min-Position must be a position: a whole number');
    return Number(header.trim());
  }
  // A cookie is the browser's own memory of its last write: one that makes no sense is ignored.
  const cookie = request.cookies[MIN_POSITION_COOKIE];
  return cookie !== undefined && POSITION.test(cookie) ? Number(cookie) : undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The position this read must reflect, if the reader named one. */
    minPosition: number | undefined;
    /** Where this read reads: a replica in turn, or the primary (set by readAt). */
    readSource: ReadSource;
  }
}

/**
 * readAt for a route that reads several projections at once (a report): waits until each has
 * reached the reader's position (or answers 503 PROJECTION_LAGGING), then reads where all of them
 * hold it. It sets no `X-Projection-Position`: the route names the positions its rows came from.
 */
export function readAtAll(waiter: ProjectionWaiter, sources: ReadSources, projections: readonly [string, ...string[]]) {
  return async (request: FastifyRequest): Promise<void> => {
    const minimum = minimumOf(request);
    request.minPosition = minimum;
    if (minimum !== undefined) {
      const reached = await Promise.all(projections.map((projection) => waiter.reached(projection, minimum)));
      const lagging = projections.filter((_, i) => reached[i] === undefined);
      if (lagging.length > 0) {
        throw new AppError('PROJECTION_LAGGING', `the ${lagging.join(', ')} read model${lagging.length === 1 ? ' has' : 's have'} not reached position ${minimum} yet; retry shortly`);
      }
    }
    request.readSource = await sources.chooseForAll(projections, minimum);
  };
}

/**
 * A preHandler that waits for `projection` to reach the reader's position (or answers 503
 * PROJECTION_LAGGING), then chooses where the read goes: a replica that holds that position, the
 * primary otherwise. `X-Projection-Position` names the position of the source chosen.
 * A read that names no position usually needs nothing awaited: it is the hot path of a sale, so
 * that case is answered without a promise.
 */
export function readAt(waiter: ProjectionWaiter, sources: ReadSources, projection: string) {
  const slowly = async (request: FastifyRequest, reply: FastifyReply, minimum: number | undefined): Promise<void> => {
    let reached: number | undefined;
    if (minimum !== undefined) {
      reached = await waiter.reached(projection, minimum);
      if (reached === undefined) {
        throw new AppError('PROJECTION_LAGGING', `the ${projection} read model has not reached position ${minimum} yet; retry shortly`);
      }
    }
    request.readSource = await sources.choose(projection, minimum);
    const position = request.readSource.position ?? reached ?? await waiter.position(projection);
    void reply.header('X-Projection-Position', String(position));
  };
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    let minimum: number | undefined;
    try {
      minimum = minimumOf(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    request.minPosition = minimum;
    if (minimum === undefined) {
      const source = sources.chooseNow(projection);
      const position = source?.position ?? waiter.knownPosition(projection);
      if (source !== undefined && position !== undefined) {
        request.readSource = source;
        void reply.header('X-Projection-Position', String(position));
        done();
        return;
      }
    }
    slowly(request, reply, minimum).then(() => done(), done);
  };
}
