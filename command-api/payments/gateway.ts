import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PaymentMethod } from '../../domain/booking/index.ts';

/** A payment gateway: where the buyer pays (and types card numbers, never into our API). */
export interface PaymentGateway {
  /** Opens a payment at the gateway. The same paymentId gives the same transaction (safe to retry). */
  createPayment(input: { paymentId: string; bookingId: string; amount: number; method: PaymentMethod }): Promise<{ transactionId: string; checkoutUrl: string }>;
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
