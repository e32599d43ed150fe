import t from 'tap';
import Type from 'typebox';
import { loadOwned } from './authorization.ts';
import { kitServer } from '../../test/support/http-server.ts';

const ALICE = '0a0a0a0a-0000-4000-8000-00000000000a';
const BOB = '0b0b0b0b-0000-4000-8000-00000000000b';
const ADMIN = '0c0c0c0c-0000-4000-8000-00000000000c';
const ALICES_BOOKING = '1a1a1a1a-0000-4000-8000-000000000001';
const BROKEN = '2e2e2e2e-0000-4000-8000-000000000002';

t.test('by-id reads: 400 malformed, 404 missing or not yours, 500 on a store failure, admins see all', async (t) => {
  const logs: string[] = [];
  const app = await kitServer(t, { logs });
  const bookings = new Map([[ALICES_BOOKING, { id: ALICES_BOOKING, user_id: ALICE }]]);
  app.get('/bookings/:id', {
    preHandler: app.requireUser,
    schema: { params: Type.Object({ id: Type.String({ maxLength: 100 }) }) },
  }, async (request) => loadOwned(
    request.principal!,
    request.params.id,
    async (id) => {
      if (id === BROKEN) throw new Error('connect ECONNREFUSED 10.0.0.5:3306 (secret internals)');
      return bookings.get(id) ?? null;
    },
    (booking) => booking.user_id,
    'booking',
  ));
  await app.ready();
  const as = (user: string, role: 'customer' | 'admin' = 'customer') => ({ authorization: `Bearer ${app.issueToken(user, role, true).token}` });
  const get = (id: string, headers: Record<string, string>) => app.inject({ method: 'GET', url: `/bookings/${id}`, headers });

  const own = await get(ALICES_BOOKING, as(ALICE));
  t.equal(own.statusCode, 200);
  t.equal(own.json<{ id: string }>().id, ALICES_BOOKING);

  const malformed = await get('12345', as(ALICE));
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json<{ code: string }>().code, 'INVALID_ID');

  const someoneElses = await get(ALICES_BOOKING, as(BOB));
  const missing = await get('3f3f3f3f-0000-4000-8000-000000000003', as(BOB));
  t.equal(someoneElses.statusCode, 404);
  t.strictSame(someoneElses.json(), missing.json(), "someone else's looks exactly like a missing one");

  t.equal((await get(ALICES_BOOKING, as(ADMIN, 'admin'))).statusCode, 200, 'an admin reads anyone\'s');

  const failing = await get(BROKEN, as(ALICE));
  t.equal(failing.statusCode, 500);
  t.equal(failing.json<{ code: string }>().code, 'INTERNAL_ERROR');
  t.notMatch(failing.body, /ECONNREFUSED|secret internals|at /, 'no cause or stack in the answer');
  t.match(logs.join(''), /ECONNREFUSED/, 'the cause is logged');
  t.match(logs.join(''), new RegExp(failing.headers['x-request-id'] as string), 'with the request id');
});
