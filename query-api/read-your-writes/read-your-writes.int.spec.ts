import t, { type Test } from 'tap';
import { startNats } from '../../test/harness/servers.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, byClass, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { bearer, login, register } from '../../test/support/users.ts';

interface Availability {
  ticket_classes: { id: string; available: number }[];
  position: number;
}

async function sale(t: Test, env: Record<string, string>): Promise<{ made: TestApp; concert: Concert; classId: string }> {
  const made = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: uniqueName('ryw'), REQUIRE_EMAIL_VERIFICATION: 'false', READ_WAIT_TIMEOUT_MS: '3000', ...env });
  made.services.command.start();
  made.services.projector.start();
  const concert = await createConcert(made.app, await adminToken(made), [{ name: 'Festival', price: 750_000, total_seats_in_class: 50 }]);
  return { made, concert, classId: (concert.ticket_classes[0] as { id: string }).id };
}

const available = (body: Availability): number | undefined => body.ticket_classes[0]?.available;

t.test('a read that names the position of a write answers once the write is in it', async (t) => {
  const { made: { app }, concert, classId } = await sale(t, { NATS_URL: serviceUrl('NATS_URL') });
  const url = `/api/v1/concerts/${concert.id}/availability`;
  const fan = await customer(app);

  for (const [quantity, ask] of [[2, 'query'], [3, 'header']] as const) {
    const booked = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(fan.token), payload: byClass(concert.id, classId, quantity) });
    t.equal(booked.statusCode, 201);
    const { position, id } = booked.json<{ position: number; id: string }>();
    const read = ask === 'query'
      ? await app.inject({ method: 'GET', url: `${url}?min_position=${position}` })
      : await app.inject({ method: 'GET', url, headers: { 'x-min-position': String(position) } });
    t.equal(read.statusCode, 200, `min_position by ${ask}`);
    t.equal(available(read.json<Availability>()), 50 - quantity, 'the hold is in the answer, no polling needed');
    t.ok(Number(read.headers['x-projection-position']) >= position, 'X-Projection-Position covers the write');
    // Cancel to let the same user book again (one active booking per concert).
    const cancelled = await app.inject({ method: 'PUT', url: `/api/v1/bookings/${id}/cancel`, headers: bearer(fan.token) });
    t.equal(cancelled.statusCode, 200);
    const released = await app.inject({ method: 'GET', url: `${url}?min_position=${cancelled.json<{ position: number }>().position}` });
    t.equal(available(released.json<Availability>()), 50, "the cancel's position covers the release of its seats");
  }

  const started = Date.now();
  const lagging = await app.inject({ method: 'GET', url: `${url}?min_position=${Number.MAX_SAFE_INTEGER - 1}` });
  t.equal(lagging.statusCode, 503);
  t.equal(lagging.json<{ code: string }>().code, 'PROJECTION_LAGGING');
  t.equal(lagging.headers['retry-after'], '1');
  t.ok(Date.now() - started >= 2_900, 'it waited the configured timeout first');

  for (const bad of [{ url: `${url}?min_position=-1` }, { url: `${url}?min_position=soon` }, { url, headers: { 'x-min-position': 'soon' } }, { url: `${url}?position=3` }]) {
    const answer = await app.inject({ method: 'GET', ...bad });
    t.equal(answer.statusCode, 400, JSON.stringify(bad));
    t.equal(answer.json<{ code: string }>().code, 'VALIDATION_FAILED');
  }
  const plain = await app.inject({ method: 'GET', url });
  t.ok(Number(plain.headers['x-projection-position']) > 0, 'every read tells its position');
});

t.test("a browser's command sets the min_position cookie, and its next read honours it", async (t) => {
  const { made: { app }, concert, classId } = await sale(t, { NATS_URL: serviceUrl('NATS_URL') });
  const account = await register(app);
  const signedIn = await app.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username: account.username, password: account.password } });
  const tokenCookie = [signedIn.headers['set-cookie']].flat().find((c) => c?.startsWith('token='))?.split(';')[0] as string;
  const booked = await app.inject({
    method: 'POST', url: '/api/v1/bookings', payload: byClass(concert.id, classId, 4),
    headers: { cookie: tokenCookie, origin: 'http://localhost:5173' },
  });
  t.equal(booked.statusCode, 201);
  const position = booked.json<{ position: number }>().position;
  const minCookie = [booked.headers['set-cookie']].flat().find((c) => c?.startsWith('min_position='));
  t.ok(minCookie, 'the answer sets min_position');
  t.match(minCookie, new RegExp(`^min_position=${position};`));
  t.match(minCookie, /Path=\//);
  t.match(minCookie, /SameSite=Strict/);

  const read = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability`, headers: { cookie: `${tokenCookie}; ${minCookie?.split(';')[0]}` } });
  t.equal(read.statusCode, 200);
  t.equal(available(read.json<Availability>()), 46, 'the read waited for the write the cookie names');

  const withBearer = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(await login(app, await register(app))), payload: byClass(concert.id, classId, 1) });
  t.equal(withBearer.statusCode, 201);
  t.notOk([withBearer.headers['set-cookie']].flat().some((c) => c?.startsWith('min_position=')), 'API clients with a bearer token get no cookie');
  const garbled = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability`, headers: { cookie: 'min_position=tomorrow' } });
  t.equal(garbled.statusCode, 200, 'a cookie that makes no sense is ignored');
});

t.test('with NATS gone, read-your-writes still works by polling the checkpoints', async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const { made: { app, services }, concert, classId } = await sale(t, { NATS_URL: nats.url });
  await eventually(async () => services.shared.positions.connected, 'NATS connected');
  await nats.kill();
  await eventually(async () => !services.shared.positions.connected, 'NATS noticed gone');

  const fan = await customer(app);
  const booked = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(fan.token), payload: byClass(concert.id, classId, 5) });
  t.equal(booked.statusCode, 201);
  const read = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability?min_position=${booked.json<{ position: number }>().position}` });
  t.equal(read.statusCode, 200);
  t.equal(available(read.json<Availability>()), 45);
  const other = await customer(app);
  const again = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(other.token), payload: byClass(concert.id, classId, 1) });
  t.equal(again.statusCode, 201);
  const position = again.json<{ position: number }>().position;
  await eventually(async () => {
    const plain = await app.inject({ method: 'GET', url: '/api/v1/concerts?limit=1' });
    return Number(plain.headers['x-projection-position']) >= position;
  }, 'a read that names no position still reports a current position without NATS news');
});
