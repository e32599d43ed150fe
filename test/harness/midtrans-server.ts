/**
 * A local Midtrans for the tests: node:http on a free port of 127.0.0.1, implementing the
 * documented endpoints the adapter calls, so no test request ever leaves the machine.
 *
 *   POST /snap/v1/transactions          Basic auth (server key + ':'); {transaction_details: {order_id, gross_amount}, …}
 *                                       → 201 {token, redirect_url}; an order id used before → 400
 *   GET  /snap/v4/redirection/:token    the checkout page redirect_url points at
 *   GET  /v2/:order_id/status           Basic auth → the transaction's status (gross_amount "N.00"); unknown → 404
 *   POST /v2/:order_id/refund           Basic auth; {refund_key, amount, reason} → status_code "200" or why not
 *
 * and, for tests only (no auth, 127.0.0.1 only):
 *
 *   POST /__control/orders/:order_id/:action   pay | decline | expire | notify: changes the order as a
 *        buyer at the checkout would, then POSTs the HTTP notification, signed the documented way
 *        (signature_key = hex SHA-512 of order_id + status_code + gross_amount + server key), to the
 *        order's notification URL (X-Override-Notification at checkout) or the server's default.
 *        Body (all optional): {payment_type, gross_amount (what was paid, to test a wrong amount), sign_with (another key: a forgery)}
 *   POST /__control/orders/:order_id/refuse-refund   the next refund of the order is refused (412) with {status_message}
 *   POST /__control/notify                     a signed notification of any fields (an order nobody opened)
 *   GET  /__control/orders/:order_id           the order, its refunds and notification deliveries
 *   GET  /__control/requests                   every API request received (method, path, body), to check what was sent
 *
 * Started once per test run by run.ts (MIDTRANS_LOCAL_URL, MIDTRANS_LOCAL_SERVER_KEY) or by a
 * spec through test/support/midtrans.ts; either stops it afterwards.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorized: boolean;
  readonly body: unknown;
}

export interface LocalOrder {
  readonly order_id: string;
  readonly transaction_id: string;
  readonly token: string;
  gross_amount: number;
  readonly enabled_payments: readonly string[];
  transaction_status: 'pending' | 'settlement' | 'capture' | 'deny' | 'cancel' | 'expire' | 'refund' | 'partial_refund';
  payment_type: string | null;
  readonly notification_url: string | null;
  readonly refunds: { refund_key: string; amount: number; reason: string; answer: Json }[];
  readonly deliveries: { status: number | null; body: string; error?: string }[];
  /** Set by the `refuse-refund` control: the next refund of this order is refused with this message. */
  refuse_next_refund: string | null;
}

export interface LocalMidtrans {
  readonly name: string;
  /** The base URL of both the Core API and Snap. */
  readonly url: string;
  readonly serverKey: string;
  stop(): Promise<void>;
}

const STATUS_CODE: Record<LocalOrder['transaction_status'], string> = {
  pending: '201', settlement: '200', capture: '200', deny: '202', cancel: '200', expire: '407', refund: '200', partial_refund: '200',
};
const REFUNDABLE = new Set(['credit_card', 'gopay', 'shopeepay', 'qris', 'dana', 'ovo', 'akulaku', 'kredivo']);
const ORDER_ID = /^[A-Za-z0-9\-_~.]{1,50}$/;

/** The documented signature of a notification. */
export function midtransSignature(orderId: string, statusCode: string, grossAmount: string, serverKey: string): string {
  return createHash('sha512').update(`${orderId}${statusCode}${grossAmount}${serverKey}`).digest('hex');
}

export async function startLocalMidtrans(options: { serverKey?: string; notificationUrl?: string; port?: number } = {}): Promise<LocalMidtrans> {
  const serverKey = options.serverKey ?? `SB-Mid-server-local-${randomBytes(12).toString('hex')}`;
  const expectedAuth = Buffer.from(`Basic ${Buffer.from(`${serverKey}:`).toString('base64')}`);
  const orders = new Map<string, LocalOrder>();
  const byToken = new Map<string, LocalOrder>();
  const received: ReceivedRequest[] = [];
  const inFlight = new Set<Promise<void>>();
  let url = '';

  const authorized = (request: IncomingMessage): boolean => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth);
  };
  const amountText = (amount: number): string => `${amount}.00`;

  const statusBody = (order: LocalOrder): Json => ({
    status_code: STATUS_CODE[order.transaction_status],
    status_message: 'Success, transaction is found',
    transaction_id: order.transaction_id,
    order_id: order.order_id,
    gross_amount: amountText(order.gross_amount),
    currency: 'IDR',
    payment_type: order.payment_type ?? 'bank_transfer',
    transaction_time: '2026-12-05 10:00:00',
    transaction_status: order.transaction_status,
    fraud_status: 'accept',
    signature_key: midtransSignature(order.order_id, STATUS_CODE[order.transaction_status], amountText(order.gross_amount), serverKey),
  });

  const deliver = async (target: string | null, notification: Json, record?: LocalOrder['deliveries']): Promise<{ status: number | null; body: string; error?: string }> => {
    if (target === null) return { status: null, body: '', error: 'no notification URL' };
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(notification),
        signal: AbortSignal.timeout(10_000),
      });
      const delivery = { status: response.status, body: await response.text() };
      record?.push(delivery);
      return delivery;
    } catch (error) {
      const delivery = { status: null, body: '', error: error instanceof Error ? error.message : String(error) };
      record?.push(delivery);
      return delivery;
    }
  };

  /** A notification for the order as it now stands, signed with `key`. */
  const notificationOf = (order: LocalOrder, key: string): Json => {
    const body = statusBody(order);
    return { ...body, status_message: 'midtrans payment notification', signature_key: midtransSignature(order.order_id, String(body['status_code']), String(body['gross_amount']), key) };
  };

  const routes = async (request: IncomingMessage, body: unknown): Promise<[number, unknown]> => {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const method = request.method ?? 'GET';
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Json;

    if (path.startsWith('/__control/')) {
      if (method === 'GET' && path === '/__control/requests') return [200, received];
      const orderPath = /^\/__control\/orders\/([^/]+)(?:\/(pay|decline|expire|notify|refuse-refund))?$/.exec(path);
      if (method === 'POST' && path === '/__control/notify') {
        const { sign_with: signWith, notification_url: target, ...claimed } = fields;
        const orderId = String(claimed['order_id']);
        const statusCode = typeof claimed['status_code'] === 'string' ? claimed['status_code'] : '200';
        const grossAmount = String(claimed['gross_amount']);
        const key = typeof signWith === 'string' ? signWith : serverKey;
        const notification: Json = {
          transaction_status: 'settlement', fraud_status: 'accept', payment_type: 'gopay', transaction_id: randomUUID(), ...claimed,
          status_code: statusCode, signature_key: midtransSignature(orderId, statusCode, grossAmount, key),
        };
        return [200, { notification, delivery: await deliver(typeof target === 'string' ? target : options.notificationUrl ?? null, notification) }];
      }
      if (orderPath?.[1] === undefined) return [404, { error: 'no such control' }];
      const order = orders.get(decodeURIComponent(orderPath[1]));
      if (order === undefined) return [404, { error: 'no such order' }];
      const action = orderPath[2];
      if (method === 'GET' && action === undefined) return [200, order];
      if (method !== 'POST' || action === undefined) return [405, { error: 'POST an action' }];
      if (action === 'refuse-refund') {
        order.refuse_next_refund = typeof fields['status_message'] === 'string' ? fields['status_message'] : 'Refund is refused';
        return [200, order];
      }
      if (action !== 'notify') {
        if (order.transaction_status !== 'pending') return [409, { error: `the order is ${order.transaction_status}` }];
        order.payment_type = typeof fields['payment_type'] === 'string' ? fields['payment_type'] : order.payment_type ?? 'bank_transfer';
        if (typeof fields['gross_amount'] === 'number') order.gross_amount = fields['gross_amount'];
        order.transaction_status = action === 'pay' ? (order.payment_type === 'credit_card' ? 'capture' : 'settlement') : action === 'decline' ? 'deny' : 'expire';
      }
      const notification = notificationOf(order, typeof fields['sign_with'] === 'string' ? fields['sign_with'] : serverKey);
      return [200, { notification, delivery: await deliver(order.notification_url ?? options.notificationUrl ?? null, notification, order.deliveries) }];
    }

    received.push({ method, path, authorized: authorized(request), body });
    if (!authorized(request)) {
      return [401, { status_code: '401', status_message: 'Access denied due to unauthorized transaction, please check client or server key', error_messages: ['Access denied, please check client or server key'] }];
    }

    if (method === 'POST' && path === '/snap/v1/transactions') {
      const details = (typeof fields['transaction_details'] === 'object' && fields['transaction_details'] !== null ? fields['transaction_details'] : {}) as Json;
      const orderId = details['order_id'];
      const gross = details['gross_amount'];
      const errors: string[] = [];
      if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) errors.push('transaction_details.order_id is invalid');
      if (typeof gross !== 'number' || !Number.isSafeInteger(gross) || gross < 1) errors.push('transaction_details.gross_amount must be a positive integer');
      const enabled = fields['enabled_payments'] ?? [];
      if (!Array.isArray(enabled) || !enabled.every((channel) => typeof channel === 'string')) errors.push('enabled_payments must be a list of channels');
      const items = fields['item_details'];
      if (Array.isArray(items)) {
        const sum = items.reduce<number>((total, item: Json) => total + Number(item['price']) * Number(item['quantity']), 0);
        if (sum !== gross) errors.push('transaction_details.gross_amount is not equal to the sum of item_details');
      }
      if (typeof orderId === 'string' && orders.has(orderId)) errors.push('transaction_details.order_id has already been taken');
      if (errors.length > 0 || typeof orderId !== 'string' || typeof gross !== 'number') return [400, { error_messages: errors }];
      const override = request.headers['x-override-notification'];
      const order: LocalOrder = {
        order_id: orderId,
        transaction_id: randomUUID(),
        token: randomUUID(),
        gross_amount: gross,
        enabled_payments: enabled as string[],
        transaction_status: 'pending',
        payment_type: null,
        notification_url: typeof override === 'string' ? (override.split(',')[0] ?? '').trim() : null,
        refunds: [],
        deliveries: [],
        refuse_next_refund: null,
      };
      orders.set(orderId, order);
      byToken.set(order.token, order);
      return [201, { token: order.token, redirect_url: `${url}/snap/v4/redirection/${order.token}` }];
    }

    const api = /^\/v2\/([^/]+)\/(status|refund)$/.exec(path);
    if (api?.[1] !== undefined) {
      const order = orders.get(decodeURIComponent(api[1]));
      if (order === undefined) return [404, { status_code: '404', status_message: "Transaction doesn't exist." }];
      if (method === 'GET' && api[2] === 'status') return [200, statusBody(order)];
      if (method === 'POST' && api[2] === 'refund') return [200, refund(order, fields)];
    }
    return [404, { status_code: '404', status_message: 'The requested resource is not found' }];
  };

  const refund = (order: LocalOrder, fields: Json): Json => {
    const refundKey = typeof fields['refund_key'] === 'string' ? fields['refund_key'] : randomUUID();
    const again = order.refunds.find((done) => done.refund_key === refundKey);
    if (again !== undefined) return again.answer;
    const refunded = order.refunds.reduce((total, done) => total + done.amount, 0);
    const amount = typeof fields['amount'] === 'number' ? fields['amount'] : order.gross_amount - refunded;
    const cannot = (message: string): Json => ({ status_code: '412', status_message: message, order_id: order.order_id });
    if (order.refuse_next_refund !== null) {
      const message = order.refuse_next_refund;
      order.refuse_next_refund = null;
      return cannot(message);
    }
    if (!['settlement', 'capture', 'partial_refund'].includes(order.transaction_status)) return cannot('Merchant cannot modify the status of the transaction');
    if (!REFUNDABLE.has(order.payment_type ?? '')) return cannot(`Payment type ${order.payment_type ?? 'unknown'} does not support refund`);
    if (!Number.isSafeInteger(amount) || amount < 1 || refunded + amount > order.gross_amount) return cannot('Refund amount exceeds the refundable amount');
    order.transaction_status = refunded + amount === order.gross_amount ? 'refund' : 'partial_refund';
    const answer: Json = {
      status_code: '200',
      status_message: 'Success, refund request is approved',
      transaction_id: order.transaction_id,
      order_id: order.order_id,
      gross_amount: amountText(order.gross_amount),
      currency: 'IDR',
      payment_type: order.payment_type,
      transaction_time: '2026-12-05 10:00:00',
      transaction_status: order.transaction_status,
      refund_chargeback_id: order.refunds.length + 1,
      refund_amount: amountText(amount),
      refund_key: refundKey,
    };
    order.refunds.push({ refund_key: refundKey, amount, reason: typeof fields['reason'] === 'string' ? fields['reason'] : '', answer });
    // Midtrans notifies a refund too, after answering.
    const delivery = deliver(order.notification_url ?? options.notificationUrl ?? null, notificationOf(order, serverKey), order.deliveries).then(() => undefined);
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
    return answer;
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error_messages: ['the body is not JSON'] }));
        return;
      }
      const page = /^\/snap\/v4\/redirection\/([^/?]+)$/.exec(request.url ?? '');
      const order = page?.[1] === undefined ? undefined : byToken.get(page[1]);
      if (request.method === 'GET' && order !== undefined) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
          `<!doctype html><title>Local Midtrans checkout</title><h1>Order ${order.order_id}</h1><p>Rp ${order.gross_amount} by ${order.enabled_payments.join(', ')}</p>`,
        );
        return;
      }
      routes(request, body).then(
        ([status, answer]) => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
        (error: unknown) => void response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status_code: '500', status_message: String(error) })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the local Midtrans has no port');
  url = `http://127.0.0.1:${address.port}`;

  return {
    name: 'local Midtrans',
    url,
    serverKey,
    stop: async () => {
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
