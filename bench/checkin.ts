/**
 * The door at opening time: admissions over HTTP from 50 gates at once, every scan a different
 * ticket's QR code, each ticket scanned once, next to the CRUD door in the same run.
 *
 * Ours: `node bin/boxoffice.js serve --role command` on MariaDB (events and keys in one database),
 * a concert whose tickets were sold through the real deciders: the concert's holds and sales
 * decided by a ConcertWriter, each booking's stream (placed, payment opened and started,
 * confirmed) by the booking decider, holders sealed with the deployment's key. A scan is the
 * route's whole path: JWT, schema, the QR's signature, the concert's batching writer deciding
 * AdmitTicket and appending TicketAdmitted, then the holder's name opened for the gate.
 * Baseline: bench/checkin-baseline.ts, the same HTTP front with one conditional UPDATE per scan on a
 * plain tickets table of the same tickets.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createSigner } from 'fast-jwt';
import knex from 'knex';
import { cpuMsOf, databasePid, statementsSent } from './cpu-time.ts';
import { placeBookingFrom } from '../command-api/bookings/placement.ts';
import { toAppend } from '../command-api/command-handler.ts';
import { ConcertWriter } from '../command-api/concerts/concert-writer.ts';
import { bookingDecider, bookingStream, type BookingCommand, type BookingEvent, type BookingState } from '../domain/booking/index.ts';
import { concertStream } from '../domain/concert/index.ts';
import type { CommandContext } from '../domain/index.ts';
import type { StreamWrite } from '../eventstore/port.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { KtpFingerprints } from '../lib/personal-data/fingerprint.ts';
import { KeyStore } from '../lib/personal-data/key-store.ts';
import { PersonalData } from '../lib/personal-data/personal-data.ts';
import { initialsOf, TicketCodes } from '../lib/tickets/ticket-codes.ts';
import { freePort } from '../test/harness/servers.ts';
import { createTicketsTable, type BaselineTicket } from './checkin-baseline.ts';
import { database } from './database.ts';
import { spawnProcess, stop } from './processes.ts';
import { ascending, quantile } from './quantile.ts';

export interface ScanFigures {
  readonly scansPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly scans: number;
  readonly admitted: number;
  readonly non2xx: number;
  readonly errors: number;
  /** CPU the server process and MariaDB spent per scan (ms), and statements sent to MariaDB per scan. */
  readonly serverCpuMsPerScan: number;
  readonly databaseCpuMsPerScan: number;
  readonly queriesPerScan: number;
}

export interface CheckinFigures {
  readonly tickets: number;
  readonly ours: readonly ScanFigures[];
  readonly baseline: readonly ScanFigures[];
  readonly pacedRate: number;
  readonly oursPaced: ScanFigures;
  readonly baselinePaced: ScanFigures;
  /** TicketAdmitted events in the concert stream / admitted rows in the table, after the runs. */
  readonly oursAdmittedStored: number;
  readonly baselineAdmittedStored: number;
  readonly historySeconds: number;
  /** The machine's 1-minute load average when the scans began: other work on the 2 cores. */
  readonly loadAverage: number;
}

export interface CheckinOptions {
  readonly gates: number;
  /** Scans of the warm-up (each side), then of each round. */
  readonly warmup: number;
  readonly perRound: number;
  readonly rounds: number;
  /** Then scans at a steady rate (scans/s over all gates), the latency a door sees below its ceiling. */
  readonly pacedRate: number;
  readonly pacedScans: number;
  readonly log: (line: string) => void;
}

const TICKETS_PER_BOOKING = 5;
const ADMIN_PASSWORD = 'Bench-Admin-Pass-2026';

interface Ticket extends BaselineTicket {
  readonly qr: string;
}

function context(actorId: string | null, at: string): CommandContext {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actorId, occurredAt: at };
}

const fourDigits = (): string => String(Math.floor(Math.random() * 1e4)).padStart(4, '0');

/**
 * A concert with `count` sold tickets, written through the deciders: the concert's holds and
 * sales by a ConcertWriter (which also saves its snapshots), each booking's stream by the booking
 * decider, in waves of 500 bookings.
 */
async function soldConcert(url: string, personalKey: Buffer, digestKey: Buffer, codes: TicketCodes, count: number, log: (line: string) => void): Promise<{ concertId: string; tickets: Ticket[] }> {
  const store = await SqlEventStore.open({ client: 'mysql2', url });
  const keys = await KeyStore.open({ client: 'mysql2', url }, personalKey);
  const personalData = new PersonalData(keys);
  const ktp = new KtpFingerprints(digestKey);
  const writer = new ConcertWriter(store, { queueLimit: 1_000_000, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => log(`  background: ${String(error)}`) });
  try {
    const concertId = randomUUID();
    const classId = randomUUID();
    const now = () => new Date().toISOString();
    const submit = (command: Parameters<ConcertWriter['submit']>[1], actor: string | null = null) => writer.submit(concertId, command, context(actor, command.now));
    await submit({
      type: 'ScheduleConcert', concert_id: concertId, name: 'Opening Night', artist: 'Bench', date: '2099-03-01T12:00:00.000Z', venue: 'GBK',
      description: null, image_url: null, max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null,
      ticket_classes: [{ ticket_class_id: classId, name: 'Festival', price: 500_000, seat_count: count }], publish: true, now: now(),
    });
    const tickets: Ticket[] = [];
    const bookings = Math.ceil(count / TICKETS_PER_BOOKING);
    for (let wave = 0; wave < bookings; wave += 500) {
      const size = Math.min(500, bookings - wave);
      const expiresAt = new Date(Date.now() + 900_000).toISOString();
      // Holds: each ticket with a holder of its own (name and KTP sealed with the buyer's key).
      const held = await Promise.all(Array.from({ length: size }, async (_, i) => {
        const userId = randomUUID();
        const quantity = Math.min(TICKETS_PER_BOOKING, count - (wave + i) * TICKETS_PER_BOOKING);
        const holders = Array.from({ length: quantity }, (_, n) => ({ full_name: `Penonton ${wave + i} ${n}`, ktp_number: `3201${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}${fourDigits()}` }));
        const buyer = { full_name: `Pembeli ${wave + i}`, phone_number: '081234567890', email: `buyer${wave + i}@example.test`, ktp_number: holders[0]?.ktp_number ?? '' };
        const written = await submit({
          type: 'HoldSeats', booking_id: randomUUID(), user_id: userId, selection: { by: 'class', tickets: [{ ticket_class_id: classId, quantity }] },
          ktp_fingerprints: holders.map((holder) => ktp.of(holder.ktp_number)),
          personal_data: { buyer: await personalData.seal(userId, buyer), ticket_holders: await Promise.all(holders.map((holder) => personalData.seal(userId, holder))) },
          expires_at: expiresAt, now: now(),
        }, userId);
        const [event] = written.events;
        if (event?.type !== 'SeatsHeld') throw new Error('a hold decided no SeatsHeld');
        return { held: event.data, holders };
      }));
      // Paid: each booking's stream decided from its hold, then the concert sells the seats to the payment.
      const writes: StreamWrite[] = [];
      await Promise.all(held.map(async ({ held: hold, holders }) => {
        const paymentId = randomUUID();
        const transactionId = randomUUID();
        const at = now();
        const booking = decideAll(hold.user_id, at, [
          placeBookingFrom(hold, at),
          { type: 'OpenPayment', payment_id: paymentId, method: 'e_wallet', amount: hold.total_price, now: at },
          { type: 'StartPayment', payment_id: paymentId, transaction_id: transactionId, now: at },
        ]);
        const sold = await submit({ type: 'SellSeats', booking_id: hold.booking_id, transaction_id: transactionId, now: now() });
        if (sold.events[0]?.type !== 'SeatsSold') throw new Error(`booking ${hold.booking_id} was not sold`);
        booking.confirm(transactionId, now());
        writes.push({ stream: bookingStream(hold.booking_id), expected: 'no_stream', events: booking.envelopes });
        hold.seats.forEach((seat, n) => {
          const holder = holders[n] ?? holders[0];
          tickets.push({
            id: seat.seat_id, concertId, seatNumber: seat.seat_number,
            qr: codes.sign({ t: seat.seat_id, c: concertId, s: seat.seat_number, r: 1, h: initialsOf(holder?.full_name ?? ''), k: holder?.ktp_number.slice(-4) ?? '0000' }),
          });
        });
      }));
      for (const result of await store.appendMany(writes)) if (result.status === 'rejected') throw result.reason;
      if ((wave / 500) % 4 === 3) log(`  ${tickets.length.toLocaleString('en-US')} tickets sold`);
    }
    await writer.drain();
    return { concertId, tickets };
  } finally {
    await keys.close();
    await store.close();
  }
}

/** Runs booking commands through the booking decider, keeping the events to append. */
function decideAll(actor: string, at: string, commands: readonly BookingCommand[]): { envelopes: ReturnType<typeof toAppend>; confirm: (transactionId: string, now: string) => void } {
  let state: BookingState = bookingDecider.initialState();
  const envelopes: ReturnType<typeof toAppend> = [];
  const run = (command: BookingCommand, who: string | null, now: string) => {
    const events: BookingEvent[] = bookingDecider.decide(command, state);
    for (const event of events) state = bookingDecider.evolve(state, event);
    envelopes.push(...toAppend(events, context(who, now), randomUUID));
  };
  for (const command of commands) run(command, actor, at);
  return { envelopes, confirm: (transactionId, now) => run({ type: 'ConfirmBooking', transaction_id: transactionId, now }, null, now) };
}

interface Costs {
  /** CPU time the server process has used, ms. */
  serverCpuMs(): Promise<number>;
  databaseCpuMs(): Promise<number>;
  /** Statements the MariaDB server has been sent (all databases). */
  queries(): Promise<number>;
}

/** What a server process and the database have spent, read before and after a round. */
function costs(child: ChildProcess | undefined, db: knex.Knex): Costs {
  return {
    serverCpuMs: () => cpuMsOf(child?.pid ?? 0),
    databaseCpuMs: async () => cpuMsOf(await databasePid(db)),
    queries: () => statementsSent(db),
  };
}

/** `tickets` scanned once each by `gates` connections at once; latency from autocannon's histogram. */
async function scanAll(base: string, token: string, tickets: readonly Ticket[], gates: number, spent?: Costs): Promise<ScanFigures> {
  const measure = async (costs: Costs) => ({ cpu: await costs.serverCpuMs(), database: await costs.databaseCpuMs(), queries: await costs.queries() });
  const before = spent && await measure(spent);
  let next = 0;
  const bodies = tickets.map((ticket, i) => JSON.stringify({ qr: ticket.qr, gate: `gate-${i % gates}` }));
  // Timed here: autocannon's own `duration` of a run of so many requests is in whole seconds (a 6.4 s round read as 6).
  const started = performance.now();
  const result = await autocannon({
    url: base,
    connections: gates,
    amount: tickets.length,
    timeout: 30,
    requests: [{
      method: 'POST',
      path: '/api/v1/checkin',
      setupRequest: (request) => ({ ...request, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: bodies[next++] ?? '' }),
    }],
  });
  const seconds = (performance.now() - started) / 1000;
  const admitted = result['2xx'];
  const after = spent && await measure(spent);
  return {
    serverCpuMsPerScan: before && after ? (after.cpu - before.cpu) / tickets.length : Number.NaN,
    databaseCpuMsPerScan: before && after ? (after.database - before.database) / tickets.length : Number.NaN,
    // Less the two status reads themselves.
    queriesPerScan: before && after ? (after.queries - before.queries - 2) / tickets.length : Number.NaN,
    scansPerSecond: admitted / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    scans: result.requests.total,
    admitted,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * `tickets` scanned at a steady `rate` (scans/s), each sent at its time whether or not earlier ones
 * were answered (an open loop, as people arrive at gates), latency counted from that time.
 */
async function scanPaced(base: string, token: string, tickets: readonly Ticket[], gates: number, rate: number, spent: Costs): Promise<ScanFigures> {
  const measure = async () => ({ cpu: await spent.serverCpuMs(), database: await spent.databaseCpuMs(), queries: await spent.queries() });
  const before = await measure();
  const latencies: number[] = [];
  let admitted = 0;
  let failed = 0;
  const started = performance.now();
  // node:http with 50 kept-alive sockets, one per gate: light enough to keep its schedule on a busy machine.
  const agent = new Agent({ keepAlive: true, maxSockets: gates });
  const url = new URL('/api/v1/checkin', base);
  const scan = (ticket: Ticket, i: number, due: number): Promise<void> => new Promise<void>((resolve) => {
    const body = JSON.stringify({ qr: ticket.qr, gate: `gate-${i % gates}` });
    const done = (ok: boolean) => {
      if (ok) admitted++;
      else failed++;
      latencies.push(performance.now() - due);
      resolve();
    };
    const request = httpRequest(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    }, (response) => {
      response.resume();
      response.once('end', () => done(response.statusCode === 200));
      response.once('error', () => done(false));
    });
    request.once('error', () => done(false));
    request.end(body);
  });
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < tickets.length; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(scan(tickets[i] as Ticket, i, due));
  }
  await Promise.all(inFlight);
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  const after = await measure();
  const sorted = ascending(latencies);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    scansPerSecond: admitted / seconds,
    p50Ms: round(quantile(sorted, 0.5)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    scans: tickets.length,
    admitted,
    non2xx: failed,
    errors: 0,
    serverCpuMsPerScan: (after.cpu - before.cpu) / tickets.length,
    databaseCpuMsPerScan: (after.database - before.database) / tickets.length,
    queriesPerScan: (after.queries - before.queries - 2) / tickets.length,
  };
}

async function waitForReactors(base: string, token: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await fetch(`${base}/api/v1/admin/reactors`, { headers: { authorization: `Bearer ${token}` } });
    const reactors = (await answer.json()) as { lag: number }[];
    if (answer.ok && reactors.every((reactor) => reactor.lag === 0)) return;
    if (Date.now() > deadline) throw new Error(`reactors not caught up: ${JSON.stringify(reactors)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function benchCheckin(mysqlServerUrl: string, options: CheckinOptions): Promise<CheckinFigures> {
  const measured = options.warmup + options.rounds * options.perRound;
  const total = measured + options.pacedScans;
  const suffix = randomBytes(4).toString('hex');
  const oursDb = await database(mysqlServerUrl, `checkin_ours_${suffix}`);
  const baseDb = await database(mysqlServerUrl, `checkin_base_${suffix}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-'));
  const jwtSecret = randomBytes(32).toString('hex');
  const personalKey = randomBytes(32);
  const digestKey = randomBytes(32);
  const signingKey = randomBytes(32);
  const codes = new TicketCodes([signingKey]);
  const processes: ChildProcess[] = [];
  const baseDbClient = knex({ client: 'mysql2', connection: baseDb.url, pool: { min: 0, max: 2 } });
  try {
    options.log(`  selling ${total.toLocaleString('en-US')} tickets through the deciders`);
    const started = performance.now();
    const { concertId, tickets } = await soldConcert(oursDb.url, personalKey, digestKey, codes, total, options.log);
    const historySeconds = (performance.now() - started) / 1000;
    await createTicketsTable(baseDbClient, tickets);
    options.log(`  history written in ${historySeconds.toFixed(1)} s; starting the servers`);

    const [oursPort, basePort] = await Promise.all([freePort(), freePort()]);
    processes.push(await spawnProcess(['bin/boxoffice.js', 'serve', '--role', 'command'], {
      PORT: String(oursPort), HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: oursDb.url, JWT_SECRET: jwtSecret,
      PERSONAL_DATA_KEY: personalKey.toString('base64'), PERSONAL_DATA_DIGEST_KEY: digestKey.toString('base64'), TICKET_SIGNING_KEYS: signingKey.toString('base64'),
      PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'), PAYMENT_GATEWAY: 'sandbox',
      RATE_LIMIT: 'off', LOG_LEVEL: 'warn', BOXOFFICE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    }, /boxoffice is running/));
    processes.push(await spawnProcess(['bench/checkin-baseline.ts'], {
      PORT: String(basePort), MYSQL_URL: baseDb.url, JWT_SECRET: jwtSecret, TICKET_SIGNING_KEYS: signingKey.toString('base64'),
    }, /baseline listening/));
    const ours = `http://127.0.0.1:${oursPort}`;
    const baseline = `http://127.0.0.1:${basePort}`;
    const login = await fetch(`${ours}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const adminToken = ((await login.json()) as { access_token: string }).access_token;
    // The baseline checks the same kind of token: a staff account's, signed with the same secret.
    const staffToken = createSigner({ key: jwtSecret, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: randomUUID(), role: 'staff', jti: randomUUID() });
    // The command role's reactors go through the whole history first (they index every sale).
    await waitForReactors(ours, adminToken);

    const loadAverage = loadavg()[0] ?? 0;
    const warm = tickets.slice(0, options.warmup);
    await scanAll(baseline, staffToken, warm, options.gates);
    await scanAll(ours, adminToken, warm, options.gates); // JIT, pools, the concert's lane loaded
    const oursRuns: ScanFigures[] = [];
    const baselineRuns: ScanFigures[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const slice = tickets.slice(options.warmup + round * options.perRound, options.warmup + (round + 1) * options.perRound);
      baselineRuns.push(await scanAll(baseline, staffToken, slice, options.gates, costs(processes[1], baseDbClient)));
      options.log(`  round ${round + 1} baseline: ${Math.round(baselineRuns[round]?.scansPerSecond ?? 0)} scans/s`);
      oursRuns.push(await scanAll(ours, adminToken, slice, options.gates, costs(processes[0], baseDbClient)));
      options.log(`  round ${round + 1} ours: ${Math.round(oursRuns[round]?.scansPerSecond ?? 0)} scans/s, p99 ${oursRuns[round]?.p99Ms ?? '?'} ms`);
    }

    const paced = tickets.slice(measured);
    const baselinePaced = await scanPaced(baseline, staffToken, paced, options.gates, options.pacedRate, costs(processes[1], baseDbClient));
    const oursPaced = await scanPaced(ours, adminToken, paced, options.gates, options.pacedRate, costs(processes[0], baseDbClient));
    options.log(`  at ${options.pacedRate} scans/s: p99 ${oursPaced.p99Ms} ms ours, ${baselinePaced.p99Ms} ms baseline`);

    // Audit: every 200 is one stored admission, on both sides.
    const store = await SqlEventStore.open({ client: 'mysql2', url: oursDb.url });
    const oursAdmittedStored = (await store.readStream(concertStream(concertId))).filter((recorded) => recorded.type === 'TicketAdmitted').length;
    await store.close();
    const [{ admitted = 0 } = {}] = await baseDbClient('tickets').whereNotNull('admitted_at').count<{ admitted: number }[]>({ admitted: '*' });
    return { tickets: total, ours: oursRuns, baseline: baselineRuns, pacedRate: options.pacedRate, oursPaced, baselinePaced, oursAdmittedStored, baselineAdmittedStored: Number(admitted), historySeconds, loadAverage };
  } finally {
    for (const child of processes) await stop(child);
    await baseDbClient.destroy();
    await rm(dataDir, { recursive: true, force: true });
    await oursDb.drop();
    await baseDb.drop();
  }
}
