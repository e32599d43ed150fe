/**
 * Property-based fuzzing of every route (fast-check): random and hostile bodies, path params,
 * query strings and headers — wrong types, huge strings, unicode, negative and huge numbers,
 * `__proto__` / `constructor` keys, SQL and NoSQL injection strings in every string field — sent
 * as nobody, a customer or an admin. Whatever arrives: never a 5xx (a 503 only as
 * PROJECTION_LAGGING), every 4xx a problem+json body, and nothing appended on a 4xx.
 * `npm run test:hostile` runs many more cases than `npm test` (HOSTILE_RUNS).
 */
import fc from 'fast-check';
import t from 'tap';
import { testApp } from '../support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../support/booking.ts';
import { eventually } from '../support/eventually.ts';
import { bearer, newAccount, register } from '../support/users.ts';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 25);

const HOSTILE_STRINGS = [
  "' OR '1'='1' --", '"; DROP TABLE es_events; --', "1; SELECT SLEEP(5)", '{"$gt": ""}', '{"$where": "sleep(1000)"}', '$ne',
  '../../../../etc/passwd', '<script>alert(1)</script>', '\u0000', '\u202e\u0041', '𝕳𝖊𝖑𝖑𝖔 🎫 انا 你好', '${jndi:ldap://x/a}', '%00%0d%0a',
  '__proto__', 'constructor', 'prototype', 'NaN', 'Infinity', '-0', '1e309', '-1', '99999999999999999999999', '0x10',
  'a'.repeat(70_000), '9'.repeat(400), ' ', '',
];

/** Any JSON value a hostile client might put in a field. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.constantFrom(-1, 0, 1, 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, 0.5),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', '$gt')), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 3 }),
);

/** A body as raw text: a valid one with a field changed, dropped or added, a prototype-pollution key, or anything at all. */
function bodies(valid: Record<string, unknown> | undefined): fc.Arbitrary<string | undefined> {
  const sample = valid ?? {};
  const keys = Object.keys(sample);
  return fc.oneof(
    fc.record({ key: keys.length > 0 ? fc.constantFrom(...keys) : fc.string(), to: value }).map(({ key, to }) => JSON.stringify({ ...sample, [key]: to })),
    keys.length > 0 ? fc.constantFrom(...keys).map((key) => JSON.stringify(Object.fromEntries(Object.entries(sample).filter(([k]) => k !== key)))) : fc.constant('{}'),
    fc.record({ key: fc.string({ minLength: 1, maxLength: 12 }), to: value }).map(({ key, to }) => JSON.stringify({ ...sample, [key]: to })),
    fc.constantFrom('__proto__', 'constructor', 'prototype').map((key) => `{"${key}": {"role": "admin", "isAdmin": true}, ${JSON.stringify(sample).slice(1)}`.replace(', }', '}')),
    fc.anything().map((anything) => JSON.stringify(anything) ?? 'null'),
    fc.constantFrom('{', 'not json', '[]', '""', 'null', '{"a":1,"a":2}', '\u0000'),
    fc.constant(undefined),
  );
}

t.test('every route, fuzzed: no 5xx, problems on 4xx, nothing appended on a 4xx', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', READ_WAIT_TIMEOUT_MS: '50' });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 500 }]);
  const classId = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, classId, 1));
  const bookingId = booked.json<{ id: string }>().id;
  const paid = await app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(fan.token), payload: { booking_id: bookingId, payment_method: 'e_wallet' } });
  const payment = paid.json<{ id: string; transaction_id: string; amount: number }>();
  const account = await register(app);
  await eventually(async () => (await services.projector.projectors.status()).every((view) => view.lag === 0), 'projected');

  const valid: Record<string, Record<string, unknown>> = {
    'POST /api/v1/users/register': newAccount(),
    'POST /api/v1/users/login': { username: account.username, password: account.password },
    'POST /api/v1/users/verify-email': { token: 'abc.def' },
    'PUT /api/v1/users/profile': { current_password: 'not-the-password-1' },
    'POST /api/v1/bookings': byClass(concert.id, classId, 1),
    'POST /api/v1/payments': { booking_id: bookingId, payment_method: 'virtual_account' },
    'POST /api/v1/payments/webhook': { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount },
    'POST /api/v1/admin/concerts': { name: 'Fuzz', artist: 'Fuzz', date: '2099-01-01T00:00:00Z', venue: 'X', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] },
    'POST /api/v1/admin/concerts/{id}/cancel': { reason: 'fuzz' },
  };
  const validIds: Record<string, string> = { id: concert.id, stream: `concert-${concert.id}`, name: 'concerts', transaction: payment.transaction_id, outcome: 'pay' };
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> }>();
  const routes = [
    ...Object.entries(doc.paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(), path, query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    }))),
    { method: 'GET', path: '/sandbox/checkout/{transaction}', query: [] },
    { method: 'POST', path: '/sandbox/checkout/{transaction}/{outcome}', query: [] },
    { method: 'GET', path: '/metrics', query: [] },
  ].filter((route) => !route.path.startsWith('/docs') && route.path !== '/api/v1/admin/users/{id}/personal-data' && route.path !== '/api/v1/admin/projections/{name}/rebuild');
  t.ok(routes.length >= 25, `${routes.length} routes to fuzz`);

  const who = fc.constantFrom<(string | null)>(null, fan.token, admin, 'not.a.jwt', `${fan.token}x`);
  // Header values a client can send at all: printable ASCII (Node refuses the rest before we see it).
  const printable = (text: string): boolean => /^[ -~]*$/.test(text);
  const header = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS.filter((s) => printable(s) && s.length < 1000)), fc.string({ maxLength: 30 }).filter(printable));
  let requests = 0;
  let refused = 0;
  for (const route of routes) {
    const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
    await fc.assert(fc.asyncProperty(
      fc.record({
        params: fc.tuple(...names.map((name) => fc.oneof(fc.constant(validIds[name] ?? 'x'), fc.string({ maxLength: 40 }), fc.constantFrom(...HOSTILE_STRINGS.slice(0, 12))))),
        query: fc.dictionary(fc.oneof(fc.constantFrom(...route.query, 'min_position', 'limit'), fc.string({ maxLength: 8 })), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20)), fc.integer().map(String)), { maxKeys: 3 }),
        body: bodies(valid[`${route.method} ${route.path}`]),
        token: who,
        headers: fc.record({
          'content-type': fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
          'x-min-position': header,
          'idempotency-key': header,
          'x-forwarded-for': fc.constantFrom('1.2.3.4', '127.0.0.1, 10.0.0.1', 'not-an-ip'),
          cookie: fc.constantFrom('', 'min_position=abc', `token=${fan.token}`, 'token=garbage; min_position=99999999999'),
        }, { requiredKeys: [] }),
      }),
      async ({ params, query, body, token, headers }) => {
        let url = route.path;
        names.forEach((name, i) => (url = url.replace(`{${name}}`, encodeURIComponent(String(params[i])))));
        const search = new URLSearchParams(Object.entries(query).map(([key, v]): [string, string] => [key, String(v)])).toString();
        const before = await services.shared.store.headPosition();
        const response = await app.inject({
          method: route.method as 'GET',
          url: `${url}${search === '' ? '' : `?${search}`}`,
          headers: { ...headers, ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
          ...(body === undefined || route.method === 'GET' ? {} : { payload: body }),
        });
        requests++;
        const label = `${route.method} ${url} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
        if (response.statusCode >= 500 && !(response.statusCode === 503 && /PROJECTION_LAGGING|OVERLOADED/.test(response.body))) throw new Error(`5xx: ${label}`);
        // The verification link answers a person with a page (a link without a token is still a problem).
        const page = route.method === 'GET' && route.path === '/api/v1/users/verify-email' && String(response.headers['content-type']).startsWith('text/html');
        if (response.statusCode >= 400 && !page) {
          refused++;
          if (!String(response.headers['content-type']).startsWith('application/problem+json')) throw new Error(`not problem+json: ${label}`);
          const problem = response.json<Record<string, unknown>>();
          if (problem.status !== response.statusCode || typeof problem.type !== 'string' || typeof problem.title !== 'string'
            || typeof problem.detail !== 'string' || typeof problem.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(problem.code)
            || problem.error !== problem.detail) {
            throw new Error(`problem shape: ${label}`);
          }
          if (/at .*\.(ts|js):\d+|Error:|SELECT |INSERT |sqlMessage/.test(response.body)) throw new Error(`leaks internals: ${label}`);
          const after = await services.shared.store.headPosition();
          if (after !== before) throw new Error(`appended ${after - before} events on a ${response.statusCode}: ${label}`);
        }
      },
    ), { numRuns: RUNS, endOnFailure: true });
  }
  t.comment(`fuzz: ${requests} requests over ${routes.length} routes, ${refused} refused with a problem, none a 5xx`);
  t.pass(`${requests} fuzzed requests`);
  t.equal(made.logs.filter((line) => line.includes('"level":50')).length, 0, 'and nothing logged as an error');
});
