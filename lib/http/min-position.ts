/**
 * Read-your-writes, shared by both APIs: the position a reader asks for (`min_position` in the
 * query, the `X-Min-Position` header, or the `min_position` cookie a cookie-authenticated command set).
 */
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AppError } from '../errors.ts';

/**
 * Read-your-writes for browsers: the command API sets this cookie to the position of a
 * cookie-authenticated client's last write, and the query API waits for that position as if
 * the client had sent X-Min-Position. One name, shared by both.
 */
export const MIN_POSITION_COOKIE = 'min_position';

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
