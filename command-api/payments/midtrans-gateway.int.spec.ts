/**
 * The Midtrans adapter against the local Midtrans (test/harness/midtrans-server.ts): what it
 * sends, how it reads the answers, and the AppError codes of every way the gateway can fail.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { isRefusal } from '../../lib/errors.ts';
import { midtransSignature } from '../../test/harness/midtrans-server.ts';
import { freePort } from '../../test/harness/servers.ts';
import { localMidtrans } from '../../test/support/midtrans.ts';
import { loadConfig } from '../../lib/config.ts';
import { MIDTRANS_CHANNELS, MidtransGateway, midtransOrderId, midtransStatus } from './midtrans-gateway.ts';

const rejectsWith = async (t: Test, promise: Promise<unknown>, code: string, what: string) => {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  t.ok(isRefusal(error) && error.code === code, `${what}: ${code} (got ${error instanceof Error ? `${error.name} ${error.message}` : String(error)})`);
};

t.test('base URLs: the vendor\'s by MIDTRANS_PRODUCTION, replaced by the configured ones', async (t) => {
  const keys = { PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-x', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-x' };
  const urls = (env: Record<string, string>) => {
    const { apiUrl, snapUrl } = loadConfig({ ...keys, ...env }).midtrans;
    return { apiUrl, snapUrl };
  };
  t.strictSame(urls({ MIDTRANS_PRODUCTION: 'true' }), { apiUrl: 'https://api.midtrans.com', snapUrl: 'https://app.midtrans.com' });
  t.strictSame(urls({}), { apiUrl: 'https://api.sandbox.midtrans.com', snapUrl: 'https://app.sandbox.midtrans.com' });
  t.strictSame(urls({ MIDTRANS_PRODUCTION: 'true', MIDTRANS_API_URL: 'http://127.0.0.1:1' }), { apiUrl: 'http://127.0.0.1:1', snapUrl: 'https://app.midtrans.com' });
});

t.test('statuses: settlement and an accepted capture are money; deny, cancel, expire, failure are not', async (t) => {
  t.equal(midtransStatus('settlement', undefined), 'succeeded');
  t.equal(midtransStatus('capture', 'accept'), 'succeeded');
  t.equal(midtransStatus('capture', 'challenge'), 'pending');
  t.equal(midtransStatus('capture', undefined), 'pending');
  t.equal(midtransStatus('capture', 'deny'), 'failed');
  t.equal(midtransStatus('pending', undefined), 'pending');
  for (const status of ['deny', 'cancel', 'expire', 'failure']) t.equal(midtransStatus(status, 'accept'), 'failed', status);
  t.equal(midtransStatus('refund', 'accept'), 'succeeded', 'a refunded transaction had been paid');
  t.equal(midtransStatus('something-new', undefined), undefined);
});

t.test('against the local Midtrans', async (t) => {
  const midtrans = await localMidtrans(t);
  const urls = { apiUrl: midtrans.url, snapUrl: midtrans.url };
  const gateway = new MidtransGateway({ serverKey: midtrans.serverKey, ...urls, timeoutMs: 5_000 });

  t.test('checkout: order id from the payment id, integer rupiah, the channels of the method, nothing personal', async (t) => {
    const paymentId = randomUUID();
    const opened = await gateway.createPayment({ paymentId, bookingId: randomUUID(), amount: 1_500_000, method: 'e_wallet' });
    t.equal(opened.transactionId, midtransOrderId(paymentId));
    t.match(opened.transactionId, /^bx-[0-9a-f]{32}$/);
    t.ok(opened.checkoutUrl.startsWith(`${midtrans.url}/snap/v4/redirection/`), opened.checkoutUrl);
    const sent = (await midtrans.requests()).filter((request) => request.path === '/snap/v1/transactions' && JSON.stringify(request.body).includes(opened.transactionId));
    t.equal(sent.length, 1);
    t.strictSame(sent[0]?.body, {
      transaction_details: { order_id: opened.transactionId, gross_amount: 1_500_000 },
      enabled_payments: MIDTRANS_CHANNELS.e_wallet,
    }, 'only the order, the amount and the channels');
    t.ok(sent[0]?.authorized, 'Basic auth with the server key');
    t.strictSame(await gateway.transactionStatus(opened.transactionId), { status: 'pending', amount: 1_500_000 });
    await midtrans.act(opened.transactionId, 'pay', { payment_type: 'gopay' });
    t.strictSame(await gateway.transactionStatus(opened.transactionId), { status: 'succeeded', amount: 1_500_000 });
    await rejectsWith(t, gateway.createPayment({ paymentId, bookingId: randomUUID(), amount: 1_500_000, method: 'e_wallet' }), 'GATEWAY_ERROR',
      'the same payment again: Midtrans refuses a second order with its id, so no second charge');
  });

  t.test('refunds: paid back once per refund key; a virtual account payment cannot be refunded online', async (t) => {
    const paid = await gateway.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 750_000, method: 'card' });
    await midtrans.act(paid.transactionId, 'pay', { payment_type: 'credit_card' });
    t.strictSame(await gateway.transactionStatus(paid.transactionId), { status: 'succeeded', amount: 750_000 }, 'an accepted capture');
    const refund = { transactionId: paid.transactionId, amount: 750_000, refundKey: `rf-${randomUUID()}`, reason: 'concert cancelled' };
    t.strictSame(await gateway.refund(refund), { status: 'refunded' });
    t.strictSame(await gateway.refund(refund), { status: 'refunded' }, 'the same key again');
    const order = await midtrans.order(paid.transactionId);
    t.equal(order?.transaction_status, 'refund');
    t.strictSame(order?.refunds.map((done) => [done.refund_key, done.amount, done.reason]), [[refund.refundKey, 750_000, 'concert cancelled']], 'paid back once');

    const transfer = await gateway.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 500_000, method: 'virtual_account' });
    await midtrans.act(transfer.transactionId, 'pay', { payment_type: 'bank_transfer' });
    const refused = await gateway.refund({ transactionId: transfer.transactionId, amount: 500_000, refundKey: `rf-${randomUUID()}`, reason: 'late payment' });
    t.equal(refused.status, 'failed');
    t.match(refused, { reason: /^Midtrans 412: / });
    const pending = await gateway.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 500_000, method: 'card' });
    t.match(await gateway.refund({ transactionId: pending.transactionId, amount: 500_000, refundKey: 'rf-x', reason: 'r' }), { status: 'failed' }, 'nothing paid yet');
  });

  t.test('notifications: signature_key is SHA-512 of order id + status code + gross amount + server key', async (t) => {
    const body = { order_id: 'bx-0123', status_code: '200', gross_amount: '150000.00', transaction_status: 'settlement' };
    const signed = (fields: Record<string, unknown>) => ({ rawBody: Buffer.from(JSON.stringify(fields)), headers: {} });
    const signature = midtransSignature(body.order_id, body.status_code, body.gross_amount, midtrans.serverKey);
    t.strictSame(gateway.checkNotification(signed({ ...body, signature_key: signature })), { transactionId: 'bx-0123' });
    t.equal(gateway.checkNotification(signed({ ...body, gross_amount: '1.00', signature_key: signature })), null, 'another amount');
    t.equal(gateway.checkNotification(signed({ ...body, status_code: '201', signature_key: signature })), null, 'another status code');
    t.equal(gateway.checkNotification(signed({ ...body, signature_key: midtransSignature(body.order_id, body.status_code, body.gross_amount, 'another key') })), null, 'another key');
    t.equal(gateway.checkNotification(signed(body)), null, 'no signature');
    t.equal(gateway.checkNotification(signed({ ...body, signature_key: signature.toUpperCase() })), null, 'not the documented form');
    t.equal(gateway.checkNotification({ rawBody: Buffer.from('not json'), headers: {} }), null, 'garbage');
    t.equal(gateway.checkNotification({ rawBody: Buffer.from('[1]'), headers: {} }), null, 'not an object');
  });

  t.test('failures are coded: a wrong key, an unknown order, no answer, a hung server, a 5xx', async (t) => {
    const wrongKey = new MidtransGateway({ serverKey: 'SB-Mid-server-wrong', ...urls, timeoutMs: 5_000 });
    await rejectsWith(t, wrongKey.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 1000, method: 'card' }), 'GATEWAY_ERROR', 'a wrong server key');
    await rejectsWith(t, gateway.transactionStatus(midtransOrderId(randomUUID())), 'UNKNOWN_TRANSACTION', 'an order nobody opened');
    await rejectsWith(t, gateway.transactionStatus('not/an/order'), 'UNKNOWN_TRANSACTION', 'not an order id');

    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = new MidtransGateway({ serverKey: 'k', apiUrl: closed, snapUrl: closed, timeoutMs: 2_000 });
    await rejectsWith(t, unreachable.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 1000, method: 'card' }), 'GATEWAY_UNAVAILABLE', 'nobody listening');
    await rejectsWith(t, unreachable.refund({ transactionId: 'bx-1', amount: 1, refundKey: 'k', reason: 'r' }), 'GATEWAY_UNAVAILABLE', 'a refund cannot be sent');

    const sockets = new Set<Socket>();
    const broken = createServer((request, response) => {
      if (request.url?.includes('/status') === true) return void response.writeHead(502).end('bad gateway');
      // Otherwise hang: accept and never answer.
    });
    broken.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      broken.close(() => resolve());
    }));
    const address = broken.address();
    const brokenUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const hung = new MidtransGateway({ serverKey: 'k', apiUrl: brokenUrl, snapUrl: brokenUrl, timeoutMs: 300 });
    const started = Date.now();
    await rejectsWith(t, hung.createPayment({ paymentId: randomUUID(), bookingId: randomUUID(), amount: 1000, method: 'card' }), 'GATEWAY_UNAVAILABLE', 'a hung server');
    t.ok(Date.now() - started < 3_000, 'gave up after its timeout');
    await rejectsWith(t, hung.transactionStatus('bx-1'), 'GATEWAY_UNAVAILABLE', 'a 5xx');
  });
});
