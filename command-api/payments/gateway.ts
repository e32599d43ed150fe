import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PaymentMethod } from '../../domain/booking/index.ts';

/** What a gateway says of a transaction: money taken (`succeeded`), not taken and never will be (`failed`), or not yet. */
export type GatewayStatus = 'pending' | 'succeeded' | 'failed';

export type RefundOutcome = { readonly status: 'refunded' } | { readonly status: 'failed'; readonly reason: string };

/** A notification as it reached us: the exact bytes (signatures cover them) and the headers. */
export interface IncomingNotification {
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A payment gateway: where the buyer pays (and types card numbers, never into our API).
 * Failures to reach it are `AppError`s: GATEWAY_UNAVAILABLE (no answer, timeout, 5xx),
 * GATEWAY_ERROR (an answer we cannot use), UNKNOWN_TRANSACTION (it knows no such transaction).
 */
export interface PaymentGateway {
  /** Opens a payment at the gateway. The same paymentId gives the same transaction (safe to retry). */
  createPayment(input: { paymentId: string; bookingId: string; amount: number; method: PaymentMethod }): Promise<{ transactionId: string; checkoutUrl: string }>;
  /**
   * What the gateway itself says of a transaction now: a notification is only a hint to ask this,
   * never the answer. `amount` is in rupiah.
   */
  transactionStatus(transactionId: string): Promise<{ status: GatewayStatus; amount: number }>;
  /** Pays `amount` back. The same refundKey is the same refund at the gateway (safe to retry). */
  refund(input: { transactionId: string; amount: number; refundKey: string; reason: string }): Promise<RefundOutcome>;
  /**
   * Checks a notification the gateway's own way (its signature); the transaction it names when it
   * holds, `null` when it does not. Never throws on bad input.
   */
  checkNotification(notification: IncomingNotification): { transactionId: string } | null;
}

/** `X-Signature` of a webhook: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function signWebhook(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** Constant-time check of a webhook's `X-Signature` against its raw body. */
export function verifyWebhook(secret: string, rawBody: Buffer, signature: string | undefined): boolean {
  if (signature === undefined || !/^sha256=[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
