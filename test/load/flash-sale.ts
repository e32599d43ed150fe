/**
 * A flash sale against the real HTTP stack, and the auditor that judges it afterwards.
 *
 * One server process (every role) on MariaDB, Redis and NATS. Users rush one concert at once,
 * booking by quantity or by seat id; each then pays at once (and the gateway says yes or no),
 * cancels, pays after the hold has expired, or walks away and lets the hold expire. A second
 * wave of refused users tries again for the seats that came free. Some clients send the same
 * request twice with the same Idempotency-Key. When the dust has settled, the auditor checks,
 * from the event store alone and from the read models: no seat sold twice; sold + held +
 * available = capacity per class; every 201 has its booking; every confirmed booking exactly one
 * succeeded payment; the money ledger (money taken = seats sold to confirmed bookings + money owed
 * back); no reactor parked anything; the booking statuses, the seat map and the Redis
 * availability agree with a replay of the events.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import type { Test } from 'tap';
import { signWebhook } from '../../command-api/payments/gateway.ts';
import { ReactorStore } from '../../command-api/reactors/reactor-store.ts';
import { toAppend } from '../../command-api/command-handler.ts';
import { bookingEvents } from '../../domain/booking/index.ts';
import { concertEvents as concertEventSet } from '../../domain/concert/index.ts';
import type { CommandContext } from '../../domain/index.ts';
import type { Sealed } from '../../domain/shared/personal-data.ts';
import { userDecider, userStream } from '../../domain/user/index.ts';
import { decode, eventsOf, type DecodedFrom } from '../../eventstore/decode.ts';
import type { RecordedEvent, StreamWrite } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import type { SalesReport } from '../../query-api/reports/sales-report.ts';
import { eventually } from '../support/eventually.ts';
import { moneyEvents, replayLedger } from '../support/ledger-replay.ts';
import { eachConcurrently } from '../../lib/each-concurrently.ts';
import { replaySeats } from '../support/seat-replay.ts';

export interface SaleSize {
  readonly users: number;
  readonly seats: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
}

export interface Sale {
  /** Where commands go (in turn; a client that gets no answer tries the next) and where reads go. */
  readonly commands: readonly string[];
  readonly reads: string;
  /**
   * Faults are being injected: a request that gets no answer, a 5xx or a 503 is counted and
   * sent again (same Idempotency-Key) until it is answered; without, it fails the sale.
   */
  readonly resilient?: boolean;
  readonly mysqlUrl: string;
  readonly jwtSecret: string;
  readonly webhookSecret: string;
  readonly adminPassword: string;
  readonly holdTtlSeconds: number;
}

type Plan = 'pay' | 'pay-declined' | 'cancel' | 'pay-late' | 'walk-away';

interface Answered {
  readonly user: string;
  readonly token: string;
  readonly id: string;
  readonly seats: readonly string[];
  readonly totalPrice: number;
  /** What its client does; a client that came back after its hold's time is left with 'walk-away'. */
  plan: Plan;
  /** When its hold expires, as the 201 said (epoch ms). */
  readonly expiresAt: number;
}

/** What the clients saw: requests by outcome. */
export class Tally {
  readonly byStatus = new Map<string, number>();
  requests = 0;

  count(status: number, code?: string): void {
    this.requests++;
    const key = code === undefined ? String(status) : `${status} ${code}`;
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  toString(): string {
    return [...this.byStatus].sort().map(([key, count]) => `${key}: ${count}`).join(', ');
  }
}

const PLANS: readonly Plan[] = ['pay', 'pay', 'pay', 'pay', 'pay-declined', 'cancel', 'cancel', 'pay-late', 'walk-away', 'walk-away'];

/** A request that got no answer, a 5xx or a 503, and when (epoch ms). */
export interface Failure {
  readonly at: number;
  readonly what: string;
}

export interface SaleResult {
  readonly failures: readonly Failure[];
  /** Requests sent again with the same Idempotency-Key after a failure, and how many got the first answer's booking. */
  readonly retriedAfterFailure: { readonly retried: number; readonly consistent: number };
}

/**
 * The sale's users as sign-up leaves them, registered and verified, in the event store (one
 * password hash for all, an address nobody opens). Their tokens must stand on a record: while
 * Redis is away, every token is checked against its user's stream (lib/security/sessions.ts).
 */
async function registerUsers(mysqlUrl: string, userIds: readonly string[]): Promise<void> {
  const store = await SqlEventStore.open({ client: 'mysql2', url: mysqlUrl });
  try {
    const now = new Date().toISOString();
    const context: CommandContext = { correlationId: randomUUID(), causationId: 'load-test users', actorId: null, occurredAt: now };
    const email: Sealed = { key_id: randomUUID(), alg: 'A256GCM', iv: 'aXY', ciphertext: '', tag: 'dGFn' };
    const streams = userIds.map((userId): StreamWrite => {
      const emailHash = createHash('sha256').update(userId).digest('hex');
      const registered = userDecider.decide({ type: 'RegisterUser', user_id: userId, username: `load-${userId}`, email_hash: emailHash, email, password_hash: 'not-a-hash', role: 'customer', now }, userDecider.initialState());
      const state = registered.reduce(userDecider.evolve, userDecider.initialState());
      const events = [...registered, ...userDecider.decide({ type: 'VerifyEmail', email_hash: emailHash, now }, state)];
      return { stream: userStream(userId), events: toAppend(events, context, randomUUID), expected: 'no_stream' };
    });
    for (let i = 0; i < streams.length; i += 500) {
      const results = await store.appendMany(streams.slice(i, i + 500));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw new Error(`a load-test user was not registered: ${String(failed.reason)}`);
    }
  } finally {
    await store.close();
  }
}

export async function runSale(t: Test, sale: Sale, size: SaleSize): Promise<SaleResult> {
  const tally = new Tally();
  const failures: Failure[] = [];
  let turn = 0;
  const send = async (base: string, method: string, path: string, headers: Record<string, string>, body: string | undefined) => {
    try {
      const response = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      return { status: 0, text: String(error) };
    }
  };
  const call = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
    const allHeaders = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers };
    const raw = body === undefined ? undefined : JSON.stringify(body);
    const deadline = Date.now() + 90_000;
    for (let attempts = 1; ; attempts++) {
      const base = method === 'GET' ? sale.reads : (sale.commands[turn++ % sale.commands.length] as string);
      const { status, text } = await send(base, method, path, allHeaders, raw);
      const json = (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : {}) as Record<string, unknown>;
      tally.count(status, status >= 400 ? String(json.code) : status === 0 ? 'NO_ANSWER' : undefined);
      const failed = status === 0 || status >= 500;
      if (failed && sale.resilient === true && Date.now() < deadline) {
        failures.push({ at: Date.now(), what: `${method} ${path}: ${status === 0 ? text.slice(0, 80) : `${status} ${String(json.code)}`}` });
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      if (failed && !(status === 503 && sale.resilient !== true && json.code === 'OVERLOADED')) throw new Error(`${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
      return { status, json, attempts };
    }
  };

  const login = await call('POST', '/api/v1/users/login', null, { username: 'admin', password: sale.adminPassword });
  const admin = String(login.json.access_token);
  const vipSeats = Math.max(1, Math.floor(size.seats / 5));
  const created = await call('POST', '/api/v1/admin/concerts', admin, {
    name: 'Load Test', artist: 'Hindia', date: '2099-05-01T12:00:00Z', venue: 'GBK', max_tickets_per_ktp: 4,
    ticket_classes: [{ name: 'VIP', price: 2_000_000, total_seats_in_class: vipSeats }, { name: 'Festival', price: 750_000, total_seats_in_class: size.seats - vipSeats }],
  });
  t.equal(created.status, 201, 'the concert is created');
  const concertId = String(created.json.id);
  const classes = created.json.ticket_classes as { id: string; name: string; total_seats_in_class: number }[];
  const seatIds = await eventually(async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call('GET', `/api/v1/concerts/${concertId}/seats?limit=100&min_position=${String(created.json.position)}${cursor === null ? '' : `&cursor=${cursor}`}`, null);
      if (page.status !== 200) return undefined;
      ids.push(...(page.json.items as { id: string }[]).map((seat) => seat.id));
      cursor = page.json.next_cursor as string | null;
    } while (cursor !== null);
    return ids.length === size.seats ? ids : undefined;
  }, 'the seat map', 30_000);

  // Signed with the deployment's key, as the login route would: the sale is about booking.
  const sign = createSigner({ key: sale.jwtSecret, algorithm: 'HS256', expiresIn: 3_600_000 });
  const users = Array.from({ length: size.users }, () => randomUUID()).map((id) => ({ id, token: sign({ sub: id, role: 'customer', jti: randomUUID(), ev: true }) }));
  await registerUsers(sale.mysqlUrl, users.map((user) => user.id));
  const answered: Answered[] = [];
  const retriedSame = { retried: 0, same: 0 };
  const afterFailure = { retried: 0, consistent: 0 };
  const soldOut: typeof users = [];
  let random = 42;
  const next = (): number => (random = (random * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;

  const webhook = async (transactionId: string, status: 'succeeded' | 'failed', amount: number) => {
    const body = { transaction_id: transactionId, status, amount };
    const answer = await call('POST', '/api/v1/payments/webhook', null, body, { 'x-signature': signWebhook(sale.webhookSecret, JSON.stringify(body)) });
    if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  };
  const late: { transactionId: string; amount: number }[] = [];
  /**
   * A cancel or payment refused because the hold expired: on a slow machine a client can come back
   * after its hold's expires_at (the 201's). Only then is it an expired booking, audited as one; a
   * hold refused as expired before its expires_at fails the sale.
   */
  const outrun = (booking: Answered, answer: { status: number; json: Record<string, unknown> }): boolean => {
    const expired = answer.status === 409 && (answer.json.code === 'HOLD_EXPIRED' || (answer.json.code === 'BOOKING_NOT_CANCELLABLE' || answer.json.code === 'BOOKING_NOT_PAYABLE') && answer.json.status === 'expired');
    if (!expired) return false;
    if (Date.now() < booking.expiresAt) throw new Error(`booking ${booking.id} was refused as expired before its expires_at: ${JSON.stringify(answer.json)}`);
    booking.plan = 'walk-away';
    outran.push(booking.id);
    return true;
  };
  const outran: string[] = [];
  const settle = async (booking: Answered): Promise<void> => {
    if (booking.plan === 'walk-away') return;
    if (booking.plan === 'cancel') {
      const cancelled = await call('PUT', `/api/v1/bookings/${booking.id}/cancel`, booking.token);
      if (outrun(booking, cancelled)) return;
      t.equal(cancelled.status, 200, 'a pending booking is cancelled');
      return;
    }
    const payment = await call('POST', '/api/v1/payments', booking.token, { booking_id: booking.id, payment_method: 'virtual_account' }, { 'idempotency-key': `pay-${booking.id}` });
    if (outrun(booking, payment)) return;
    if (payment.status !== 201 && payment.status !== 200) throw new Error(`payment answered ${payment.status}: ${JSON.stringify(payment.json)}`);
    const transactionId = String(payment.json.transaction_id);
    const amount = Number(payment.json.amount);
    if (amount !== booking.totalPrice) throw new Error(`payment of ${amount} for a booking of ${booking.totalPrice}`);
    if (booking.plan === 'pay-late') late.push({ transactionId, amount });
    else await webhook(transactionId, booking.plan === 'pay' ? 'succeeded' : 'failed', amount);
  };

  const book = async (user: (typeof users)[number], i: number, wave: 1 | 2): Promise<void> => {
    const bySeat = wave === 1 && i % 5 < 2;
    const quantity = 1 + Math.floor(next() * 3);
    const body = {
      concert_id: concertId,
      ...(bySeat
        ? { seat_ids: [...new Set(Array.from({ length: Math.min(quantity, 2) }, () => seatIds[Math.floor(next() * seatIds.length)] as string))] }
        : { tickets_by_class: [{ ticket_class_id: (classes[next() < 0.2 ? 0 : 1] as { id: string }).id, quantity }] }),
      buyer_info: { full_name: `Fan ${i}`, phone_number: '081234567890', email: `fan${i}@example.test`, ktp_number: String(3_201_000_000_000_000 + i) },
    };
    const key = `load-${wave}-${i}`;
    const first = await call('POST', '/api/v1/bookings', user.token, body, { 'idempotency-key': key });
    if (first.attempts > 1) {
      // Sent again after no answer or a 5xx: whatever the lost attempt did, this is its answer.
      afterFailure.retried++;
      if (first.status === 201 || first.json.code === 'SOLD_OUT' || first.json.code === 'SEAT_UNAVAILABLE') afterFailure.consistent++;
    }
    if (first.status === 201 && i % 10 === 3) {
      // The client did not see its answer (say) and sends the same request again: the same booking.
      retriedSame.retried++;
      const again = await call('POST', '/api/v1/bookings', user.token, body, { 'idempotency-key': key });
      if (again.status === 201 && again.json.id === first.json.id && JSON.stringify(again.json.seats) === JSON.stringify(first.json.seats)) retriedSame.same++;
    }
    if (first.status === 201) {
      const booking: Answered = {
        user: user.id, token: user.token, id: String(first.json.id), seats: (first.json.seats as { id: string }[]).map((seat) => seat.id),
        totalPrice: Number(first.json.total_price), plan: wave === 2 ? 'pay' : (PLANS[i % PLANS.length] as Plan),
        expiresAt: Date.parse(String(first.json.expires_at)),
      };
      answered.push(booking);
      await settle(booking);
    } else if (first.json.code === 'SOLD_OUT' && wave === 1) {
      soldOut.push(user);
    }
  };

  const started = Date.now();
  // Each client settles its booking as soon as it has it: pays (accepted or declined), cancels,
  // starts paying and goes quiet until its hold has expired, or walks away.
  await eachConcurrently(users, size.concurrency, (user, i) => book(user, i, 1));
  // Seats came free (cancelled, declined, expired): the refused try again, and pay at once.
  await eachConcurrently(soldOut, size.concurrency, (user, i) => book(user, size.users + i, 2));
  // The late payers' money arrives after their holds expired.
  await new Promise((resolve) => setTimeout(resolve, sale.holdTtlSeconds * 1_000 + 1_500));
  await eachConcurrently(late, size.concurrency, ({ transactionId, amount }) => webhook(transactionId, 'succeeded', amount));
  t.comment(`sale: ${tally.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s — ${tally.toString()}`);
  if (outran.length > 0) t.comment(`${outran.length} clients came back after their hold's expires_at and found it expired (audited as expired)`);
  if (sale.resilient !== true) t.equal([...tally.byStatus.keys()].filter((key) => key.startsWith('5') || key.startsWith('0')).length, 0, 'no 5xx answered, no 503 either');
  t.ok(answered.length > 0 && soldOut.length > 0, `the sale sold out: ${answered.length} bookings accepted, ${soldOut.length} refused SOLD_OUT in the rush`);
  t.equal(retriedSame.same, retriedSame.retried, `every retry with the same Idempotency-Key got the first answer (${retriedSame.retried})`);
  t.equal(afterFailure.consistent, afterFailure.retried, `every booking sent again after a failure got its own answer, never ACTIVE_BOOKING_EXISTS (${afterFailure.retried})`);
  t.equal(tally.byStatus.get('409 ACTIVE_BOOKING_EXISTS') ?? 0, 0, 'nobody was told they already had a booking: each user booked once');

  await audit(t, sale, admin, concertId, classes, answered, call);
  return { failures, retriedAfterFailure: afterFailure };
}

type Call = (method: string, path: string, token: string | null) => Promise<{ status: number; json: Record<string, unknown> }>;

const STATUS_OF: Readonly<Record<string, string>> = {
  BookingPlaced: 'pending', BookingPaymentStarted: 'pending', BookingConfirmed: 'confirmed', BookingCancelled: 'cancelled',
  BookingExpired: 'expired', BookingPaymentFailed: 'failed', BookingRefundDue: 'refund_due',
};

const EXPECTED: Readonly<Record<Plan, string>> = { pay: 'confirmed', 'pay-declined': 'failed', cancel: 'cancelled', 'pay-late': 'refund_due', 'walk-away': 'expired' };

export async function audit(t: Test, sale: Sale, admin: string, concertId: string, classes: readonly { id: string; total_seats_in_class: number }[], answered: readonly Answered[], call: Call): Promise<void> {
  const store = await SqlEventStore.open({ client: 'mysql2', url: sale.mysqlUrl });
  t.teardown(() => store.close());
  let checks = 0;
  const check = (ok: boolean, what: string): void => {
    checks++;
    if (!ok) t.fail(what);
  };
  // Nothing pending may remain: every hold is paid, released or expired.
  await eventually(async () => {
    const bookings = await Promise.all(answered.map(async (booking) => (await store.readStream(`booking-${booking.id}`)).at(-1)?.type));
    return bookings.every((type) => type !== undefined && type !== 'BookingPlaced' && type !== 'BookingPaymentStarted') || undefined;
  }, 'every booking settled', 60_000);

  // 1. From the event store alone: replay the concert's stream, seat by seat.
  const concertEvents = await store.readStream(`concert-${concertId}`);
  const { owner, sold, doubles } = replaySeats(concertEvents);
  check(doubles === 0, `${doubles} seats were held by two bookings at once`);
  const held = [...owner.keys()].filter((seat) => !sold.has(seat));
  check(held.length === 0, `${held.length} seats are still held after the dust settled`);
  const capacity = classes.reduce((sum, c) => sum + c.total_seats_in_class, 0);
  const availability = await call('GET', `/api/v1/concerts/${concertId}/availability?min_position=${concertEvents.at(-1)?.position ?? 0}`, null);
  const available = new Map((availability.json.ticket_classes as { id: string; available: number }[]).map((c) => [c.id, c.available]));
  for (const ticketClass of classes) {
    const prefix = ticketClass.id.slice(0, 24);
    const soldHere = [...sold].filter((seat) => seat.startsWith(prefix)).length;
    const heldHere = held.filter((seat) => seat.startsWith(prefix)).length;
    check(soldHere + heldHere + (available.get(ticketClass.id) ?? -1) === ticketClass.total_seats_in_class,
      `class ${ticketClass.id}: sold ${soldHere} + held ${heldHere} + available ${available.get(ticketClass.id)} ≠ ${ticketClass.total_seats_in_class}`);
  }

  // 2. Every 201 has its booking, with exactly its seats, and ended as its client's plan says.
  const succeededEvents = eventsOf('PaymentSucceeded');
  const succeeded = (await store.readAll({ filter: { eventTypes: succeededEvents.types }, maxCount: 100_000 })).events;
  const paymentsOf = new Map<string, DecodedFrom<typeof succeededEvents>[]>();
  for (const recorded of succeeded) {
    const event = decode(recorded, succeededEvents);
    paymentsOf.set(event.data.booking_id, [...(paymentsOf.get(event.data.booking_id) ?? []), event]);
  }
  let confirmed = 0;
  for (const booking of answered) {
    const stream = await store.readStream(`booking-${booking.id}`);
    const first = stream[0] && decode(stream[0], bookingEvents);
    const placed = first?.type === 'BookingPlaced' ? first.data : undefined;
    check(placed !== undefined && [...placed.seats.map((seat) => seat.seat_id)].sort().join() === [...booking.seats].sort().join(), `booking ${booking.id} answered 201 is in the store with its seats`);
    const status = STATUS_OF[stream.at(-1)?.type ?? ''] ?? 'unknown';
    check(status === EXPECTED[booking.plan], `booking ${booking.id} (${booking.plan}) ended ${status}, not ${EXPECTED[booking.plan]}`);
    if (status === 'confirmed') {
      confirmed++;
      check((paymentsOf.get(booking.id) ?? []).length === 1, `confirmed booking ${booking.id} has ${(paymentsOf.get(booking.id) ?? []).length} succeeded payments`);
      check(booking.seats.every((seat) => sold.has(seat) && owner.get(seat) === booking.id), `confirmed booking ${booking.id} owns its seats, sold`);
    }
  }
  const soldTo = new Set([...sold].map((seat) => owner.get(seat)));
  check([...soldTo].every((bookingId) => answered.some((b) => b.id === bookingId)), 'every sold seat belongs to a booking that was answered 201');

  // 3. The money ledger, from the events alone: every payment taken bought its booking's seats
  // (confirmed) or is owed back, for exactly its amount.
  const endedAs = new Map<string, string>();
  for (const booking of answered) endedAs.set(booking.id, STATUS_OF[(await store.readStream(`booking-${booking.id}`)).at(-1)?.type ?? ''] ?? 'unknown');
  const money = (await store.readAll({ filter: { eventTypes: moneyEvents.types }, maxCount: 100_000 })).events;
  const ledger = replayLedger(concertEvents, money, (bookingId) => endedAs.get(bookingId) ?? 'unknown');
  check(ledger.faults.length === 0, `the money ledger: ${ledger.faults.slice(0, 10).join('; ')}`);
  check(ledger.taken > 0, 'the sale took money');
  t.comment(`ledger: taken ${ledger.taken} = sold to confirmed bookings ${ledger.soldToConfirmed} + owed back ${ledger.owed}`);

  // 4. No reactor parked anything, and each has read everything (a parked event moves the
  // checkpoint on only once it is parked).
  const reactors = await ReactorStore.open({ client: 'mysql2', url: sale.mysqlUrl });
  t.teardown(() => reactors.close());
  const settledAt = await store.headPosition();
  await eventually(async () => {
    const checkpoints = await reactors.checkpoints();
    return (checkpoints.size > 0 && [...checkpoints.values()].every((position) => position >= settledAt)) || undefined;
  }, 'the reactors caught up', 60_000);
  const parked = await reactors.parked(undefined, 10);
  check(parked.length === 0, `reactors parked events: ${parked.map((event) => `${event.reactor} ${event.type} ${event.eventId}: ${event.reason}`).join('; ')}`);

  // 5. The read models agree with the replay: booking statuses, seat map, Redis availability.
  const head = await store.headPosition();
  await eventually(async () => {
    const projections = await call('GET', '/api/v1/admin/projections', admin);
    return (projections.json as unknown as { position: number }[]).every((p) => p.position >= head) || undefined;
  }, 'the projections caught up', 60_000);
  for (const booking of answered) {
    const shown = await call('GET', `/api/v1/bookings/${booking.id}`, admin);
    check(shown.json.status === EXPECTED[booking.plan], `read model: booking ${booking.id} shows ${String(shown.json.status)}, not ${EXPECTED[booking.plan]}`);
  }
  const seatMap = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page = await call('GET', `/api/v1/concerts/${concertId}/seats?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`, null);
    for (const seat of page.json.items as { id: string; status: string }[]) seatMap.set(seat.id, seat.status);
    cursor = page.json.next_cursor as string | null;
  } while (cursor !== null);
  check(seatMap.size === capacity, `the seat map has ${seatMap.size} seats of ${capacity}`);
  for (const [seat, status] of seatMap) {
    const replayed = sold.has(seat) ? 'booked' : owner.has(seat) ? 'reserved' : 'available';
    check(status === replayed, `seat ${seat}: the read model says ${status}, the replay ${replayed}`);
  }
  const cached = await call('GET', `/api/v1/concerts/${concertId}/availability`, null);
  for (const ticketClass of cached.json.ticket_classes as { id: string; available: number }[]) {
    const prefix = ticketClass.id.slice(0, 24);
    const replayedAvailable = (classes.find((c) => c.id === ticketClass.id)?.total_seats_in_class ?? 0) - [...owner.keys()].filter((seat) => seat.startsWith(prefix)).length;
    check(ticketClass.available === replayedAvailable, `availability of ${ticketClass.id}: ${ticketClass.available} shown, ${replayedAvailable} replayed`);
  }

  // 6. The sales report reconciles with the replay: per class sold + held + available = capacity,
  // sold and held as replayed; revenue the prices of the seats of the bookings that ended
  // confirmed (in total, their totals: the ledger's seats sold to confirmed bookings); the money
  // owed back, and of it what was paid back, as the ledger and the refund events say; admissions.
  const reportHead = await store.headPosition();
  const refundsPaid = new Set((await store.readAll({ filter: { eventTypes: ['RefundPaid'] }, maxCount: 100_000 })).events
    .map((recorded) => decode(recorded, refundPaidEvents)).map((event) => event.data.transaction_id));
  const shown = await call('GET', `/api/v1/admin/concerts/${concertId}/report?min_position=${reportHead}`, admin);
  check(shown.status === 200, `the sales report answered ${shown.status}`);
  const report = shown.json as unknown as SalesReport;
  const expected = replaySales(concertEvents, money, refundsPaid, endedAs);
  const { ticket_classes: reported = [], total } = report;
  check(reported.length === classes.length, `the report lists ${reported.length} classes of ${classes.length}`);
  for (const ticketClass of classes) {
    const row = reported.find((candidate) => candidate.id === ticketClass.id);
    const prefix = ticketClass.id.slice(0, 24);
    const replayed = expected.get(ticketClass.id) ?? { revenue: 0, refundsDue: 0, refundsPaid: 0, admitted: 0 };
    const want = {
      capacity: ticketClass.total_seats_in_class,
      sold: [...sold].filter((seat) => seat.startsWith(prefix)).length,
      held: held.filter((seat) => seat.startsWith(prefix)).length,
      revenue: replayed.revenue, refunds_due: replayed.refundsDue, refunds_paid: replayed.refundsPaid, admitted: replayed.admitted,
    };
    check(row !== undefined && row.sold + row.held + row.available === row.capacity, `report, class ${ticketClass.id}: sold ${row?.sold} + held ${row?.held} + available ${row?.available} ≠ capacity ${row?.capacity}`);
    for (const [figure, value] of Object.entries(want)) {
      check(row?.[figure as keyof typeof want] === value, `report, class ${ticketClass.id}: ${figure} ${row?.[figure as keyof typeof want]}, replayed ${value}`);
    }
  }
  const confirmedTotals = answered.filter((booking) => endedAs.get(booking.id) === 'confirmed').reduce((sum, booking) => sum + booking.totalPrice, 0);
  check(total.revenue === confirmedTotals && total.revenue === ledger.soldToConfirmed, `report: revenue ${total.revenue}, confirmed bookings' totals ${confirmedTotals}, ledger ${ledger.soldToConfirmed}`);
  check(total.refunds_due + total.refunds_paid === ledger.owed, `report: refunds due ${total.refunds_due} + paid ${total.refunds_paid} ≠ owed back ${ledger.owed} in the ledger`);
  check(total.sold === sold.size && total.capacity === capacity && total.sold + total.held + total.available === capacity, `report total: ${JSON.stringify(total)}, replayed ${sold.size} sold of ${capacity}`);
  t.comment(`sales report: ${JSON.stringify(total)} at positions ${JSON.stringify(report.positions)}`);

  t.comment(`auditor: ${answered.length} bookings answered 201 (${confirmed} confirmed), ${sold.size} seats sold of ${capacity}, ${checks} invariant checks run`);
  t.pass(`auditor: ${checks} checks`);
}

const refundPaidEvents = eventsOf('RefundPaid');

interface ClassMoney { revenue: number; refundsDue: number; refundsPaid: number; admitted: number }

/**
 * Per ticket class, from the events alone, what the sales report must say of money and
 * admissions: revenue, the prices of the seats of the bookings that ended confirmed; each
 * payment owed back (PaymentRefundDue), split over the classes by its booking's seats' prices,
 * paid back if a RefundPaid followed; tickets admitted.
 */
function replaySales(concertStream: readonly RecordedEvent[], money: readonly RecordedEvent[], refundsPaid: ReadonlySet<string>, endedAs: ReadonlyMap<string, string>): Map<string, ClassMoney> {
  const byClass = new Map<string, ClassMoney>();
  const of = (classId: string): ClassMoney => {
    const known = byClass.get(classId) ?? { revenue: 0, refundsDue: 0, refundsPaid: 0, admitted: 0 };
    byClass.set(classId, known);
    return known;
  };
  const seatsOf = new Map<string, readonly { seat_id: string; ticket_class_id: string; price: number }[]>();
  const classOfSeat = new Map<string, string>();
  for (const recorded of concertStream) {
    const event = decode(recorded, concertEventSet);
    if (event.type === 'SeatsHeld') {
      seatsOf.set(event.data.booking_id, event.data.seats);
      for (const seat of event.data.seats) classOfSeat.set(seat.seat_id, seat.ticket_class_id);
    } else if (event.type === 'TicketAdmitted') {
      of(classOfSeat.get(event.data.ticket_id) ?? 'unknown').admitted++;
    }
  }
  for (const [bookingId, seats] of seatsOf) {
    if (endedAs.get(bookingId) === 'confirmed') for (const seat of seats) of(seat.ticket_class_id).revenue += seat.price;
  }
  for (const recorded of money) {
    const event = decode(recorded, moneyEvents);
    if (event.type !== 'PaymentRefundDue') continue;
    for (const seat of seatsOf.get(event.data.booking_id) ?? []) {
      if (refundsPaid.has(event.data.transaction_id)) of(seat.ticket_class_id).refundsPaid += seat.price;
      else of(seat.ticket_class_id).refundsDue += seat.price;
    }
  }
  return byClass;
}

/** The secrets and settings of one sale's server. */
export function saleEnv(holdTtlSeconds: number): { env: Record<string, string>; jwtSecret: string; webhookSecret: string; adminPassword: string } {
  const jwtSecret = randomBytes(32).toString('hex');
  const webhookSecret = randomBytes(24).toString('hex');
  const adminPassword = 'Load-Admin-Pass-2026';
  return {
    jwtSecret,
    webhookSecret,
    adminPassword,
    env: {
      JWT_SECRET: jwtSecret,
      PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
      PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
      PAYMENT_WEBHOOK_SECRET: webhookSecret,
      // The sale pays through the sandbox's signed webhook: chosen on purpose, as any start with services must.
      PAYMENT_GATEWAY: 'sandbox',
      BOXOFFICE_ADMIN_PASSWORD: adminPassword,
      RATE_LIMIT: 'off',
      REQUIRE_EMAIL_VERIFICATION: 'false',
      HOLD_TTL_SECONDS: String(holdTtlSeconds),
      EXPIRY_CHECK_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    },
  };
}
