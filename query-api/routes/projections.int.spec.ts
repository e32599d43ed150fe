import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { startRedis } from '../../test/harness/servers.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { caughtUp } from '../../test/support/projections.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { bearer } from '../../test/support/users.ts';

interface Availability {
  concert_id: string;
  ticket_classes: { id: string; available: number }[];
  position: number;
}
interface View {
  name: string;
  position: number;
  head_position: number;
  lag: number;
  status: string;
  rebuilt_at: string | null;
}

t.test('commands reach the availability route through the projector, from Redis or from MySQL', async (t) => {
  const prefix = uniqueName('q');
  const made = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix, REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'VIP', price: 2_000_000, total_seats_in_class: 20 }, { name: 'Festival', price: 750_000, total_seats_in_class: 80 }]);
  const [vip, festival] = concert.ticket_classes as [Concert['ticket_classes'][number], Concert['ticket_classes'][number]];
  const availability = async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability` });
    return { response, body: response.json<Availability>() };
  };

  const first = await eventually(async () => {
    const answer = await availability();
    return answer.response.statusCode === 200 && answer.body.position >= concert.position ? answer : undefined;
  }, 'the concert projected');
  t.same(first.body.ticket_classes, [{ id: vip.id, available: 20 }, { id: festival.id, available: 80 }], 'classes in their order, all seats available');
  t.equal(first.response.headers['x-projection-position'], String(first.body.position));

  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, festival.id, 3));
  t.equal(booked.statusCode, 201);
  const position = booked.json<{ position: number }>().position;
  const after = await eventually(async () => {
    const answer = await availability();
    return answer.body.position >= position ? answer : undefined;
  }, 'the hold projected');
  t.same(after.body.ticket_classes, [{ id: vip.id, available: 20 }, { id: festival.id, available: 77 }]);
  t.ok(await services.shared.redis?.exists(`${prefix}:seats:g1:avail:${concert.id}`), 'served from the Redis seat cache');

  await services.shared.redis?.del(`${prefix}:seats:g1:avail:${concert.id}`);
  const fallback = await availability();
  t.equal(fallback.response.statusCode, 200, 'a missing cache key is no error');
  t.same(fallback.body.ticket_classes, after.body.ticket_classes, 'MySQL gives the same answer');
  t.ok(fallback.body.position >= position, 'at a position that covers the booking');

  const missing = await app.inject({ method: 'GET', url: `/api/v1/concerts/${randomUUID()}/availability` });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json<{ code: string }>().code, 'NOT_FOUND');
  const malformed = await app.inject({ method: 'GET', url: '/api/v1/concerts/not-a-uuid/availability' });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.headers['content-type'], 'application/problem+json; charset=utf-8');
});

t.test('admins see every projection with its lag, and rebuild one; nobody else may', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  await createConcert(app, admin);

  const views = await eventually(async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) });
    const body = response.json<View[]>();
    return response.statusCode === 200 && body.every((view) => view.lag === 0) ? body : undefined;
  }, 'projections caught up');
  const head = await services.shared.store.headPosition();
  t.same(views.map((view) => [view.name, view.position, view.head_position, view.lag, view.status, view.rebuilt_at]),
    ['users', 'concerts', 'bookings', 'payments', 'tickets', 'legacy-ids', 'queue'].map((name) => [name, head, head, 0, 'live', null]));

  const fan = await customer(app);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(fan.token) })).statusCode, 403);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/projections' })).statusCode, 401);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/admin/projections/users/rebuild', headers: bearer(fan.token) })).statusCode, 403);

  const started = await app.inject({ method: 'POST', url: '/api/v1/admin/projections/users/rebuild', headers: bearer(admin) });
  t.equal(started.statusCode, 202);
  t.same(started.json(), { name: 'users', status: 'rebuilding' });
  const rebuilt = await eventually(async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) });
    const users = response.json<(View & { rebuild: { phase: string; done: number; total: number } | null })[]>().find((view) => view.name === 'users');
    return users?.status === 'live' && users.rebuilt_at !== null && users.rebuild?.phase === 'done' ? users : undefined;
  }, 'the users projection rebuilt');
  t.match(rebuilt.rebuild, { phase: 'done', done: rebuilt.position }, 'the last rebuild is reported');

  // Every name the list shows can be rebuilt by that name, `legacy-ids` with its hyphen too.
  for (const { name } of views.filter((view) => view.name !== 'users')) {
    const again = await app.inject({ method: 'POST', url: `/api/v1/admin/projections/${name}/rebuild`, headers: bearer(admin) });
    t.equal(again.statusCode, 202, `${name}: ${again.body}`);
    t.same(again.json(), { name, status: 'rebuilding' });
    await eventually(async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) });
      const view = response.json<View[]>().find((candidate) => candidate.name === name);
      return view?.status === 'live' && view.rebuilt_at !== null && view.lag === 0 ? view : undefined;
    }, `the ${name} projection rebuilt`);
  }

  const unknown = await app.inject({ method: 'POST', url: '/api/v1/admin/projections/nope/rebuild', headers: bearer(admin) });
  t.equal(unknown.statusCode, 404);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/admin/projections/no-such-ids/rebuild', headers: bearer(admin) })).statusCode, 404, 'a name of the same shape: unknown, 404');
  const bad = await app.inject({ method: 'POST', url: '/api/v1/admin/projections/Bad-Name!/rebuild', headers: bearer(admin) });
  t.equal(bad.statusCode, 400);
});

t.test("the queue's board, lost with Redis's data, comes back by a rebuild: its events replayed into it (found as an attacker would)", async (t) => {
  const prefix = uniqueName('bo');
  const made = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix, REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, undefined, { waiting_room: true, sales_open_at: new Date(Date.now() + 3_600_000).toISOString() });
  const fan = await customer(app);
  const joined = await app.inject({ method: 'POST', url: `/api/v1/concerts/${concert.id}/queue`, headers: bearer(fan.token) });
  t.equal(joined.statusCode, 201);
  const token = joined.json<{ token: string }>().token;
  const poll = () => app.inject({ method: 'GET', url: `/api/v1/queue/${token}` });
  const before = await eventually(async () => { const answer = await poll(); return answer.statusCode === 200 && answer.json(); }, 'the place on the board');

  const redis = made.services.shared.redis!;
  const keys = await redis.keys(`${prefix}:queue:*`);
  t.ok(keys.length >= 2, 'the place and its concert are in Redis');
  await redis.del(...keys);
  t.equal((await poll()).statusCode, 404, 'Redis lost them: the place is unknown');

  const rebuilt = await app.inject({ method: 'POST', url: '/api/v1/admin/projections/queue/rebuild', headers: bearer(admin) });
  t.equal(rebuilt.statusCode, 202);
  const after = await eventually(async () => { const answer = await poll(); return answer.statusCode === 200 && answer.json(); }, 'the place back on the board');
  t.same(after, before, 'as it was');
  const view = (await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) })).json<View[]>().find((each) => each.name === 'queue');
  t.ok(view?.rebuilt_at !== null, 'the rebuild is recorded');
});

/** An app on a Redis of its own, every role running, and a concert of 30 seats served from the seat cache. */
async function concertOnOwnRedis(t: Test) {
  const redis = await startRedis();
  t.teardown(async () => {
    redis.resume();
    await redis.stop();
  });
  const made = await testApp(t, { REDIS_URL: redis.url, REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const concert = await createConcert(app, await adminToken(made), [{ name: 'Festival', price: 750_000, total_seats_in_class: 30 }]);
  const url = `/api/v1/concerts/${concert.id}/availability`;
  await eventually(async () => (await app.inject({ method: 'GET', url: `${url}?min_position=${concert.position}` })).statusCode === 200, 'projected');
  const cacheKey = `boxoffice:seats:g1:avail:${concert.id}`;
  t.ok(await services.shared.redis?.exists(cacheKey), 'served from Redis first');
  return { redis, app, services, concert, url, cacheKey };
}

t.test('Redis stopped in the middle: availability still answers 200, from MySQL, and follows new bookings', async (t) => {
  const { redis, app, concert, url } = await concertOnOwnRedis(t);
  await redis.kill();
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, concert.ticket_classes[0]?.id as string, 2));
  t.equal(booked.statusCode, 201, 'booking does not need Redis');
  for (let i = 0; i < 5; i++) {
    const answer = await app.inject({ method: 'GET', url: `${url}?min_position=${booked.json<{ position: number }>().position}` });
    t.equal(answer.statusCode, 200, `read ${i + 1} with Redis down`);
    t.same(answer.json<Availability>().ticket_classes.map((c) => c.available), [28]);
  }
});

t.test('Redis hung (it keeps its connections but answers nothing): availability answers from MySQL within seconds, the projector goes on, and the cache is used again once Redis answers', async (t) => {
  // A partition the operating system does not see, or a Redis stuck on a disk: before, every
  // authenticated request waited on the revoked-token check for an answer that did not come (this
  // spec's sign-up and booking never answered), every read of the cache too, and the projector
  // after each batch on its cache writes: no read model moved on.
  const { redis, app, services, concert, url, cacheKey } = await concertOnOwnRedis(t);
  redis.pause();
  const hungAt = Date.now();
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, concert.ticket_classes[0]?.id as string, 2));
  t.equal(booked.statusCode, 201, `booking does not need Redis: signed up and booked ${Date.now() - hungAt} ms after Redis hung`);
  const position = booked.json<{ position: number }>().position;
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    const answer = await Promise.race([
      app.inject({ method: 'GET', url: `${url}?min_position=${position}` }),
      new Promise<'no answer'>((resolve) => setTimeout(resolve, 15_000, 'no answer')),
    ]);
    if (answer === 'no answer') {
      t.fail(`read ${i + 1} with Redis hung: no answer within 15 s`);
      continue;
    }
    t.equal(answer.statusCode, 200, `read ${i + 1} with Redis hung, after ${Date.now() - started} ms`);
    t.same(answer.json<Availability>().ticket_classes.map((c) => c.available), [28], 'the booking made while Redis hung is counted');
    t.ok(Date.now() - started < 5_000, 'within 5 s');
  }

  redis.resume();
  await eventually(async () => {
    const answer = await app.inject({ method: 'GET', url: `${url}?min_position=${position}` });
    // Until the client has connected again, its commands fail at once.
    const cached = await services.shared.redis?.hget(cacheKey, concert.ticket_classes[0]?.id as string).catch(() => null);
    return answer.statusCode === 200 && cached === '28';
  }, 'the cache refilled once Redis answers again, the booking made meanwhile in it', 30_000);
});

t.test("an admin whose browser carries a min_position cookie sees the page while a projection has failed: 200, the failure named, no wait", async (t) => {
  const timeoutMs = 2_000;
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', READ_WAIT_TIMEOUT_MS: String(timeoutMs) });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  await caughtUp(services.projector.projectors);
  // The concerts projection's table gone: its next batch fails, and it shows as failed, behind the head.
  await services.projector.readModels.raw('RENAME TABLE concerts TO concerts_gone');
  const concert = await createConcert(app, admin);
  await eventually(async () => (await services.projector.projectors.status()).find((view) => view.name === 'concerts')?.status === 'failed', 'the concerts projection failed');
  const head = await services.shared.store.headPosition();
  t.ok(head >= concert.position, 'the command is in the store');

  // The cookie a command sets for a browser, honoured as X-Min-Position (API.md); the header and the query the same.
  for (const [how, url, headers] of [
    ['the min_position cookie', '/api/v1/admin/projections', { cookie: `min_position=${concert.position}` }],
    ['X-Min-Position', '/api/v1/admin/projections', { 'x-min-position': String(concert.position) }],
    ['min_position', `/api/v1/admin/projections?min_position=${concert.position}`, {}],
  ] as const) {
    const started = Date.now();
    const page = await app.inject({ method: 'GET', url, headers: { ...bearer(admin), ...headers } });
    const ms = Date.now() - started;
    t.equal(page.statusCode, 200, `${how}: the page answers (${page.body.slice(0, 200)})`);
    t.ok(ms < timeoutMs / 2, `${how}: at once, not after waiting for the failed projection (${ms} ms)`);
    if (page.statusCode !== 200) continue;
    const views = page.json<View[]>();
    const concerts = views.find((view) => view.name === 'concerts');
    t.match(concerts, { status: 'failed', head_position: head }, `${how}: the failed projection is shown failed`);
    t.ok(concerts !== undefined && concerts.position < concert.position && concerts.lag === head - concerts.position, `${how}: at its real position, behind the command (${JSON.stringify(concerts)})`);
    t.ok(views.filter((view) => view.name !== 'concerts').every((view) => view.status === 'live'), `${how}: the others live`);
    t.equal(page.headers['x-projection-position'], String(head), `${how}: X-Projection-Position is the head the page read`);
  }
});
