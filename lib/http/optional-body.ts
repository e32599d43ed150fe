/**
 * A route whose body is optional accepts none. fastify checks a route's body schema against
 * `undefined` when nothing is sent ("body must be object"), and its JSON parser refuses an empty
 * body sent as `Content-Type: application/json`. A route whose body schema accepts `{}` (every
 * field optional, e.g. POST /api/v1/admin/concerts/:id/cancel) or that has none takes either as
 * `{}`; a route whose body has required fields still refuses both (400).
 */
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';

const acceptsEmpty = new WeakMap<object, boolean>();

function acceptsNoBody(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema?.body as TSchema | undefined;
  return schema === undefined || acceptsEmptyObject(schema);
}

function acceptsEmptyObject(schema: TSchema): boolean {
  let accepts = acceptsEmpty.get(schema);
  if (accepts === undefined) {
    try {
      accepts = Value.Check(schema, {});
    } catch {
      accepts = false; // a schema Value cannot check alone (a reference): its body stays required
    }
    acceptsEmpty.set(schema, accepts);
  }
  return accepts;
}

export function acceptNoBodyWhereOptional(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '' && acceptsNoBody(request)) {
      done(null, {});
      return;
    }
    void parseJson(request, text, done);
  });
  // Only the routes that need it get the hook: the hot paths have required bodies.
  const noBodyIsEmpty: preValidationHookHandler = (request, _reply, done) => {
    request.body ??= {};
    done();
  };
  app.addHook('onRoute', (route) => {
    const schema = route.schema?.body as TSchema | undefined;
    if (schema === undefined || !acceptsEmptyObject(schema)) return;
    const own = route.preValidation;
    route.preValidation = own === undefined ? [noBodyIsEmpty] : [noBodyIsEmpty, ...(Array.isArray(own) ? own : [own])];
  });
}
