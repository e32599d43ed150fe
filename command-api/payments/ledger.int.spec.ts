/**
 * The money ledger, whatever order things happen in (issue 17): random orders of paying,
 * failing, repeated webhooks, cancelling the booking, its hold expiring, the concert being
 * cancelled, payments opened again (with other keys, after a failure, half-opened by a request
 * that died), payments the booking does not know, and the reactors catching up at any moment.
 * They run through the real services — PaymentService, the concert writer, the command
 * handler, the bookings and payments reactors and the hold expirer — over the booking, payment
 * and concert deciders, on a SQLite event store. At every quiet moment:
 * - money taken (the sum of succeeded payments) = the price of the seats sold and kept + the
 *   refunds owed or paid, and each succeeded payment is exactly one of the two;
 * - a refund is paid back (by the refunds reactor, through the sandbox) only when owed, for the
 *   amount owed, once; once the reactors have caught up, every refund owed is paid;
 * - no seat is sold to a booking that is not confirmed (unless the concert was cancelled since
 *   and the booking's money is owed back).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { bookingDecider, bookingEvents, bookingStream } from '../../domain/booking/index.ts';
import { concertEvents, concertStream } from '../../domain/concert/index.ts';
import type { CommandContext } from '../../domain/index.ts';
import { paymentDecider, paymentEvents, paymentStream } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import { scheduleConcert } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { BookingPlacer } from '../bookings/placer.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { ReactorStore } from '../reactors/reactor-store.ts';
import { bookingsReactor, HoldExpirer, paymentsReactor } from '../reactors/reactors.ts';
import { refundsReactor } from '../reactors/refunds.ts';
import type { Reactor } from '../reactors/runner.ts';
import { PaymentService } from './payments.ts';
import { RefundService } from './refunds.ts';
import { SandboxGateway } from './sandbox-gateway.ts';

const BOOKINGS = 2;
const PRICE = 500_000;
const HOLD_MINUTES = 15;

type Step =
  | { readonly kind: 'open'; readonly booking: number; readonly key: number }
  | { readonly kind: 'open-and-crash'; readonly booking: number; readonly key: number }
  | { readonly kind: 'notify'; readonly booking: number; readonly payment: number; readonly status: 'succeeded' | 'failed' }
  | { readonly kind: 'repeat'; readonly which: number }
  | { readonly kind: 'orphan'; readonly booking: number }
  | { readonly kind: 'cancel-booking'; readonly booking: number }
  | { readonly kind: 'expire' }
  | { readonly kind: 'cancel-concert' }
  | { readonly kind: 'react' };

const booking = fc.integer({ min: 0, max: BOOKINGS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), booking, key: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('open-and-crash' as const), booking, key: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('notify' as const), booking, payment: fc.integer({ min: 0, max: 3 }), status: fc.constantFrom('succeeded' as const, 'failed' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('orphan' as const), booking }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel-booking' as const), booking }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel-concert' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('react' as const) }) },
);

t.test('money taken = seats sold and kept + refunds owed, and no seat is sold to a booking that is not confirmed, in any order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-ledger-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(() => store.close());
  const reactorStore = await ReactorStore.open({ client: 'better-sqlite3', filename: join(dir, 'reactors.sqlite') });
  t.teardown(() => reactorStore.close());
  const commands = new CommandHandler(store);
  const writer = new ConcertWriter(store, { queueLimit: 100, maxBatch: 10, snapshotEvery: 1_000, onBackgroundError: (error) => t.fail(String(error)) });
  const placer = new BookingPlacer(store, commands);
  let clock = 0;
  const now = () => new Date(clock);
  const gateway = new SandboxGateway('http://localhost:3000', { store, webhookSecret: 'ledger-webhook-secret-0123456789' });
  const payments = new PaymentService({ store, commands, writer, gateway, now });
  const reactors: Reactor[] = [
    bookingsReactor({ store, commands, writer, placer, reactors: reactorStore, now }),
    paymentsReactor({ commands, payments, now }),
    refundsReactor({ refunds: new RefundService({ store, commands, gateway, now }), autoRefund: true, now }),
  ];
  const expirer = new HoldExpirer({ reactors: reactorStore, writer, store, commands, now, intervalMs: 60_000, onError: (error) => t.fail(String(error)) });
  let run = 0;
  /** How often each outcome was reached: the orders tried must reach them all. */
  const reached = new Map<string, number>();

  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
    // Each run: its own concert, bookings and day, on the same store.
    run++;
    clock = Date.parse('2027-01-01T10:00:00.000Z') + run * 86_400_000;
    const tick = (): string => new Date(clock += 5_000).toISOString();
    const context = (): CommandContext => ({ correlationId: randomUUID(), causationId: 'ledger-spec', actorId: null, occurredAt: tick() });
    const checkpoints = new Map(await Promise.all(reactors.map(async (reactor) => [reactor.name, await store.headPosition()] as const)));
    const concertId = randomUUID();
    const users = Array.from({ length: BOOKINGS }, () => randomUUID());
    const bookingIds = Array.from({ length: BOOKINGS }, () => randomUUID());
    const transactions: string[][] = bookingIds.map(() => []);
    const sent: { transaction_id: string; status: 'succeeded' | 'failed'; amount: number }[] = [];

    const classId = randomUUID();
    await writer.submit(concertId, scheduleConcert({
      // Dated after the run's day: sales close at the concert's date.
      concert_id: concertId, now: tick(), date: new Date(clock + 30 * 86_400_000).toISOString(),
      ticket_classes: [{ ticket_class_id: classId, name: 'Festival', price: PRICE, seat_count: BOOKINGS }],
    }), context());
    for (const [i, bookingId] of bookingIds.entries()) {
      const at = tick();
      const written = await writer.submit(concertId, {
        type: 'HoldSeats', booking_id: bookingId, user_id: users[i] ?? '', selection: { by: 'class', tickets: [{ ticket_class_id: classId, quantity: 1 }] },
        ktp_fingerprints: [`ktp-${i}`], personal_data: { buyer: sealed('buyer'), ticket_holders: [sealed('holder')] },
        expires_at: new Date(Date.parse(at) + HOLD_MINUTES * 60_000).toISOString(), now: at,
      }, context());
      const [heldEvent] = written.events;
      if (heldEvent?.type !== 'SeatsHeld') throw new Error('the hold was refused');
      await placer.place(heldEvent.data, context());
    }

    const react = async (): Promise<void> => {
      tick();
      for (const reactor of reactors) {
        for (;;) {
          const page = await store.readAll({ after: checkpoints.get(reactor.name) ?? 0, filter: reactor.filter, maxCount: 200 });
          if (page.events.length > 0) await reactor.handle(page.events);
          checkpoints.set(reactor.name, page.position);
          if (page.events.length === 0) break;
        }
      }
    };
    const principal = (i: number): Principal => ({ userId: users[i] ?? '', role: 'customer', tokenId: 't', expiresAt: Number.MAX_SAFE_INTEGER, via: 'header', emailVerified: true });
    const ignoringRefusals = async (work: () => Promise<unknown>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        if (!isRefusal(error)) throw error;
      }
    };
    const notify = async (body: { transaction_id: string; status: 'succeeded' | 'failed'; amount: number }): Promise<void> => {
      sent.push(body);
      // A contradicting notice for a settled payment is refused (409), as the webhook answers it.
      await ignoringRefusals(() => payments.notify(body, { correlationId: randomUUID(), causationId: 'gateway' }));
    };

    const audit = async (when: string): Promise<void> => {
      const concert = (await store.readStream(concertStream(concertId))).map((e) => decode(e, concertEvents));
      const cancelled = concert.some((e) => e.type === 'ConcertCancelled');
      const priceOf = new Map(concert.flatMap((e) => (e.type === 'SeatsHeld' ? e.data.seats.map((s) => [s.seat_id, s.price] as const) : [])));
      const sales = concert.flatMap((e) => (e.type === 'SeatsSold' ? [e.data] : []));
      let taken = 0;
      let owed = 0;
      let paidBack = 0;
      const owedBack = new Set<string>();
      const succeeded = new Set<string>();
      for (const transaction of transactions.flat()) {
        for (const event of (await store.readStream(paymentStream(transaction))).map((e) => decode(e, paymentEvents))) {
          if (event.type === 'PaymentSucceeded') {
            taken += event.data.amount;
            succeeded.add(transaction);
          } else if (event.type === 'PaymentRefundDue') {
            owed += event.data.amount;
            owedBack.add(transaction);
            if (when === 'at the end') reached.set(event.data.reason, (reached.get(event.data.reason) ?? 0) + 1);
          } else if (event.type === 'RefundPaid') {
            if (!owedBack.has(transaction)) throw new Error(`payment ${transaction} was paid back without being owed (${when}, after ${JSON.stringify(steps)})`);
            paidBack += event.data.amount;
          }
        }
      }
      // Audited once the reactors caught up: every refund owed is paid back, the amount owed, once.
      if (paidBack !== owed) {
        throw new Error(`ledger: paid back ${paidBack}, owed back ${owed} (${when}, after ${JSON.stringify(steps)})`);
      }
      const kept = sales.filter((sale) => !owedBack.has(sale.transaction_id));
      if (when === 'at the end' && kept.length > 0) reached.set('sold', (reached.get('sold') ?? 0) + 1);
      const soldAndKept = kept.reduce((sum, sale) => sum + sale.seat_ids.reduce((s, seat) => s + (priceOf.get(seat) ?? Number.NaN), 0), 0);
      const where = `${when}, after ${JSON.stringify(steps)}`;
      if (taken !== soldAndKept + owed) throw new Error(`ledger: taken ${taken} ≠ sold and kept ${soldAndKept} + owed back ${owed} (${where})`);
      for (const transaction of succeeded) {
        const fates = Number(kept.some((sale) => sale.transaction_id === transaction)) + Number(owedBack.has(transaction));
        if (fates !== 1) throw new Error(`payment ${transaction} succeeded and is ${fates === 0 ? 'neither sold nor owed back' : 'both sold and owed back'} (${where})`);
      }
      for (const sale of sales) {
        const state = (await commands.load(bookingStream(sale.booking_id), bookingDecider)).state;
        const fine = state.status === 'confirmed' || (cancelled && state.status === 'refund_due' && owedBack.has(sale.transaction_id));
        if (!fine) throw new Error(`a seat is sold to booking ${sale.booking_id}, which is ${state.status} (${where})`);
      }
    };

    for (const next of steps) {
      switch (next.kind) {
        case 'open':
          await ignoringRefusals(async () => {
            const { answer } = await payments.start(principal(next.booking), { booking_id: bookingIds[next.booking] ?? '', payment_method: 'e_wallet' }, `key-${next.key}`, { correlationId: randomUUID(), causationId: 'client' });
            const known = transactions[next.booking] ?? [];
            if (!known.includes(answer.transaction_id)) known.push(answer.transaction_id);
          });
          break;
        case 'open-and-crash': {
          // A request that opened the payment on the booking and died before the gateway answered.
          const at = tick();
          await ignoringRefusals(() => commands.execute(bookingStream(bookingIds[next.booking] ?? ''), bookingDecider, {
            type: 'OpenPayment', payment_id: randomUUID(), method: 'card', amount: PRICE, now: at,
          }, context()));
          break;
        }
        case 'notify': {
          // The booking's payments so far, as the gateway knows them (also those a crashed request half-opened).
          const bookingHistory = (await store.readStream(bookingStream(bookingIds[next.booking] ?? ''))).map((e) => decode(e, bookingEvents));
          for (const event of bookingHistory) {
            const known = transactions[next.booking] ?? [];
            if (event.type === 'BookingPaymentStarted' && !known.includes(event.data.transaction_id)) known.push(event.data.transaction_id);
          }
          const known = transactions[next.booking] ?? [];
          const transaction = known[next.payment % Math.max(1, known.length)];
          if (transaction !== undefined) await notify({ transaction_id: transaction, status: next.status, amount: PRICE });
          break;
        }
        case 'repeat': {
          const again = sent[next.which % Math.max(1, sent.length)];
          if (again !== undefined) await notify(again);
          break;
        }
        case 'orphan': {
          // A payment stream for the booking that the booking never opened (left by older code).
          const transaction = `sbx_${randomUUID().replaceAll('-', '')}`;
          await commands.execute(paymentStream(transaction), paymentDecider, {
            type: 'RequestPayment', payment_id: randomUUID(), transaction_id: transaction, booking_id: bookingIds[next.booking] ?? '',
            user_id: users[next.booking] ?? '', amount: PRICE, method: 'e_wallet', checkout_url: '', now: tick(),
          }, context());
          transactions[next.booking]?.push(transaction);
          break;
        }
        case 'cancel-booking': {
          // As BookingService.cancel: the seats first, then the booking.
          const id = bookingIds[next.booking] ?? '';
          const { state } = await commands.load(bookingStream(id), bookingDecider);
          if (state.status !== 'pending') break;
          const at = context();
          try {
            await writer.submit(concertId, { type: 'ReleaseHold', booking_id: id, reason: 'cancelled', now: at.occurredAt }, at);
          } catch (error) {
            if (isRefusal(error, 'HOLD_ALREADY_SOLD')) break;
            throw error;
          }
          await commands.execute(bookingStream(id), bookingDecider, { type: 'CancelBooking', cancelled_by: 'owner', now: at.occurredAt }, at);
          break;
        }
        case 'expire':
          clock += HOLD_MINUTES * 60_000;
          await react(); // the due-time index follows the holds
          await expirer.expireDue();
          break;
        case 'cancel-concert':
          await writer.submit(concertId, { type: 'CancelConcert', reason: 'storm', now: tick() }, context());
          break;
        case 'react':
          await react();
          await audit('after the reactors caught up');
          break;
      }
    }
    await react();
    await audit('at the end');
  }), { numRuns: 300 });
  await writer.drain();
  t.pass('the ledger held in every order tried');
  for (const outcome of ['sold', 'late_payment', 'concert_cancelled', 'duplicate_payment']) {
    t.ok((reached.get(outcome) ?? 0) > 0, `some orders ended with ${outcome} (${reached.get(outcome) ?? 0})`);
  }
});
