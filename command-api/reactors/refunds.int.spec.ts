/**
 * The refunds reactor on a SQLite event store, with a gateway of the spec's own: an unreachable
 * gateway leaves the attempt under way and the page is handled again (same key, paid once); a
 * refund only the booking recorded (an older store) is owed on its payment too.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { AppError, isRefusal } from '../../lib/errors.ts';
import { CommandHandler, toAppend } from '../command-handler.ts';
import type { PaymentGateway, RefundOutcome } from '../payments/gateway.ts';
import { RefundService } from '../payments/refunds.ts';
import { refundsReactor } from './refunds.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const context: CommandContext = { correlationId: 'spec', causationId: 'spec', actorId: null, occurredAt: T0 };

async function fixture(t: Test, autoRefund: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-refunds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(() => store.close());
  const commands = new CommandHandler(store);
  const asked: { transactionId: string; amount: number; refundKey: string }[] = [];
  let answer: () => RefundOutcome = () => ({ status: 'refunded' });
  const gateway: PaymentGateway = {
    createPayment: () => Promise.reject(new Error('not in this spec')),
    transactionStatus: () => Promise.reject(new Error('not in this spec')),
    checkNotification: () => null,
    refund: async (input) => {
      asked.push({ transactionId: input.transactionId, amount: input.amount, refundKey: input.refundKey });
      return answer();
    },
  };
  const reactor = refundsReactor({ refunds: new RefundService({ store, commands, gateway, now: () => new Date(T0) }), autoRefund, now: () => new Date(T0) });
  /** A succeeded payment of 750,000 on transaction `tx`. */
  const succeeded = async (tx: string) => {
    const paymentId = randomUUID();
    await commands.execute(paymentStream(tx), paymentDecider, {
      type: 'RequestPayment', payment_id: paymentId, transaction_id: tx, booking_id: `b-${tx}`, user_id: 'u1', amount: 750_000, method: 'e_wallet', checkout_url: 'http://local/checkout', now: T0,
    }, context);
    await commands.execute(paymentStream(tx), paymentDecider, { type: 'RecordGatewayNotification', status: 'succeeded', amount: 750_000, reason: null, now: T0 }, context);
    return paymentId;
  };
  /** Every event after `position`, as the runner would hand them over (the reactor's filter). */
  const after = async (position: number): Promise<RecordedEvent[]> => [...(await store.readAll({ after: position, filter: reactor.filter })).events];
  const types = async (tx: string) => (await store.readStream(paymentStream(tx))).map((event) => event.type);
  return { store, commands, reactor, asked, succeeded, after, types, answerWith: (next: () => RefundOutcome) => void (answer = next) };
}

t.test('an unreachable gateway: the attempt stays under way, the page is handled again, paid once under the same key', async (t) => {
  const { commands, reactor, asked, succeeded, after, types, answerWith } = await fixture(t, true);
  const paymentId = await succeeded('tx-1');
  const start = (await after(0)).length;
  t.equal(start, 0, 'nothing owed yet');
  await commands.execute(paymentStream('tx-1'), paymentDecider, { type: 'OweRefund', reason: 'concert_cancelled', now: T0 }, context);
  await reactor.handle(await after(0));
  t.strictSame(await types('tx-1'), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue', 'RefundStarted']);

  answerWith(() => {
    throw new AppError('GATEWAY_UNAVAILABLE', 'Midtrans did not answer');
  });
  const page = await after(0);
  let thrown: unknown;
  await reactor.handle(page).catch((error: unknown) => void (thrown = error));
  t.ok(isRefusal(thrown, 'GATEWAY_UNAVAILABLE'), 'the page fails: the runner reads it again after a back-off');
  t.strictSame(await types('tx-1'), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue', 'RefundStarted'], 'still under way');

  answerWith(() => ({ status: 'refunded' }));
  await reactor.handle(page);
  t.strictSame(await types('tx-1'), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue', 'RefundStarted', 'RefundPaid']);
  t.strictSame(asked, [
    { transactionId: 'tx-1', amount: 750_000, refundKey: `refund-${paymentId}-1` },
    { transactionId: 'tx-1', amount: 750_000, refundKey: `refund-${paymentId}-1` },
  ], 'asked twice under the same key: the gateway pays it once');
  await reactor.handle(await after(0));
  t.equal(asked.length, 2, 'a page read again asks nothing more');
});

t.test('a refusal is recorded with the gateway\'s reason and not tried again by itself', async (t) => {
  const { commands, reactor, asked, succeeded, after, types, answerWith } = await fixture(t, true);
  await succeeded('tx-2');
  await commands.execute(paymentStream('tx-2'), paymentDecider, { type: 'OweRefund', reason: 'late_payment', now: T0 }, context);
  answerWith(() => ({ status: 'failed', reason: 'Midtrans 412: Payment type bank_transfer does not support refund' }));
  await reactor.handle(await after(0));
  await reactor.handle(await after(0));
  t.strictSame(await types('tx-2'), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue', 'RefundStarted', 'RefundFailed']);
  t.match((await commands.load(paymentStream('tx-2'), paymentDecider)).state, { status: 'refund_failed' });
  t.equal(asked.length, 1, 'asked once');
});

t.test('a refund only the booking recorded (an older store) is owed on its payment; AUTO_REFUND=false starts nothing', async (t) => {
  const { store, reactor, asked, succeeded, after, types } = await fixture(t, false);
  await succeeded('tx-3');
  await store.append('booking-b-tx-3', toAppend([{
    type: 'BookingRefundDue', data: { booking_id: 'b-tx-3', reason: 'late_payment', transaction_id: 'tx-3', amount: 750_000, decided_at: T0 },
  }], context, randomUUID), 'any');
  await reactor.handle(await after(0));
  await reactor.handle(await after(0));
  t.strictSame(await types('tx-3'), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue']);
  t.match((await store.readStream(paymentStream('tx-3'))).at(-1)?.data, { reason: 'late_payment', amount: 750_000 });
  t.equal(asked.length, 0, 'nothing paid without AUTO_REFUND');
});
