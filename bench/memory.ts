/**
 * The command role's resident memory: `app/server.ts` with BOXOFFICE_ROLE=command on MariaDB, as
 * the flash sale runs it, measured idle after start, then holding one 50,000-seat concert
 * mid-sale, then (a fresh process) holding 100 concerts of 1,000 seats each, half sold. Every
 * booking is by a user of its own with a buyer and a holder per ticket (all sealed); some are paid
 * (their seats sold, the holders moved to the tickets), some cancelled (their holds released), the
 * rest left pending. The big concert's bookings go over HTTP (payments through the sandbox
 * gateway's signed webhook); the small concerts are written to the store through the deciders
 * beforehand and loaded by the server, one booking each (over HTTP they would take minutes).
 *
 * Memory is read without code in the server: resident memory (VmRSS, and its peak VmHWM) from
 * /proc/<pid>/status; the heap through the inspector the process is started with
 * (`--inspect` on a loopback port), which collects the garbage first (HeapProfiler.collectGarbage)
 * and then reads `process.memoryUsage()`, so the heap figure is what is alive, not what awaits
 * the next collection.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placeBookingFrom } from '../command-api/bookings/placement.ts';
import { toAppend } from '../command-api/command-handler.ts';
import { ConcertWriter } from '../command-api/concerts/concert-writer.ts';
import { signWebhook } from '../command-api/payments/gateway.ts';
import { bookingDecider, bookingStream } from '../domain/booking/index.ts';
import { concertEvents, concertStream, type ConcertCommand } from '../domain/concert/index.ts';
import type { CommandContext } from '../domain/index.ts';
import { decode } from '../eventstore/decode.ts';
import type { StreamWrite } from '../eventstore/port.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { emailDigest } from '../lib/personal-data/digest.ts';
import { KtpFingerprints } from '../lib/personal-data/fingerprint.ts';
import { KeyStore } from '../lib/personal-data/key-store.ts';
import { PersonalData } from '../lib/personal-data/personal-data.ts';
import { freePort } from '../test/harness/servers.ts';
import { database } from './database.ts';
import { tokens } from './flash-sale.ts';
import { spawnProcess, stop } from './processes.ts';

export interface MemorySample {
  /** VmRSS: resident now. */
  readonly rssBytes: number;
  /** VmHWM: the most that was resident at once since start. */
  readonly peakRssBytes: number;
  /** V8 heap in use right after a full collection. */
  readonly heapUsedBytes: number;
  /** Memory of Buffers and other C++ objects tied to JS objects (`process.memoryUsage().external`). */
  readonly externalBytes: number;
}

/** What the concerts hold, counted from their streams afterwards. */
export interface Holdings {
  readonly concerts: number;
  readonly seats: number;
  /** Bookings (holds) made, and how they stand. */
  readonly holds: number;
  readonly pending: number;
  readonly sold: number;
  readonly released: number;
  readonly seatsHeld: number;
  readonly seatsSold: number;
  readonly seatsReleased: number;
}

export interface ScenarioFigures {
  readonly idle: MemorySample;
  /** After the first half of the bookings: the growth from here on is what each further booking costs, without the one-off costs of the first. */
  readonly half: MemorySample;
  readonly halfBookings: number;
  readonly bookings: number;
  readonly loaded: MemorySample;
  readonly holdings: Holdings;
  /** Requests sent to make the holdings (bookings, payments, webhooks, cancels), and how long they took. */
  readonly requests: number;
  readonly failed: number;
  readonly seconds: number;
}

export interface MemoryFigures {
  /** One concert mid-sale. */
  readonly sale: ScenarioFigures;
  /** The same concert in a fresh process that loaded it from the store (snapshot and tail). */
  readonly saleReloaded: MemorySample;
  /** Many small concerts, half sold. */
  readonly many: ScenarioFigures;
}

export interface MemoryOptions {
  /** Seats of the big concert (three classes); half of them end up held or sold. */
  readonly saleSeats: number;
  /** Concerts of 1,000 seats each. */
  readonly concerts: number;
  readonly log: (line: string) => void;
}

const ADMIN_PASSWORD = 'Bench-Admin-Pass-2026';
const SMALL_CONCERT_SEATS = 1_000;
/** Requests in flight at once while the big concert sells. */
export const CONCURRENCY = 256;
/** Tickets per booking, in turn: 2.4 on average, as families and groups of friends book. */
const QUANTITIES = [1, 2, 2, 3, 4];

type Fate = 'pay' | 'cancel' | 'pending';

interface Server {
  readonly child: ChildProcess;
  readonly base: string;
  readonly inspector: Inspector;
  readonly adminToken: string;
}

interface Deployment {
  readonly url: string;
  readonly dataDir: string;
  readonly secret: string;
  readonly env: Record<string, string>;
}

/** A server in the command role, as bench/flash-sale.ts starts it, with the inspector on a loopback port. */
async function startServer(deployment: Deployment): Promise<Server> {
  const port = await freePort();
  const inspectPort = await freePort();
  const child = await spawnProcess([`--inspect=127.0.0.1:${inspectPort}`, 'app/server.ts'], { ...deployment.env, PORT: String(port) }, /boxoffice is running/);
  try {
    const inspector = await Inspector.connect(inspectPort);
    const base = `http://127.0.0.1:${port}`;
    const login = await post(base, '/api/v1/users/login', { username: 'admin', password: ADMIN_PASSWORD });
    const adminToken = (login.body as { access_token: string }).access_token;
    return { child, base, inspector, adminToken };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

async function stopServer(server: Server): Promise<void> {
  server.inspector.close();
  await stop(server.child);
}

async function deploy(mysqlServerUrl: string): Promise<Deployment & { drop: () => Promise<void> }> {
  const db = await database(mysqlServerUrl, `memory_${randomBytes(4).toString('hex')}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-'));
  const secret = randomBytes(32).toString('hex');
  const webhookSecret = randomBytes(24).toString('hex');
  return {
    url: db.url,
    dataDir,
    secret,
    env: {
      HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: db.url, JWT_SECRET: secret,
      PERSONAL_DATA_KEY: randomBytes(32).toString('base64'), PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
      PAYMENT_WEBHOOK_SECRET: webhookSecret, PAYMENT_GATEWAY: 'sandbox',
      RATE_LIMIT: 'off', LOG_LEVEL: 'warn', BOXOFFICE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BOXOFFICE_ROLE: 'command',
    },
    drop: async () => {
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** A request with a JSON body (a string is sent as it is), or none when `body` is undefined. */
async function send(method: string, base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${base}${path}`, { method, headers: raw === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: raw });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) as unknown };
}

const post = (base: string, path: string, body: unknown, headers?: Record<string, string>) => send('POST', base, path, body, headers);

async function createConcert(server: Server, name: string, classes: readonly { name: string; price: number; seats: number }[]): Promise<{ id: string; classIds: string[] }> {
  const created = await post(server.base, '/api/v1/admin/concerts', {
    name, artist: 'Bench', date: '2099-05-01T12:00:00Z', venue: 'GBK',
    ticket_classes: classes.map((c) => ({ name: c.name, price: c.price, total_seats_in_class: c.seats })),
  }, { authorization: `Bearer ${server.adminToken}` });
  if (created.status !== 201) throw new Error(`concert not created: ${created.status} ${JSON.stringify(created.body)}`);
  const concert = created.body as { id: string; ticket_classes: { id: string }[] };
  return { id: concert.id, classIds: concert.ticket_classes.map((c) => c.id) };
}

/** Sixteen digits, unique per booking and ticket. */
function ktpNumber(booking: number, ticket: number): string {
  return `32${String(booking).padStart(10, '0')}${String(ticket).padStart(2, '0')}${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`;
}

interface Booking {
  readonly concertId: string;
  readonly classId: string;
  readonly quantity: number;
  readonly fate: Fate;
}

/**
 * Bookings in turn over the fates, until the seats left held or sold reach `seats`: a fate of
 * `cancel` frees its seats again, so more are booked than stay taken. Each booking goes to the
 * class taken least so far for its size, so every class fills in step.
 */
function plan(concert: { id: string; classIds: readonly string[] }, classSeats: readonly number[], seats: number, fates: readonly Fate[], first: number): Booking[] {
  const bookings: Booking[] = [];
  const takenByClass = classSeats.map(() => 0);
  let taken = 0;
  for (let i = first; taken < seats; i++) {
    const fate = fates[i % fates.length] as Fate;
    const quantity = Math.min(QUANTITIES[i % QUANTITIES.length] as number, fate === 'cancel' ? 5 : seats - taken);
    let place = 0;
    takenByClass.forEach((t, c) => { if (t / (classSeats[c] ?? 1) < (takenByClass[place] ?? 0) / (classSeats[place] ?? 1)) place = c; });
    bookings.push({ concertId: concert.id, classId: concert.classIds[place] as string, quantity, fate });
    if (fate !== 'cancel') {
      taken += quantity;
      takenByClass[place] = (takenByClass[place] ?? 0) + quantity;
    }
  }
  return bookings;
}

interface Made {
  readonly requests: number;
  readonly failed: number;
  readonly seconds: number;
}

/** Both halves' requests together. */
function both(first: Made, second: Made): Made {
  return { requests: first.requests + second.requests, failed: first.failed + second.failed, seconds: first.seconds + second.seconds };
}

/**
 * Makes bookings `from` to `to` over HTTP, CONCURRENCY at a time, each by a user of its own: booked (buyer and a
 * holder per ticket), then paid (payment opened, the sandbox's signed webhook), cancelled or left.
 */
async function book(server: Server, deployment: Deployment, bookings: readonly Booking[], from: number, to: number, log: (line: string) => void): Promise<Made> {
  const users = tokens(deployment.secret, bookings.length);
  const webhookSecret = deployment.env.PAYMENT_WEBHOOK_SECRET ?? '';
  let next = from;
  let requests = 0;
  let failed = 0;
  let done = 0;
  const started = performance.now();
  const expect = (answer: Answer, status: number, what: string): boolean => {
    requests++;
    if (answer.status === status) return true;
    if (failed++ < 5) log(`  ${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return false;
  };
  const one = async (n: number): Promise<void> => {
    const booking = bookings[n] as Booking;
    const auth = { authorization: `Bearer ${users.tokens[n] ?? ''}` };
    const holders = Array.from({ length: booking.quantity }, (_, t) => ({ full_name: `Penonton ${n} ${t}`, ktp_number: ktpNumber(n, t) }));
    const booked = await post(server.base, '/api/v1/bookings', {
      concert_id: booking.concertId,
      tickets_by_class: [{ ticket_class_id: booking.classId, quantity: booking.quantity }],
      buyer_info: { full_name: `Pembeli ${n}`, phone_number: `08${String(n).padStart(10, '0')}`, email: `buyer${n}@example.test`, ktp_number: holders[0]?.ktp_number ?? ktpNumber(n, 0) },
      ticket_holder_info: holders,
    }, { ...auth, 'idempotency-key': randomUUID() });
    if (!expect(booked, 201, 'booking')) return;
    const bookingId = (booked.body as { id: string }).id;
    if (booking.fate === 'cancel') {
      expect(await send('PUT', server.base, `/api/v1/bookings/${bookingId}/cancel`, undefined, auth), 200, 'cancel');
    } else if (booking.fate === 'pay') {
      const opened = await post(server.base, '/api/v1/payments', { booking_id: bookingId, payment_method: 'e_wallet' }, { ...auth, 'idempotency-key': randomUUID() });
      if (!expect(opened, 201, 'payment')) return;
      const payment = opened.body as { transaction_id: string; amount: number };
      const raw = JSON.stringify({ transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
      expect(await post(server.base, '/api/v1/payments/webhook', raw, { 'x-signature': signWebhook(webhookSecret, raw) }), 200, 'webhook');
    }
  };
  const worker = async (): Promise<void> => {
    for (let n = next++; n < to; n = next++) {
      await one(n);
      if (++done % 10_000 === 0) log(`  ${done.toLocaleString('en-US')} bookings made`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { requests, failed, seconds: (performance.now() - started) / 1000 };
}

/** Waits until the concerts' queues are empty and every reactor has caught up (the sales the webhooks started are decided). */
async function settle(server: Server): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${server.base}/metrics`)).text();
    const busy = text.split('\n').filter((line) => /^boxoffice_(reactor_lag_events|concert_queue_depth)\b/.test(line)).some((line) => Number(line.split(' ').pop()) > 0);
    if (!busy) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the reactors did not catch up within 60 s');
}

/** Counts what the concerts' streams say they hold. */
async function holdingsOf(url: string, concertIds: readonly string[], seats: number): Promise<Holdings> {
  const store = await SqlEventStore.open({ client: 'mysql2', url });
  try {
    const holds = new Map<string, { seats: number; status: 'pending' | 'sold' | 'released' }>();
    for (const concertId of concertIds) {
      for (const recorded of await store.readStream(concertStream(concertId))) {
        const event = decode(recorded, concertEvents);
        if (event.type === 'SeatsHeld') holds.set(event.data.booking_id, { seats: event.data.seats.length, status: 'pending' });
        const hold = event.type === 'SeatsSold' || event.type === 'HoldReleased' ? holds.get(event.data.booking_id) : undefined;
        if (hold !== undefined) hold.status = event.type === 'SeatsSold' ? 'sold' : 'released';
      }
    }
    const all = [...holds.values()];
    const count = (status: 'pending' | 'sold' | 'released') => all.filter((h) => h.status === status);
    const seatsOf = (list: readonly { seats: number }[]) => list.reduce((sum, h) => sum + h.seats, 0);
    return {
      concerts: concertIds.length, seats, holds: all.length,
      pending: count('pending').length, sold: count('sold').length, released: count('released').length,
      seatsHeld: seatsOf(count('pending')), seatsSold: seatsOf(count('sold')), seatsReleased: seatsOf(count('released')),
    };
  } finally {
    await store.close();
  }
}

async function sample(server: Server): Promise<MemorySample> {
  const usage = await server.inspector.memoryAfterCollection();
  const status = await readFile(`/proc/${server.child.pid ?? 0}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), heapUsedBytes: usage.heapUsed, externalBytes: usage.external };
}

/** Two collections, the second for what the first's finalizers let go, then a moment for the allocator to hand pages back. */
async function settledSample(server: Server): Promise<MemorySample> {
  await server.inspector.memoryAfterCollection();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return sample(server);
}

interface SeededConcert {
  readonly id: string;
  readonly classId: string;
  readonly bookings: number;
}

function context(actorId: string | null, at: string): CommandContext {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actorId, occurredAt: at };
}

/**
 * Concerts of SMALL_CONCERT_SEATS seats written through the deciders by a ConcertWriter of the
 * bench's own, side by side: each booking's hold with its buyer and holders sealed under the
 * deployment's keys, its booking stream placed from the hold, then the paid ones' seats sold and
 * the cancelled ones' holds released. The server has never seen them.
 */
async function seedConcerts(deployment: Deployment, count: number, log: (line: string) => void): Promise<SeededConcert[]> {
  const store = await SqlEventStore.open({ client: 'mysql2', url: deployment.url });
  const keys = await KeyStore.open({ client: 'mysql2', url: deployment.url }, Buffer.from(deployment.env.PERSONAL_DATA_KEY ?? '', 'base64'));
  const personalData = new PersonalData(keys);
  const digestKey = Buffer.from(deployment.env.PERSONAL_DATA_DIGEST_KEY ?? '', 'base64');
  const ktp = new KtpFingerprints(digestKey);
  const writer = new ConcertWriter(store, { queueLimit: 1_000_000, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => log(`  background: ${String(error)}`) });
  // Of twenty bookings thirteen are paid, three cancelled, four pending: 650 seats taken per concert, 500 of them sold.
  const fates: Fate[] = ['pay', 'pay', 'pending', 'pay', 'cancel', 'pay', 'pay', 'pending', 'pay', 'pay', 'cancel', 'pay', 'pending', 'pay', 'pay', 'cancel', 'pay', 'pending', 'pay', 'pay'];
  const started = performance.now();
  try {
    const concerts = await Promise.all(Array.from({ length: count }, async (_, c): Promise<SeededConcert> => {
      const concert = { id: randomUUID(), classIds: [randomUUID()] };
      const classId = concert.classIds[0] as string;
      const now = () => new Date().toISOString();
      const submit = async (command: ConcertCommand, actor: string | null = null) => writer.submit(concert.id, command, context(actor, command.now));
      await submit({
        type: 'ScheduleConcert', concert_id: concert.id, name: `Tour ${c + 1}`, artist: 'Bench', date: '2099-05-01T12:00:00.000Z', venue: 'GBK',
        description: null, image_url: null, max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null,
        ticket_classes: [{ ticket_class_id: classId, name: 'Festival', price: 500_000, seat_count: SMALL_CONCERT_SEATS }], publish: true, now: now(),
      });
      const bookings = plan(concert, [SMALL_CONCERT_SEATS], SMALL_CONCERT_SEATS * 0.65, fates, c * 7);
      const expiresAt = new Date(Date.now() + 900_000).toISOString();
      const held = await Promise.all(bookings.map(async (booking, i) => {
        const n = c * 10_000 + i;
        const userId = randomUUID();
        const holders = Array.from({ length: booking.quantity }, (_, t) => ({ full_name: `Penonton ${n} ${t}`, ktp_number: ktpNumber(n, t) }));
        const buyer = { full_name: `Pembeli ${n}`, phone_number: `08${String(n).padStart(10, '0')}`, email: `buyer${n}@example.test`, ktp_number: holders[0]?.ktp_number ?? '' };
        const written = await submit({
          type: 'HoldSeats', booking_id: randomUUID(), user_id: userId, selection: { by: 'class', tickets: [{ ticket_class_id: classId, quantity: booking.quantity }] },
          ktp_fingerprints: holders.map((holder) => ktp.of(holder.ktp_number)),
          personal_data: {
            buyer: await personalData.seal(userId, buyer),
            ticket_holders: await Promise.all(holders.map((holder) => personalData.seal(userId, holder))),
            buyer_email_digest: emailDigest(digestKey, buyer.email),
          },
          expires_at: expiresAt, now: now(),
        }, userId);
        const [event] = written.events;
        if (event?.type !== 'SeatsHeld') throw new Error('a hold decided no SeatsHeld');
        return { hold: event.data, fate: booking.fate };
      }));
      // Each booking's stream, placed from its hold as the booking route does (the repair reactor then finds it there).
      const at = now();
      const placed: StreamWrite[] = held.map(({ hold }) => ({
        stream: bookingStream(hold.booking_id),
        expected: 'no_stream',
        events: toAppend(bookingDecider.decide(placeBookingFrom(hold, at), bookingDecider.initialState()), context(hold.user_id, at), randomUUID),
      }));
      for (const result of await store.appendMany(placed)) if (result.status === 'rejected') throw result.reason;
      await Promise.all(held.filter(({ fate }) => fate !== 'pending').map(({ hold, fate }) => (fate === 'pay'
        ? submit({ type: 'SellSeats', booking_id: hold.booking_id, transaction_id: randomUUID(), now: now() })
        : submit({ type: 'ReleaseHold', booking_id: hold.booking_id, reason: 'cancelled', now: now() }, hold.user_id))));
      return { id: concert.id, classId, bookings: bookings.length };
    }));
    await writer.drain();
    log(`  written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return concerts;
  } finally {
    await keys.close();
    await store.close();
  }
}

export async function benchMemory(mysqlServerUrl: string, options: MemoryOptions): Promise<MemoryFigures> {
  const { log } = options;
  // One concert mid-sale: three classes, half the seats held or sold.
  const first = await deploy(mysqlServerUrl);
  let sale: ScenarioFigures;
  let saleReloaded: MemorySample;
  try {
    let server = await startServer(first);
    let concert: { id: string; classIds: string[] };
    try {
      const idle = await settledSample(server);
      const vip = Math.round(options.saleSeats / 10);
      const tribune = Math.round(options.saleSeats * 0.3);
      const classes = [
        { name: 'VIP', price: 2_500_000, seats: vip },
        { name: 'Tribune', price: 1_200_000, seats: tribune },
        { name: 'Festival', price: 750_000, seats: options.saleSeats - vip - tribune },
      ];
      concert = await createConcert(server, 'Mid-Sale', classes);
      // Of ten bookings four are paid, one cancelled, five still pending.
      const fates: Fate[] = ['pay', 'pending', 'pay', 'pending', 'cancel', 'pay', 'pending', 'pay', 'pending', 'pending'];
      const bookings = plan(concert, classes.map((c) => c.seats), Math.floor(options.saleSeats / 2), fates, 0);
      log(`  one concert of ${options.saleSeats.toLocaleString('en-US')} seats: ${bookings.length.toLocaleString('en-US')} bookings over HTTP`);
      const halfBookings = Math.floor(bookings.length / 2);
      const firstHalf = await book(server, first, bookings, 0, halfBookings, log);
      await settle(server);
      const half = await settledSample(server);
      const made = both(firstHalf, await book(server, first, bookings, halfBookings, bookings.length, log));
      await settle(server);
      const loaded = await settledSample(server);
      sale = { idle, half, halfBookings, bookings: bookings.length, loaded, holdings: await holdingsOf(first.url, [concert.id], options.saleSeats), ...made };
      log(`  ${made.requests.toLocaleString('en-US')} requests in ${made.seconds.toFixed(1)} s; RSS ${mib(idle.rssBytes)} → ${mib(loaded.rssBytes)} MiB, heap ${mib(idle.heapUsedBytes)} → ${mib(loaded.heapUsedBytes)} MiB`);
    } finally {
      await stopServer(server);
    }
    // The same concert, loaded by a process that never saw the sale: one more booking makes it load.
    server = await startServer(first);
    try {
      const [user] = tokens(first.secret, 1).tokens;
      const touched = await post(server.base, '/api/v1/bookings', {
        concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.classIds[0], quantity: 1 }],
        buyer_info: { full_name: 'Pembeli Akhir', phone_number: '081234567890', email: 'last@example.test', ktp_number: '3201234567890001' },
      }, { authorization: `Bearer ${user ?? ''}` });
      if (touched.status !== 201) throw new Error(`the reloaded concert took no booking: ${touched.status} ${JSON.stringify(touched.body)}`);
      await settle(server);
      saleReloaded = await settledSample(server);
      log(`  reloaded: RSS ${mib(saleReloaded.rssBytes)} MiB, heap ${mib(saleReloaded.heapUsedBytes)} MiB`);
    } finally {
      await stopServer(server);
    }
  } finally {
    await first.drop();
  }

  // Many small concerts: one class of 1,000 seats each, half sold, some pending, some released,
  // written to the store beforehand, then loaded by a fresh server, half of them first.
  const second = await deploy(mysqlServerUrl);
  let many: ScenarioFigures;
  try {
    log(`  ${options.concerts} concerts of ${SMALL_CONCERT_SEATS.toLocaleString('en-US')} seats written through the deciders`);
    const seeded = await seedConcerts(second, options.concerts, log);
    const server = await startServer(second);
    try {
      const idle = await settledSample(server);
      const started = performance.now();
      const loads = { requests: 0, failed: 0 };
      const load = async (concerts: readonly SeededConcert[]): Promise<void> => {
        const users = tokens(second.secret, concerts.length);
        await Promise.all(concerts.map(async (concert, n) => {
          loads.requests++;
          const touched = await post(server.base, '/api/v1/bookings', {
            concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.classId, quantity: 1 }],
            buyer_info: { full_name: 'Pembeli Akhir', phone_number: '081234567890', email: `last${n}@example.test`, ktp_number: ktpNumber(n, 99) },
          }, { authorization: `Bearer ${users.tokens[n] ?? ''}` });
          if (touched.status !== 201) loads.failed++;
        }));
        await settle(server);
      };
      const halfConcerts = Math.floor(seeded.length / 2);
      await load(seeded.slice(0, halfConcerts));
      const half = await settledSample(server);
      await load(seeded.slice(halfConcerts));
      const loaded = await settledSample(server);
      const bookingsOf = (concerts: readonly SeededConcert[]) => concerts.reduce((sum, c) => sum + c.bookings + 1, 0);
      many = {
        idle, half, halfBookings: bookingsOf(seeded.slice(0, halfConcerts)), bookings: bookingsOf(seeded), loaded,
        holdings: await holdingsOf(second.url, seeded.map((c) => c.id), options.concerts * SMALL_CONCERT_SEATS),
        ...loads, seconds: (performance.now() - started) / 1000,
      };
      log(`  loaded: RSS ${mib(idle.rssBytes)} → ${mib(loaded.rssBytes)} MiB, heap ${mib(idle.heapUsedBytes)} → ${mib(loaded.heapUsedBytes)} MiB`);
    } finally {
      await stopServer(server);
    }
  } finally {
    await second.drop();
  }
  return { sale, saleReloaded, many };
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/**
 * The smallest client of the inspector's WebSocket that does what is needed here: one message
 * out (masked, as a client's must be), its answer back (unmasked, maybe long), in order.
 */
class Inspector {
  readonly #socket: Socket;
  #buffered = Buffer.alloc(0);
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  static async connect(port: number): Promise<Inspector> {
    const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    if (target === undefined) throw new Error('the inspector lists no target');
    const url = new URL(target.webSocketDebuggerUrl);
    const key = randomBytes(16).toString('base64');
    const socket = await new Promise<Socket>((resolve, reject) => {
      const upgrade = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' } });
      upgrade.once('upgrade', (response, upgraded) => {
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        if (response.headers['sec-websocket-accept'] !== accept) reject(new Error('the inspector answered the upgrade wrongly'));
        else resolve(upgraded);
      });
      upgrade.once('response', (response) => reject(new Error(`the inspector refused the upgrade: ${response.statusCode}`)));
      upgrade.once('error', reject);
      upgrade.end();
    });
    return new Inspector(socket);
  }

  /** A full collection, then `process.memoryUsage()` as the server sees it. */
  async memoryAfterCollection(): Promise<NodeJS.MemoryUsage> {
    await this.#call('HeapProfiler.collectGarbage');
    const evaluated = await this.#call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true }) as { result: { value: string } };
    return JSON.parse(evaluated.result.value) as NodeJS.MemoryUsage;
  }

  close(): void {
    this.#socket.destroy();
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params }));
    const mask = randomBytes(4);
    const length = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0));
    const answered = new Promise<unknown>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    this.#socket.write(Buffer.concat([Buffer.from([0x81]), length, mask, masked]));
    return answered;
  }

  #receive(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    for (;;) {
      if (this.#buffered.length < 2) return;
      const short = (this.#buffered[1] ?? 0) & 0x7f;
      const header = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (this.#buffered.length < header) return;
      const length = short === 126 ? this.#buffered.readUInt16BE(2) : short === 127 ? Number(this.#buffered.readBigUInt64BE(2)) : short;
      if (this.#buffered.length < header + length) return;
      const opcode = (this.#buffered[0] ?? 0) & 0x0f;
      const payload = this.#buffered.subarray(header, header + length).toString();
      this.#buffered = this.#buffered.subarray(header + length);
      if (opcode !== 1) continue;
      const message = JSON.parse(payload) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) continue;
      const waiting = this.#waiting.get(message.id);
      this.#waiting.delete(message.id);
      if (message.error === undefined) waiting?.resolve(message.result);
      else waiting?.reject(new Error(`inspector: ${message.error.message}`));
    }
  }
}
