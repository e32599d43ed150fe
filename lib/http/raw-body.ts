/**
 * A webhook's signature covers the exact bytes sent: within the given scope, JSON bodies are
 * parsed as usual and their bytes kept, for the signature check to read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export function keepRawJsonBodies(scope: FastifyInstance): (request: FastifyRequest) => Buffer | undefined {
  const raw = new WeakMap<FastifyRequest, Buffer>();
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  // The server's own JSON parser (optional-body.ts) is replaced within this scope only.
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    raw.set(request, body as Buffer);
    void parseJson(request, (body as Buffer).toString('utf8'), done);
  });
  return (request) => raw.get(request);
}
