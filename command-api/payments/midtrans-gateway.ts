/**
 * Midtrans Snap, on Midtrans's documented HTTP API (the official `midtrans-client` fixes its
 * base URLs by `isProduction`, so it cannot be pointed at a local server; this adapter can):
 *
 * - checkout: `POST {snap}/snap/v1/transactions` → `{token, redirect_url}`
 * - status:   `GET {api}/v2/{order_id}/status`
 * - refund:   `POST {api}/v2/{order_id}/refund` `{refund_key, amount, reason}`
 * - notification: `signature_key` = hex SHA-512 of order_id + status_code + gross_amount + server key
 *
 * Every call authenticates with HTTP Basic (the server key, an empty password) and gives up after
 * `timeoutMs`. Midtrans's `order_id` is our transaction id, derived from the payment id. Nothing
 * personal is sent: no customer_details, no item names, only the order id, the amount and the
 * payment channels.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PaymentMethod } from '../../domain/booking/index.ts';
import { AppError } from '../../lib/errors.ts';
import type { GatewayStatus, IncomingNotification, PaymentGateway, RefundOutcome } from './gateway.ts';

export interface MidtransOptions {
  /** The merchant's server key: authenticates our calls and signs Midtrans's notifications. */
  readonly serverKey: string;
  /** The Core API's base URL (status, refund), e.g. https://api.sandbox.midtrans.com. */
  readonly apiUrl: string;
  /** Snap's base URL (checkout), e.g. https://app.sandbox.midtrans.com. */
  readonly snapUrl: string;
  /** Where Midtrans sends this order's notifications (`X-Override-Notification`); else the dashboard's setting. */
  readonly notificationUrl?: string;
  /** Per call; default 10 s. */
  readonly timeoutMs?: number;
}

/** Midtrans's own base URLs; `MIDTRANS_API_URL` / `MIDTRANS_SNAP_URL` replace them (a local test server). */
/** The Snap channels offered for each of our payment methods. */
export const MIDTRANS_CHANNELS: Readonly<Record<PaymentMethod, readonly string[]>> = {
  virtual_account: ['bca_va', 'bni_va', 'bri_va', 'permata_va', 'cimb_va', 'other_va'],
  // Transfer from any bank: Mandiri bill payment, and the ATM networks' transfer to a VA of another bank.
  bank_transfer: ['echannel', 'other_va'],
  e_wallet: ['gopay', 'shopeepay', 'other_qris'],
  card: ['credit_card'],
};

/** Midtrans's order id for a payment: the same payment, the same order (allowed: letters, digits, - _ ~ .; at most 50). */
export function midtransOrderId(paymentId: string): string {
  return `bx-${createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
}

/** `transaction_status` (and for a card capture, `fraud_status`) as our three outcomes. */
export function midtransStatus(transactionStatus: string, fraudStatus: string | undefined): GatewayStatus | undefined {
  switch (transactionStatus) {
    case 'settlement':
      return 'succeeded';
    case 'capture':
      // A card capture is money only when the fraud check accepted it; a challenge waits for the merchant.
      return fraudStatus === 'accept' ? 'succeeded' : fraudStatus === 'deny' ? 'failed' : 'pending';
    case 'pending':
    case 'authorize':
      return 'pending';
    case 'deny':
    case 'cancel':
    case 'expire':
    case 'failure':
      return 'failed';
    // The money was taken; what was paid back is recorded by our own refund path, not by this answer.
    case 'refund':
    case 'partial_refund':
    case 'chargeback':
    case 'partial_chargeback':
      return 'succeeded';
    default:
      return undefined;
  }
}

const ORDER_ID = /^[A-Za-z0-9\-_~.]{1,50}$/;
const SIGNATURE = /^[0-9a-f]{128}$/;

type Json = Record<string, unknown>;

export class MidtransGateway implements PaymentGateway {
  readonly #authorization: string;
  readonly #timeoutMs: number;

  constructor(private readonly options: MidtransOptions) {
    if (options.serverKey === '') throw new Error('the Midtrans server key is empty');
    this.#authorization = `Basic ${Buffer.from(`${options.serverKey}:`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async createPayment(input: { paymentId: string; bookingId: string; amount: number; method: PaymentMethod }): Promise<{ transactionId: string; checkoutUrl: string }> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new Error(`a Midtrans gross_amount is a positive integer of rupiah, not ${input.amount}`);
    const orderId = midtransOrderId(input.paymentId);
    const headers: Record<string, string> = this.options.notificationUrl === undefined ? {} : { 'x-override-notification': this.options.notificationUrl };
    const { status, body } = await this.#call('POST', `${this.options.snapUrl}/snap/v1/transactions`, {
      transaction_details: { order_id: orderId, gross_amount: input.amount },
      enabled_payments: MIDTRANS_CHANNELS[input.method],
    }, headers);
    const token = body['token'];
    const redirectUrl = body['redirect_url'];
    if (status !== 201 && status !== 200) throw refused('checkout', status, body);
    if (typeof token !== 'string' || typeof redirectUrl !== 'string' || !/^https?:\/\//.test(redirectUrl)) {
      throw new AppError('GATEWAY_ERROR', 'the payment gateway answered the checkout without a token and redirect_url');
    }
    return { transactionId: orderId, checkoutUrl: redirectUrl };
  }

  async transactionStatus(transactionId: string): Promise<{ status: GatewayStatus; amount: number }> {
    if (!ORDER_ID.test(transactionId)) throw new AppError('UNKNOWN_TRANSACTION', 'not a Midtrans order id');
    const { status, body } = await this.#call('GET', `${this.options.apiUrl}/v2/${encodeURIComponent(transactionId)}/status`);
    // Midtrans says "no such transaction" with status_code 404 in the body (and, on some versions, the HTTP status).
    if (status === 404 || body['status_code'] === '404') throw new AppError('UNKNOWN_TRANSACTION', 'the payment gateway knows no such transaction');
    if (status !== 200) throw refused('status', status, body);
    const transactionStatus = body['transaction_status'];
    const fraudStatus = body['fraud_status'];
    const mapped = typeof transactionStatus === 'string' ? midtransStatus(transactionStatus, typeof fraudStatus === 'string' ? fraudStatus : undefined) : undefined;
    const amount = rupiah(body['gross_amount']);
    if (body['order_id'] !== transactionId || mapped === undefined || amount === undefined) {
      throw new AppError('GATEWAY_ERROR', 'the payment gateway answered the status with something we cannot read');
    }
    return { status: mapped, amount };
  }

  async refund(input: { transactionId: string; amount: number; refundKey: string; reason: string }): Promise<RefundOutcome> {
    if (!ORDER_ID.test(input.transactionId)) return { status: 'failed', reason: 'not a Midtrans order id' };
    const { status, body } = await this.#call('POST', `${this.options.apiUrl}/v2/${encodeURIComponent(input.transactionId)}/refund`, {
      refund_key: input.refundKey,
      amount: input.amount,
      reason: input.reason,
    });
    // The answer's own status_code is the outcome: "200" approved; anything else says why not.
    if (status === 200 && body['status_code'] === '200' && ['refund', 'partial_refund'].includes(String(body['transaction_status']))) {
      return { status: 'refunded' };
    }
    const message = typeof body['status_message'] === 'string' ? body['status_message'].slice(0, 200) : 'no reason given';
    const code = typeof body['status_code'] === 'string' ? body['status_code'] : String(status);
    return { status: 'failed', reason: `Midtrans ${code}: ${message}` };
  }

  checkNotification(notification: IncomingNotification): { transactionId: string } | null {
    let body: unknown;
    try {
      body = JSON.parse(notification.rawBody.toString('utf8'));
    } catch {
      return null;
    }
    if (typeof body !== 'object' || body === null) return null;
    const fields = body as Json;
    const orderId = fields['order_id'];
    const statusCode = fields['status_code'];
    const grossAmount = fields['gross_amount'];
    const signature = fields['signature_key'];
    if (typeof orderId !== 'string' || !ORDER_ID.test(orderId) || typeof statusCode !== 'string' || typeof grossAmount !== 'string'
      || typeof signature !== 'string' || !SIGNATURE.test(signature)) return null;
    const expected = Buffer.from(createHash('sha512').update(`${orderId}${statusCode}${grossAmount}${this.options.serverKey}`).digest('hex'));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given) ? { transactionId: orderId } : null;
  }

  async #call(method: 'GET' | 'POST', url: string, body?: Json, extraHeaders: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          authorization: this.#authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...extraHeaders,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new AppError('GATEWAY_UNAVAILABLE', timedOut ? `the payment gateway did not answer within ${this.#timeoutMs} ms` : 'the payment gateway cannot be reached');
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new AppError('GATEWAY_UNAVAILABLE', `the payment gateway answered ${response.status}`);
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      throw new AppError('GATEWAY_ERROR', `the payment gateway answered ${response.status} without JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AppError('GATEWAY_ERROR', `the payment gateway answered ${response.status} with something other than an object`);
    }
    return { status: response.status, body: parsed as Json };
  }
}

/** `"150000.00"` (Midtrans's gross_amount) as an integer of rupiah; undefined for anything else, fractions included. */
function rupiah(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = /^(\d{1,15})(?:\.0+)?$/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The gateway turned our call down: its words stay out of our answer (they may name the account). */
function refused(what: string, status: number, body: Json): AppError {
  const code = typeof body['status_code'] === 'string' ? ` (${body['status_code']})` : '';
  return new AppError('GATEWAY_ERROR', `the payment gateway refused the ${what}: HTTP ${status}${code}`);
}
