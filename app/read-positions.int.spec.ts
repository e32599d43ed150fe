/**
 * API.md: every read answers with `X-Projection-Position`, and a read that names a position
 * (`min_position`, or `X-Min-Position`) waits for it, up to READ_WAIT_TIMEOUT_MS, then answers
 * `503 PROJECTION_LAGGING`. The reads here are the ones that did neither: those the command API
 * answers from the event store (profile, the door's keys, the reactors, a stream: the store's
 * head), the waiting room's board (the queue projection's position) and the projections' status
 * (the store's head it read the checkpoints at: query-api/routes/admin-projections.ts).
 */
import t from 'tap';
import { userStream } from '../domain/user/index.ts';
import { testApp } from '../test/support/app.ts';
import { adminToken, createConcert, customer } from '../test/support/booking.ts';
import { caughtUp } from '../test/support/projections.ts';
import { bearer } from '../test/support/users.ts';

const TIMEOUT_MS = 400;

t.test('reads that name their position and wait for the reader\'s', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', READ_WAIT_TIMEOUT_MS: String(TIMEOUT_MS) });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const fan = await customer(app);
  const concert = await createConcert(app, admin, undefined, { waiting_room: true, sales_open_at: new Date(Date.now() + 3_600_000).toISOString() });
  const joined = await app.inject({ method: 'POST', url: `/api/v1/concerts/${concert.id}/queue`, headers: bearer(fan.token) });
  t.equal(joined.statusCode, 201, 'a place in the waiting room');
  const place = joined.json<{ token: string }>().token;
  await caughtUp(made.services.projector.projectors);
  const head = await made.services.shared.store.headPosition();

  // `fromStore`: answered from the event store, whose head every answered position is at or below:
  // a position beyond it was never answered, and is refused at once instead of waited for.
  const reads = [
    { url: '/api/v1/users/profile', headers: bearer(fan.token), fromStore: true },
    { url: '/api/v1/checkin/keys', headers: {}, fromStore: true },
    { url: `/api/v1/queue/${place}`, headers: {}, fromStore: false },
    { url: '/api/v1/admin/projections', headers: bearer(admin), fromStore: true },
    { url: '/api/v1/admin/reactors', headers: bearer(admin), fromStore: true },
    { url: `/api/v1/admin/streams/${userStream(fan.id)}`, headers: bearer(admin), fromStore: true },
  ];
  for (const { url, headers, fromStore } of reads) {
    const read = async (query: string, extra: Record<string, string> = {}) => {
      const started = Date.now();
      const response = await app.inject({ method: 'GET', url: `${url}${query}`, headers: { ...headers, ...extra } });
      return { response, ms: Date.now() - started };
    };
    const plain = await read('');
    t.equal(plain.response.statusCode, 200, `${url}: 200`);
    t.match(plain.response.headers['x-projection-position'], /^[0-9]+$/, `${url}: X-Projection-Position is a position`);
    t.equal(Number(plain.response.headers['x-projection-position']), head, `${url}: the position read is the head (everything has caught up)`);

    for (const [how, query, extra] of [['min_position', `?min_position=${head}`, {}], ['X-Min-Position', '', { 'x-min-position': String(head) }]] as const) {
      const atHead = await read(query, extra);
      t.equal(atHead.response.statusCode, 200, `${url}: ${how} at the head: 200`);
      t.ok(atHead.ms < TIMEOUT_MS, `${url}: ${how} at the head: at once (${atHead.ms} ms)`);
    }
    for (const [how, query, extra] of [['min_position', `?min_position=${head + 1_000_000}`, {}], ['X-Min-Position', '', { 'x-min-position': String(head + 1_000_000) }]] as const) {
      const beyond = await read(query, extra);
      t.equal(beyond.response.statusCode, 503, `${url}: ${how} beyond the head: 503`);
      t.match(beyond.response.json(), { code: 'PROJECTION_LAGGING', status: 503 }, `${url}: ${how} beyond the head: PROJECTION_LAGGING`);
      t.equal(beyond.response.headers['retry-after'], '1', `${url}: ${how} beyond the head: Retry-After`);
      if (fromStore) t.ok(beyond.ms < TIMEOUT_MS, `${url}: ${how} beyond the store's head: at once (${beyond.ms} ms)`);
      else t.ok(beyond.ms >= TIMEOUT_MS - 20, `${url}: ${how} beyond the head: waited for it first (${beyond.ms} ms)`);
    }
  }
});

t.test("a crowd of reads beyond the store's head costs it one query in flight, not a poll each", async (t) => {
  const made = await testApp(t, { READ_WAIT_TIMEOUT_MS: String(TIMEOUT_MS) });
  const { store } = made.services.shared;
  const head = await store.headPosition();
  let asked = 0;
  const headPosition = store.headPosition.bind(store);
  store.headPosition = async () => {
    asked++;
    return headPosition();
  };
  const answers = await Promise.all(Array.from({ length: 20 }, () => made.app.inject({ method: 'GET', url: `/api/v1/checkin/keys?min_position=${head + 1_000_000_000}` })));
  t.strictSame(answers.map((answer) => answer.statusCode), Array<number>(20).fill(503), 'each refused: PROJECTION_LAGGING');
  t.ok(asked <= 2, `the head was asked ${asked} times for 20 reads (one query in flight, shared)`);
});
