/**
 * API.md: every query string and request body is checked by a schema that refuses unknown
 * properties. This walks every route the all-in-one serves (command and query API, health) and
 * sends an otherwise valid request with `?zz_unknown=1`, and, for a state-changing route, one
 * whose body has an unknown field: both must be `400 VALIDATION_FAILED`, refused for that field.
 * A route added later without a schema fails here. The deliberate exceptions are named below.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { adminToken } from '../test/support/booking.ts';
import { testApp } from '../test/support/app.ts';
import { bearer, newAccount } from '../test/support/users.ts';

/** Routes whose input is another party's format (kept as they are on purpose). */
const EXCEPTIONS: Record<string, string> = {
  '/api/v1/payments/webhook': "the sandbox gateway's webhook, signed over its raw body",
  '/metrics': "a Prometheus scrape (also the route's own token check)",
  '/docs': "the OpenAPI UI's own pages (@fastify/swagger-ui)",
};
const isException = (url: string): boolean => Object.keys(EXCEPTIONS).some((prefix) => url === prefix || url.startsWith(`${prefix}/`) || url === `${prefix}*`);

/** A valid value of each path parameter, by its name (a new name: add it here). */
const PARAMS: Record<string, () => string> = {
  id: () => randomUUID(),
  token: () => randomUUID(),
  paymentId: () => randomUUID(),
  stream: () => `user-${randomUUID()}`,
  name: () => 'users',
  transaction: () => `sbx_${'0'.repeat(32)}`,
  outcome: () => 'pay',
};

const ISO = '2030-01-01T19:00:00.000Z';
const KTP = '3171234567890123';
/** What a route needs to pass its schema, beyond the path (a new route with a required body or query: add it here). */
const VALID: Record<string, { body?: Record<string, unknown>; query?: string }> = {
  'POST /api/v1/users/register': { body: newAccount() },
  'POST /api/v1/users/verify-email': { body: { token: 'x.y' } },
  'GET /api/v1/users/verify-email': { query: 'token=x.y' },
  'POST /api/v1/users/login': { body: { username: 'nobody', password: 'not-the-password' } },
  'PUT /api/v1/users/profile': { body: { current_password: 'not-the-password' } },
  'POST /api/v1/bookings': {
    body: {
      concert_id: randomUUID(),
      tickets_by_class: [{ ticket_class_id: randomUUID(), quantity: 1 }],
      buyer_info: { full_name: 'Test Buyer', phone_number: '081234567890', email: 'buyer@example.test', ktp_number: KTP },
    },
  },
  'POST /api/v1/admin/concerts': {
    body: { name: 'N', artist: 'A', date: ISO, venue: 'V', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] },
  },
  'POST /api/v1/admin/concerts/:id/ticket-classes': { body: { name: 'A', price: 1, total_seats_in_class: 1 } },
  'POST /api/v1/payments': { body: { booking_id: randomUUID(), payment_method: 'virtual_account' } },
  'PUT /api/v1/admin/users/:id/role': { body: { role: 'staff' } },
  'POST /api/v1/checkin': { body: { qr: 'BX1.x.y' } },
  'POST /api/v1/checkin/batch': { body: { scans: [{ qr: 'BX1.x.y', gate: 'A', scanned_at: ISO }] } },
  'POST /api/v1/tickets/:id/transfer': { body: { full_name: 'New Holder', ktp_number: KTP } },
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every method and full path in fastify's route tree, which nests a path under the route it
 * extends (`├── /api/v1/users/verify-email (GET, HEAD, POST)` then `│   └── /resend (POST)`).
 */
function routesOf(tree: string): { method: string; url: string }[] {
  const parents: string[] = [];
  return tree.split('\n').flatMap((line) => {
    const branch = /[├└]── /.exec(line);
    if (branch === null) return [];
    const depth = branch.index / 4;
    const [, segment = '', methods = ''] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(branch.index + 4)) ?? [];
    const url = (parents[depth - 1] ?? '') + segment;
    parents[depth] = url;
    parents.length = depth + 1;
    return methods.split(', ').filter((method) => method !== '' && method !== 'HEAD' && method !== 'OPTIONS').map((method) => ({ method, url }));
  });
}

t.test('every route refuses an unknown query parameter, and every state-changing one an unknown body field', async (t) => {
  const made = await testApp(t);
  const routes = routesOf(made.app.printRoutes({ commonPrefix: false }));
  t.ok(routes.length > 40, `found the routes (${routes.length})`);
  t.ok(routes.some((route) => route.url === '/api/v1/concerts/:id/availability'), 'the query API is walked');
  t.ok(routes.some((route) => route.url === '/api/v1/bookings' && route.method === 'POST'), 'the command API is walked');
  t.ok(routes.some((route) => route.url === '/health/live'), 'the health routes are walked');

  for (const { method, url } of routes) {
    if (isException(url)) continue;
    const name = `${method} ${url}`;
    const path = url.replace(/:([A-Za-z]+)/g, (_, param: string) => {
      const value = PARAMS[param];
      if (value === undefined) throw new Error(`${name}: add a valid value of :${param} to PARAMS`);
      return value();
    });
    const valid = VALID[name] ?? {};
    const hasBody = STATE_CHANGING.has(method);
    // A token of its own: a logout let through revokes the one it was sent with.
    const token = await adminToken(made);
    const send = (query: string, body: Record<string, unknown> | undefined) => made.app.inject({
      method: method as 'GET', // one of fastify's methods, as printRoutes named it
      url: `${path}?${[valid.query, query].filter(Boolean).join('&')}`,
      headers: bearer(token),
      ...(body === undefined ? {} : { payload: body }),
    });
    const expectRefused = (response: Awaited<ReturnType<typeof send>>, part: 'querystring' | 'body') => {
      t.equal(response.statusCode, 400, `${name} with an unknown ${part} property: status`);
      t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`);
      // A request let through may answer anything (204 without a body): only a refusal is read as a problem.
      t.match(response.statusCode === 400 ? response.json() : { status: response.statusCode }, { code: 'VALIDATION_FAILED', detail: new RegExp(`^${part}\\b[^]*must not have additional properties`) }, `${name}: refused for the ${part}'s unknown property`);
    };
    expectRefused(await send('zz_unknown=1', hasBody ? valid.body : undefined), 'querystring');
    if (hasBody) expectRefused(await send('', { ...valid.body, zz_unknown: 1 }), 'body');
  }
});

t.test('a state-changing route without a body of its own still takes none', async (t) => {
  const made = await testApp(t);
  const token = await adminToken(made);
  const logout = await made.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(token) });
  t.equal(logout.statusCode, 204, 'no body at all');
  const other = await adminToken(made);
  const empty = await made.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: { ...bearer(other), 'content-type': 'application/json' }, payload: '' });
  t.equal(empty.statusCode, 204, 'an empty JSON body');
  const third = await adminToken(made);
  const object = await made.app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(third), payload: {} });
  t.equal(object.statusCode, 204, 'an empty object');
});
