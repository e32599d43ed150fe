/**
 * No oversell, ever: two command-api processes on one MariaDB event store, one class of 100
 * seats, 400 users booking 1-3 tickets each at the same moment, through real HTTP. Then the same
 * with one process SIGKILLed in the middle of the rush and started again.
 *
 * The verdict comes from the event store alone, the way an auditor would replay it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import t, { type Test } from 'tap';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { freePort } from '../harness/servers.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { replaySeats } from '../support/seat-replay.ts';
import { freshMysqlDatabase } from '../support/services.ts';

const USERS = 400;
const SEATS = 100;

interface Instance {
  readonly base: string;
  server: ServerProcess;
  readonly env: Record<string, string>;
}

async function deployment(t: Test) {
  const mysqlUrl = await freshMysqlDatabase(t);
  const shared = {
    MYSQL_URL: mysqlUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    PAYMENT_GATEWAY: 'sandbox',
    RATE_LIMIT: 'off',
    REQUIRE_EMAIL_VERIFICATION: 'false',
    BOXOFFICE_ADMIN_PASSWORD: 'E2e-Admin-Pass-2026',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    LOG_LEVEL: 'warn',
  };
  const instances: Instance[] = [];
  for (let i = 0; i < 2; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-e2e-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const env = { ...shared, PORT: String(port), BOXOFFICE_DATA_DIR: dataDir };
    const server = startServer(env);
    instances.push({ base: `http://127.0.0.1:${port}`, server, env });
  }
  t.teardown(() => {
    for (const instance of instances) instance.server.child.kill('SIGKILL');
  });
  await Promise.all(instances.map((instance) => instance.server.listening()));
  const store = await SqlEventStore.open({ client: 'mysql2', url: mysqlUrl });
  t.teardown(() => store.close());

  const login = await post(instances[0] as Instance, '/api/v1/users/login', { username: 'admin', password: shared.BOXOFFICE_ADMIN_PASSWORD });
  const adminToken = ((await login.json()) as { access_token: string }).access_token;
  const concert = await post(instances[0] as Instance, '/api/v1/admin/concerts', {
    name: 'Flash Sale', artist: 'Nadin Amizah', date: '2099-02-14T12:00:00Z', venue: 'Istora', ticket_classes: [{ name: 'Festival', price: 750_000, total_seats_in_class: SEATS }],
  }, adminToken);
  const created = (await concert.json()) as { id: string; ticket_classes: { id: string }[] };
  // Signed with the deployment's key, as the login route would: the rush is about booking.
  const sign = createSigner({ key: shared.JWT_SECRET, algorithm: 'HS256', expiresIn: 900_000 });
  const users = Array.from({ length: USERS }, () => ({ id: randomUUID(), token: '' })).map((user) => ({ ...user, token: sign({ sub: user.id, role: 'customer', jti: randomUUID() }) }));
  return { instances, store, concertId: created.id, classId: created.ticket_classes[0]?.id ?? '', users };
}

function post(instance: Instance, path: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${instance.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

interface Outcome {
  readonly status: number | 'no answer';
  readonly body: { id?: string; code?: string; seats?: { id: string }[] } | null;
}

/** Every user books at once, or (spreadMs > 0) arrivals spread evenly over that time. */
async function rush(
  instances: readonly Instance[],
  users: readonly { token: string }[],
  concertId: string,
  classId: string,
  spreadMs = 0,
  onAnswer: (instance: number) => void = () => undefined,
): Promise<Outcome[]> {
  return Promise.all(users.map(async (user, i): Promise<Outcome> => {
    const quantity = 1 + (i % 3);
    if (spreadMs > 0) await new Promise((resolve) => setTimeout(resolve, (i / users.length) * spreadMs));
    try {
      const response = await post(instances[i % instances.length] as Instance, '/api/v1/bookings', {
        concert_id: concertId,
        tickets_by_class: [{ ticket_class_id: classId, quantity }],
        buyer_info: { full_name: `Fan ${i}`, phone_number: '081234567890', email: `fan${i}@example.test`, ktp_number: String(3_201_000_000_000_000 + i) },
      }, user.token);
      const body = (await response.json()) as Outcome['body'];
      onAnswer(i % instances.length);
      return { status: response.status, body };
    } catch {
      return { status: 'no answer', body: null };
    }
  }));
}

/** Replays the concert stream: every seat belongs to at most one live booking. */
async function audit(t: Test, store: SqlEventStore, concertId: string, outcomes: readonly Outcome[]): Promise<Map<string, string[]>> {
  const { owner, seatsOf: live, doubles } = replaySeats(await store.readStream(`concert-${concertId}`));
  t.equal(doubles, 0, 'no seat was held by two bookings');
  t.ok(owner.size <= SEATS, `held + sold seats (${owner.size}) ≤ ${SEATS}`);
  const accepted = outcomes.filter((o) => o.status === 201);
  const missing = accepted.filter((o) => {
    const held = live.get(o.body?.id ?? '');
    return held === undefined || held.slice().sort().join() !== (o.body?.seats ?? []).map((s) => s.id).sort().join();
  });
  t.equal(missing.length, 0, `every one of ${accepted.length} 201s has exactly its seats in the store`);
  return live;
}

t.test('two instances, 400 users, 100 seats: every seat sold once', async (t) => {
  const { instances, store, concertId, classId, users } = await deployment(t);
  const outcomes = await rush(instances, users, concertId, classId);
  const live = await audit(t, store, concertId, outcomes);
  const accepted = outcomes.filter((o) => o.status === 201);
  const seats = accepted.reduce((sum, o) => sum + (o.body?.seats?.length ?? 0), 0);
  t.equal(seats, SEATS, 'the class sells out exactly');
  t.equal(live.size, accepted.length);
  const refused = outcomes.filter((o) => o.status !== 201);
  t.strictSame([...new Set(refused.map((o) => `${o.status} ${o.body?.code ?? ''}`))], ['409 SOLD_OUT'], 'every refusal is 409 SOLD_OUT');
  t.equal(outcomes.length, USERS);
});

t.test('one instance killed mid-rush and restarted: still no seat twice, every 201 kept', async (t) => {
  const { instances, store, concertId, classId, users } = await deployment(t);
  const victim = instances[1] as Instance;
  // Arrivals over 1.5 s, the kill in the middle: some answered, some in flight, some refused entry.
  // In the middle, and not before the victim has answered anyone (a slow start would kill it idle).
  let victimAnswered: () => void = () => undefined;
  const firstVictimAnswer = new Promise<void>((resolve) => (victimAnswered = resolve));
  const rushing = rush(instances, users, concertId, classId, 1_500, (instance) => {
    if (instance === 1) victimAnswered();
  });
  await Promise.all([new Promise((resolve) => setTimeout(resolve, 750)), firstVictimAnswer]);
  victim.server.child.kill('SIGKILL');
  const outcomes = await rushing;
  const unanswered = outcomes.filter((o) => o.status === 'no answer').length;
  const answeredByVictim = outcomes.filter((o, i) => i % 2 === 1 && o.status !== 'no answer').length;
  t.ok(unanswered > 0 && answeredByVictim > 0, `the kill landed mid-rush: the victim answered ${answeredByVictim}, ${unanswered} got no answer`);

  victim.server = startServer(victim.env);
  await victim.server.listening();
  const live = await audit(t, store, concertId, outcomes);
  // Whatever the killed process held but had not turned into a booking stream, the repair reactor does.
  const deadline = Date.now() + 30_000;
  let unplaced: string[] = [...live.keys()];
  while (unplaced.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const bookingId of unplaced) {
      if ((await store.readStream(`booking-${bookingId}`, { maxCount: 1 })).length === 0) still.push(bookingId);
    }
    unplaced = still;
    if (unplaced.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.strictSame(unplaced, [], `all ${live.size} held bookings have their booking stream after the restart`);
  const refused = outcomes.filter((o) => typeof o.status === 'number' && o.status !== 201);
  t.ok(refused.every((o) => o.status === 409 && o.body?.code === 'SOLD_OUT'), 'every answered refusal is 409 SOLD_OUT');
});
