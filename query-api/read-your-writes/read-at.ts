/**
 * The read side of read-your-writes for a route: the position a reader asks for (`min_position`
 * in the query, the `X-Min-Position` header, or the `min_position` cookie a cookie-authenticated
 * command set), waited for before the route reads; `X-Projection-Position` on every answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { minimumOf } from '../../lib/http/min-position.ts';
import type { ReadSource, ReadSources } from '../../read-models/replicas.ts';
import type { ProjectionWaiter } from './waiter.ts';

// Shared with the command API's reads of the event store (lib/http/min-position.ts).
export { MinPositionQuery, minimumOf } from '../../lib/http/min-position.ts';

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
  return answeredAtOnceOr((request, reply) => {
    const source = sources.chooseNow(projection);
    const position = source?.position ?? waiter.knownPosition(projection);
    if (source === undefined || position === undefined) return false;
    request.readSource = source;
    void reply.header('X-Projection-Position', String(position));
    return true;
  }, slowly);
}

/**
 * A preHandler for reads that name no position and find everything known (`atOnce` answers true:
 * the hot path, without a promise), else waiting in `slowly` for the reader's position.
 */
function answeredAtOnceOr(
  atOnce: (request: FastifyRequest, reply: FastifyReply) => boolean,
  slowly: (request: FastifyRequest, reply: FastifyReply, minimum: number | undefined) => Promise<void>,
) {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    let minimum: number | undefined;
    try {
      minimum = minimumOf(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    request.minPosition = minimum;
    if (minimum === undefined && atOnce(request, reply)) {
      done();
      return;
    }
    slowly(request, reply, minimum).then(() => done(), done);
  };
}

/**
 * For a read of one projection that is not a read of its tables and must answer without MySQL
 * (the queue poll: the waiting room's board in Redis): waits until the projection has reached the
 * reader's position (or answers 503 PROJECTION_LAGGING); `X-Projection-Position` names its
 * position. A read that names no position, with the position known, needs no promise: the queue
 * poll is a crowd's. When the checkpoint cannot be read it names the last position learned (or
 * 0); a reader's position at or below it is answered, one beyond it is 503 PROJECTION_LAGGING at
 * once (nothing can show the projection reached it, and a browser carries its last write's
 * position in a cookie), never a 500.
 */
export function awaitProjectionOrLastKnown(waiter: ProjectionWaiter, projection: string) {
  const slowly = async (reply: FastifyReply, minimum: number | undefined): Promise<void> => {
    const reached = minimum === undefined
      ? await waiter.position(projection).catch(() => waiter.lastKnown(projection) ?? 0)
      : await waiter.reached(projection, minimum).catch((error: unknown) => {
        throw new AppError('PROJECTION_LAGGING', `the ${projection} read model cannot be shown to have reached position ${minimum}: its checkpoint cannot be read now; retry shortly`, { cause: error });
      });
    if (reached === undefined) throw new AppError('PROJECTION_LAGGING', `the ${projection} read model has not reached position ${minimum ?? 0} yet; retry shortly`);
    void reply.header('X-Projection-Position', String(reached));
  };
  return answeredAtOnceOr((_request, reply) => {
    const known = waiter.knownPosition(projection);
    if (known === undefined) return false;
    void reply.header('X-Projection-Position', String(known));
    return true;
  }, (_request, reply, minimum) => slowly(reply, minimum));
}
