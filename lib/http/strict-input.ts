/**
 * Every query string and every request body is checked against a schema that refuses unknown
 * properties (API.md): a route that declares no query string gets an empty strict one, and a
 * state-changing route that declares no body an empty strict object, which still takes no body
 * at all (optional-body.ts: clients of POST /users/logout send none). So `?foo=1` or a body
 * `{"bogus": 1}` is `400 VALIDATION_FAILED` on every route, also on one added later without a schema.
 *
 * A route whose input is another party's format says so with `config.acceptsAnyInput` (a payment
 * gateway's notification, the metrics scrape); routes under an excepted prefix (the OpenAPI UI,
 * which is @fastify/swagger-ui's) and the CORS preflight (OPTIONS) are left as they are.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's query string and body follow another party's format: no strict schema is added for what it does not declare. */
    acceptsAnyInput?: boolean;
  }
}

const Nothing = Type.Object({}, { additionalProperties: false });
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function refuseUnknownInput(app: FastifyInstance, options: { readonly exceptUnder: readonly string[] }): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('OPTIONS') || route.config?.acceptsAnyInput === true) return;
    if (options.exceptUnder.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) return;
    const schema = { ...route.schema };
    schema.querystring ??= Nothing;
    if (methods.some((method) => STATE_CHANGING.has(method))) schema.body ??= Nothing;
    route.schema = schema;
  });
}
