/**
 * The door under concurrency: two command-api processes (`boxoffice serve --role command`) on one
 * MariaDB event store, sharing their secrets and ticket signing key, as two gates' instances would.
 * 50 scans of one ticket at once, spread over both: one gets in, 49 are told ALREADY_ADMITTED with
 * the winner's gate, and the concert stream holds one TicketAdmitted. Two different tickets
 * scanned at the same moment on the two processes both get in: the instance that loses the race
 * on the stream's revision decides its scan again on the new state instead of refusing it.
 *
 * The verdict comes from the answers and from the event store itself.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import t, { type Test } from 'tap';
import { signWebhook } from '../../command-api/payments/gateway.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import { startCommandApi, type ServerProcess } from '../support/process.ts';
import { freshMysqlDatabase } from '../support/services.ts';

const SCANS = 50;
const PAIRS = 10;
const ADMIN_PASSWORD = 'E2e-Admin-Pass-2026';
const ticketAdmitted = eventsOf('TicketAdmitted');

interface Instance {
  readonly server: ServerProcess;
  /** Known once it is up: each instance binds a free port of its own choosing (PORT=0). */
  readonly base: string;
}

interface Seat {
  readonly id: string;
  readonly seat_number: number;
}

interface Answer {
  readonly status: number;
  readonly body: { result?: string; code?: string; gate?: string; admitted_at?: string; ticket?: { id: string } };
}

async function call(instance: Instance, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${instance.base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function deployment(t: Test) {
  const mysqlUrl = await freshMysqlDatabase(t);
  const signingKey = randomBytes(32);
  const shared = {
    MYSQL_URL: mysqlUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    TICKET_SIGNING_KEYS: signingKey.toString('base64'),
    PAYMENT_GATEWAY: 'sandbox',
    RATE_LIMIT: 'off',
    REQUIRE_EMAIL_VERIFICATION: 'false',
    BOXOFFICE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
  const servers: ServerProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-e2e-door-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    // PORT=0: a port picked free beforehand could be taken by another spec's connection before the process binds it.
    servers.push(startCommandApi({ ...shared, PORT: '0', BOXOFFICE_DATA_DIR: dataDir }));
  }
  t.teardown(async () => {
    for (const server of servers) server.signal('SIGKILL');
    await Promise.all(servers.map((server) => server.closed));
  });
  await Promise.all(servers.map((server) => server.listening()));
  const instances: Instance[] = servers.map((server) => ({ server, base: server.url() }));
  const store = await SqlEventStore.open({ client: 'mysql2', url: mysqlUrl });
  t.teardown(() => store.close());
  const [a, b] = instances as [Instance, Instance];

  const login = await call(a, 'POST', '/api/v1/users/login', { username: 'admin', password: ADMIN_PASSWORD });
  const adminToken = (login.body as { access_token?: string }).access_token ?? '';
  t.ok(adminToken, 'the admin signs in');
  const created = await call(a, 'POST', '/api/v1/admin/concerts', {
    name: 'Senandung Senja', artist: 'Nadin Amizah', date: '2099-02-14T12:00:00Z', venue: 'Istora Senayan',
    ticket_classes: [{ name: 'Festival', price: 750_000, total_seats_in_class: 1 + 2 * PAIRS }],
  }, bearer(adminToken));
  t.equal(created.status, 201, 'the concert is scheduled');
  const concert = created.body as unknown as { id: string; ticket_classes: { id: string }[] };
  const classId = concert.ticket_classes[0]?.id ?? '';
  // Customers signed with the deployment's key, as the login route would: the subject here is the door.
  const sign = createSigner({ key: shared.JWT_SECRET, algorithm: 'HS256', expiresIn: 900_000 });
  const customer = () => sign({ sub: randomUUID(), role: 'customer', jti: randomUUID(), ev: true });

  /** A booking of `quantity` seats, paid through the sandbox gateway's signed webhook: its seats are sold tickets. */
  const paidBooking = async (quantity: number): Promise<Seat[]> => {
    const token = customer();
    const booked = await call(a, 'POST', '/api/v1/bookings', {
      concert_id: concert.id,
      tickets_by_class: [{ ticket_class_id: classId, quantity }],
      buyer_info: { full_name: 'Rina Kusuma', phone_number: '081234567890', email: `rina.${randomBytes(3).toString('hex')}@example.test`, ktp_number: `3201${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}` },
    }, bearer(token));
    if (booked.status !== 201) throw new Error(`booking answered ${booked.status}: ${JSON.stringify(booked.body)}`);
    const booking = booked.body as unknown as { id: string; seats: Seat[] };
    const started = await call(b, 'POST', '/api/v1/payments', { booking_id: booking.id, payment_method: 'e_wallet' }, bearer(token));
    if (started.status !== 201) throw new Error(`payment answered ${started.status}: ${JSON.stringify(started.body)}`);
    const payment = started.body as unknown as { transaction_id: string; amount: number };
    const raw = JSON.stringify({ transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
    const paid = await call(a, 'POST', '/api/v1/payments/webhook', raw, { 'x-signature': signWebhook(shared.PAYMENT_WEBHOOK_SECRET, raw) });
    if (paid.status !== 200) throw new Error(`webhook answered ${paid.status}: ${JSON.stringify(paid.body)}`);
    return booking.seats;
  };

  const codes = new TicketCodes([signingKey]);
  const qrOf = (seat: Seat) => codes.sign({ t: seat.id, c: concert.id, s: seat.seat_number, r: 1, h: 'RK', k: '1234' });
  const scan = (instance: Instance, seat: Seat, gate: string) => call(instance, 'POST', '/api/v1/checkin', { qr: qrOf(seat), gate }, bearer(adminToken));

  /** The TicketAdmitted events of the concert's stream, as an auditor reads them. */
  const admissions = async () => (await store.readStream(`concert-${concert.id}`))
    .filter((recorded) => recorded.type === 'TicketAdmitted')
    .map((recorded) => decode(recorded, ticketAdmitted).data);

  /** The event store's append conflicts each process counted (its /metrics). */
  const conflicts = async (): Promise<number> => {
    let total = 0;
    for (const instance of instances) {
      const text = await (await fetch(`${instance.base}/metrics`)).text();
      total += Number(/^boxoffice_event_store_conflicts_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    }
    return total;
  };

  return { instances, paidBooking, scan, admissions, conflicts };
}

t.test('two command-api processes on one event store: a ticket gets in once, two tickets both get in', async (t) => {
  const { instances, paidBooking, scan, admissions, conflicts } = await deployment(t);
  const [a, b] = instances as [Instance, Instance];

  await t.test(`${SCANS} scans of one ticket at once across both processes: exactly one 200`, async (t) => {
    const [ticket] = await paidBooking(1);
    if (ticket === undefined) throw new Error('the booking has no seat');
    const answers = await Promise.all(Array.from({ length: SCANS }, (_, i) => scan(i % 2 === 0 ? a : b, ticket, `gate-${i}`)));
    const admitted = answers.flatMap((answer, i) => (answer.status === 200 ? [i] : []));
    t.equal(admitted.length, 1, 'exactly one scan is admitted');
    const winner = admitted[0] ?? -1;
    t.equal(answers[winner]?.body.result, 'admitted');
    t.equal(answers[winner]?.body.ticket?.id, ticket.id, 'the admitted ticket is the one scanned');
    const refused = answers.filter((answer) => answer.status !== 200);
    t.strictSame([...new Set(refused.map((answer) => `${answer.status} ${answer.body.code ?? ''}`))], ['409 ALREADY_ADMITTED'], `the other ${SCANS - 1} are 409 ALREADY_ADMITTED`);
    t.equal(refused.length, SCANS - 1);
    t.ok(refused.every((answer) => answer.body.gate === `gate-${winner}` && typeof answer.body.admitted_at === 'string'), 'each refusal names the gate that admitted it, and when');
    t.ok([0, 1].every((side) => answers.some((answer, i) => i % 2 === side && answer.status === 409)), 'both processes refused some scans');

    const events = (await admissions()).filter((event) => event.ticket_id === ticket.id);
    t.equal(events.length, 1, 'the concert stream holds exactly one TicketAdmitted for the ticket');
    t.equal(events[0]?.gate, `gate-${winner}`, 'and it is the admitted scan');
  });

  await t.test(`two different tickets at the same moment on the two processes, ${PAIRS} times: both admitted`, async (t) => {
    const seats: Seat[] = [];
    for (let i = 0; i < PAIRS; i++) seats.push(...await paidBooking(2));
    const before = await conflicts();
    t.ok(Number.isFinite(before), 'each process reports its append conflicts');
    for (let i = 0; i < PAIRS; i++) {
      const [first, second] = [seats[2 * i], seats[2 * i + 1]] as [Seat, Seat];
      const [onA, onB] = await Promise.all([scan(a, first, 'north'), scan(b, second, 'south')]);
      t.strictSame([onA.status, onB.status, onA.body.ticket?.id, onB.body.ticket?.id], [200, 200, first.id, second.id], `pair ${i + 1}: both admitted`);
    }
    const raced = (await conflicts()) - before;
    // Evidence the scans did race: some appends lost on the stream revision and were decided again.
    t.ok(raced > 0, `the processes raced on the concert stream (${raced} append conflicts, each decided again)`);
    const events = await admissions();
    for (const seat of seats) {
      t.equal(events.filter((event) => event.ticket_id === seat.id).length, 1, `ticket ${seat.seat_number} admitted once in the stream`);
    }
  });
});
