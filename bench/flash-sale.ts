/**
 * A flash sale on the full HTTP path, next to the older system's row-lock design in the same run.
 *
 * Ours: `app/server.ts` as its own process on MariaDB (events, keys, reactors), JWT auth, schema
 * validation, the per-concert batching writer. Baseline: bench/row-lock-baseline.ts, the same
 * HTTP front with one locking transaction per booking and 50 database connections. The load is
 * autocannon, 100 connections, every request a different signed-in user booking one ticket of
 * one class large enough not to sell out. Afterwards both are audited for oversell.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTime, settled, watchMachine, type CpuTime, type Disturbance } from './cpu-time.ts';
import { readProfile, type ProfileSummary } from './cpu-profile.ts';
import { database } from './database.ts';
import { spawnProcess, stop } from './processes.ts';
import autocannon from 'autocannon';
import { createSigner } from 'fast-jwt';
import knex from 'knex';
import { concertEvents } from '../domain/concert/index.ts';
import { decode } from '../eventstore/decode.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { KeyStore } from '../lib/personal-data/key-store.ts';
import { freePort } from '../test/harness/servers.ts';
import { createBaselineSchema } from './row-lock-baseline.ts';

export interface SaleFigures {
  readonly bookingsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly booked: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Seats held by two bookings, or seats counted past capacity: must be 0. */
  readonly oversold: number;
  /** CPU the server process and MariaDB spent per booking answered 201 in the measured phase, ms (from /proc). */
  readonly serverCpuMsPerBooking?: number;
  /** Of the server's, the part spent in the kernel (stime: sockets, mostly). */
  readonly serverSystemCpuMsPerBooking?: number;
  readonly databaseCpuMsPerBooking?: number;
  /** Statements MariaDB was sent per booking (its `Questions`, less the two the measurement sends). */
  readonly statementsPerBooking?: number;
  /** What else the measured phase shared the machine with: the host's other guests, other programs. */
  readonly disturbance?: Disturbance;
  /** How long the processes took to go quiet after the warm-up, before the measured phase began, ms (settled). */
  readonly settledMs?: number;
  /** Where the server's CPU went in the measured phase (`--cpu-prof`), when the round was profiled. */
  readonly profile?: ProfileSummary;
}

export interface SaleOptions {
  /** Seconds of load before the measured phase, not counted (JIT, pools, the concert's lane). */
  readonly warmupSeconds?: number;
  /** Profile the server (`node --cpu-prof`) into this directory; the summary covers the measured phase only. */
  readonly cpuProfileDir?: string;
}

const SEATS = 150_000;
const CONNECTIONS = 100;

/** Signed-in users with verified addresses (as a token issued after verification says), one token each. */
export function tokens(secret: string, count: number): { userIds: string[]; tokens: string[] } {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: 3_600_000 });
  const userIds = Array.from({ length: count }, () => randomUUID());
  return { userIds, tokens: userIds.map((id) => sign({ sub: id, role: 'customer', jti: randomUUID(), ev: true })) };
}

/** Runs the load; `booked` collects the id of every booking answered 201. */
export async function load(url: string, body: string, userTokens: readonly string[], seconds: number, booked: Set<string> = new Set()): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [{
      method: 'POST',
      path: '/api/v1/bookings',
      body,
      setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${userTokens[next++ % userTokens.length] ?? ''}` } }),
      onResponse: (status, responseBody) => {
        if (status === 201) booked.add((JSON.parse(responseBody) as { id: string }).id);
      },
    }],
  });
}

export function figures(result: autocannon.Result, booked: number, oversold: number): SaleFigures {
  return {
    bookingsPerSecond: booked / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    booked,
    non2xx: result.non2xx,
    errors: result.errors,
    oversold,
  };
}

const buyerInfo = { full_name: 'Rina Kusuma', phone_number: '081234567890', email: 'rina@example.test', ktp_number: '3201234567890001' };

/** The CPU a phase cost the server and MariaDB, per booking it answered 201. */
interface Phase {
  readonly result: autocannon.Result;
  readonly serverCpuMsPerBooking: number;
  readonly serverSystemCpuMsPerBooking: number;
  readonly databaseCpuMsPerBooking: number;
  readonly statementsPerBooking: number;
  readonly disturbance: Disturbance;
  readonly settledMs: number;
  readonly window: { fromUs: number; toUs: number };
}

async function measured(spent: CpuTime, run: () => Promise<autocannon.Result>): Promise<Phase> {
  // The warm-up's requests still in flight when it stopped are answered first, not in the phase.
  const settledMs = await settled(spent.pids);
  const before = await spent.read();
  const machine = await watchMachine(spent.pids);
  const fromUs = Number(process.hrtime.bigint() / 1_000n);
  const result = await run();
  const toUs = Number(process.hrtime.bigint() / 1_000n);
  const disturbance = await machine.stop();
  const after = await spent.read();
  await spent.close();
  const booked = Math.max(1, result.statusCodeStats?.['201']?.count ?? 0);
  return {
    result,
    serverCpuMsPerBooking: (after.serverMs - before.serverMs) / booked,
    serverSystemCpuMsPerBooking: (after.serverSystemMs - before.serverSystemMs) / booked,
    databaseCpuMsPerBooking: (after.databaseMs - before.databaseMs) / booked,
    statementsPerBooking: (after.statements - before.statements - 2) / booked,
    disturbance,
    settledMs,
    window: { fromUs, toUs },
  };
}

function costs(phase: Phase): Pick<SaleFigures, 'serverCpuMsPerBooking' | 'serverSystemCpuMsPerBooking' | 'databaseCpuMsPerBooking' | 'statementsPerBooking' | 'disturbance' | 'settledMs'> {
  const { serverCpuMsPerBooking, serverSystemCpuMsPerBooking, databaseCpuMsPerBooking, statementsPerBooking, disturbance, settledMs } = phase;
  return { serverCpuMsPerBooking, serverSystemCpuMsPerBooking, databaseCpuMsPerBooking, statementsPerBooking, disturbance, settledMs };
}

export async function benchOurs(mysqlServerUrl: string, seconds: number, users: number, options: SaleOptions = {}): Promise<SaleFigures> {
  const db = await database(mysqlServerUrl, `flash_ours_${randomBytes(4).toString('hex')}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-'));
  const secret = randomBytes(32).toString('hex');
  const personalKey = randomBytes(32);
  const port = await freePort();
  const server = await spawnProcess(['app/server.ts'], {
    PORT: String(port), HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: db.url, JWT_SECRET: secret,
    PERSONAL_DATA_KEY: personalKey.toString('base64'), PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'), PAYMENT_GATEWAY: 'sandbox',
    RATE_LIMIT: 'off', LOG_LEVEL: 'warn', BOXOFFICE_ADMIN_PASSWORD: 'Bench-Admin-Pass-2026',
    // The command path, as a command-api instance runs it in production (projectors are a process of their own).
    BOXOFFICE_ROLE: 'command',
  }, /boxoffice is running/, options.cpuProfileDir);
  let window: { fromUs: number; toUs: number } | undefined;
  let sale: SaleFigures | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'Bench-Admin-Pass-2026' }) });
    const adminToken = ((await login.json()) as { access_token: string }).access_token;
    const created = await fetch(`${base}/api/v1/admin/concerts`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'Flash Sale', artist: 'Bench', date: '2099-02-14T12:00:00Z', venue: 'GBK', ticket_classes: [{ name: 'Festival', price: 750_000, total_seats_in_class: SEATS }] }),
    });
    const concert = (await created.json()) as { id: string; ticket_classes: { id: string }[] };
    const signedIn = tokens(secret, users);
    // Registered users already have their data key (their address was sealed at sign-up).
    const keys = await KeyStore.open({ client: 'mysql2', url: db.url }, personalKey);
    for (let i = 0; i < signedIn.userIds.length; i += 2_000) await Promise.all(signedIn.userIds.slice(i, i + 2_000).map((id) => keys.keyFor(id)));
    await keys.close();
    const body = JSON.stringify({ concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.ticket_classes[0]?.id, quantity: 1 }], buyer_info: buyerInfo });
    const answered201 = new Set<string>();
    await load(base, body, signedIn.tokens.slice(0, 2_000), options.warmupSeconds ?? 2, answered201); // JIT, pools, the concert's lane
    const phase = await measured(await cpuTime(server, db.url), () => load(base, body, signedIn.tokens.slice(2_000), seconds, answered201));
    const { result } = phase;
    window = phase.window;
    const booked = result.statusCodeStats?.['201']?.count ?? 0;
    // Audit from the event store: no seat in two holds, no more seats than the class has.
    const store = await SqlEventStore.open({ client: 'mysql2', url: db.url });
    const owners = new Map<string, string>();
    const holds = new Set<string>();
    let oversold = 0;
    for (const recorded of await store.readStream(`concert-${concert.id}`)) {
      const event = decode(recorded, concertEvents);
      if (event.type !== 'SeatsHeld') continue;
      const held = event.data;
      holds.add(held.booking_id);
      for (const seat of held.seats) {
        if (owners.has(seat.seat_id)) oversold++;
        owners.set(seat.seat_id, held.booking_id);
      }
    }
    await store.close();
    if (owners.size > SEATS) oversold += owners.size - SEATS;
    for (const id of answered201) if (!holds.has(id)) oversold++; // a 201 without its seats would be a lie
    sale = { ...figures(result, booked, oversold), ...costs(phase) };
  } finally {
    await stop(server);
    await rm(dataDir, { recursive: true, force: true });
    await db.drop();
  }
  if (options.cpuProfileDir === undefined || window === undefined) return sale;
  // Written when the server exits, named CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: its main thread's (tsx's loader is a thread too).
  const file = (await readdir(options.cpuProfileDir)).find((f) => f.includes(`.${server.pid}.0.`) && f.endsWith('.cpuprofile'));
  return file === undefined ? sale : { ...sale, profile: await readProfile(join(options.cpuProfileDir, file), window) };
}

export async function benchBaseline(mysqlServerUrl: string, seconds: number, users: number, options: SaleOptions = {}): Promise<SaleFigures> {
  const db = await database(mysqlServerUrl, `flash_base_${randomBytes(4).toString('hex')}`);
  const secret = randomBytes(32).toString('hex');
  const classId = randomUUID();
  const concertId = randomUUID();
  const setup = knex({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
  await createBaselineSchema(setup, classId, concertId, SEATS, 750_000);
  const port = await freePort();
  const server = await spawnProcess(['bench/row-lock-baseline.ts'], { PORT: String(port), MYSQL_URL: db.url, JWT_SECRET: secret }, /baseline listening/);
  try {
    const signedIn = tokens(secret, users);
    const body = JSON.stringify({ concert_id: concertId, tickets_by_class: [{ ticket_class_id: classId, quantity: 1 }], buyer_info: buyerInfo });
    const base = `http://127.0.0.1:${port}`;
    const answered201 = new Set<string>();
    await load(base, body, signedIn.tokens.slice(0, 2_000), options.warmupSeconds ?? 2, answered201);
    const phase = await measured(await cpuTime(server, db.url), () => load(base, body, signedIn.tokens.slice(2_000), seconds, answered201));
    const { result } = phase;
    const booked = result.statusCodeStats?.['201']?.count ?? 0;
    // Requests still in flight when the load stopped finish before the audit: the server answers them, then exits.
    await stop(server);
    const [{ reserved = 0 } = {}] = await setup('seats').where({ status: 'reserved' }).count<{ reserved: number }[]>({ reserved: '*' });
    const [{ available = 0 } = {}] = await setup('ticket_classes').where({ id: classId }).select<{ available: number }[]>({ available: 'available_seats' });
    const stored = new Set((await setup('bookings').select<{ id: string }[]>('id')).map((row) => row.id));
    let oversold = Math.abs(Number(reserved) + Number(available) - SEATS) + Math.max(0, Number(reserved) - SEATS);
    for (const id of answered201) if (!stored.has(id)) oversold++;
    return { ...figures(result, booked, oversold), ...costs(phase) };
  } finally {
    await stop(server);
    await setup.destroy();
    await db.drop();
  }
}
