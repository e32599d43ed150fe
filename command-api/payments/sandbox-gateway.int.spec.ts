/**
 * The sandbox gateway's status and refund come from its own record, the payment's stream: it
 * takes no money, so it pays back only what that record says was paid, and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { isRefusal } from '../../lib/errors.ts';
import { CommandHandler } from '../command-handler.ts';
import { signWebhook } from './gateway.ts';
import { SandboxGateway } from './sandbox-gateway.ts';

const NOW = '2026-12-05T10:00:00.000Z';
const context: CommandContext = { correlationId: randomUUID(), causationId: randomUUID(), actorId: null, occurredAt: NOW };
const SECRET = 'sandbox-webhook-secret-for-tests';

t.test('the sandbox gateway', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-sandbox-'));
  const store = await SqlEventStore.open({ client: 'better-sqlite3', filename: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const commands = new CommandHandler(store);
  const gateway = new SandboxGateway('http://localhost:3000', { store, webhookSecret: SECRET });

  const opened = async (amount: number) => {
    const paymentId = randomUUID();
    const { transactionId, checkoutUrl } = await gateway.createPayment({ paymentId });
    await commands.execute(paymentStream(transactionId), paymentDecider, {
      type: 'RequestPayment', payment_id: paymentId, transaction_id: transactionId, booking_id: randomUUID(), user_id: randomUUID(),
      amount, method: 'e_wallet', checkout_url: checkoutUrl, now: NOW,
    }, context);
    return transactionId;
  };
  const notified = (transactionId: string, status: 'succeeded' | 'failed', amount: number) => commands.execute(paymentStream(transactionId), paymentDecider, {
    type: 'RecordGatewayNotification', status, amount, reason: null, now: NOW,
  }, context);

  const paid = await opened(850_000);
  t.strictSame(await gateway.transactionStatus(paid), { status: 'pending', amount: 850_000 });
  t.match(await gateway.refund({ transactionId: paid, amount: 850_000, refundKey: 'k', reason: 'r' }), { status: 'failed' }, 'nothing paid yet, nothing to pay back');
  await notified(paid, 'succeeded', 850_000);
  t.strictSame(await gateway.transactionStatus(paid), { status: 'succeeded', amount: 850_000 });
  t.match(await gateway.refund({ transactionId: paid, amount: 850_001, refundKey: 'k', reason: 'r' }), { status: 'failed' }, 'more than was paid');
  t.strictSame(await gateway.refund({ transactionId: paid, amount: 850_000, refundKey: 'k', reason: 'r' }), { status: 'refunded' });

  const declined = await opened(100_000);
  await notified(declined, 'failed', 100_000);
  t.strictSame(await gateway.transactionStatus(declined), { status: 'failed', amount: 100_000 });

  const unknown = await gateway.transactionStatus('sbx_00000000000000000000000000000000').catch((error: unknown) => error);
  t.ok(isRefusal(unknown, 'UNKNOWN_TRANSACTION'), 'a transaction it never opened');

  const body = Buffer.from(JSON.stringify({ transaction_id: paid, status: 'succeeded', amount: 850_000 }));
  t.strictSame(gateway.checkNotification({ rawBody: body, headers: { 'x-signature': signWebhook(SECRET, body) } }), { transactionId: paid });
  t.equal(gateway.checkNotification({ rawBody: body, headers: { 'x-signature': signWebhook('another-secret-entirely', body) } }), null);
  t.equal(gateway.checkNotification({ rawBody: body, headers: {} }), null);
});
