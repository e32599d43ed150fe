import { createHash } from 'node:crypto';
import type { PaymentGateway } from './gateway.ts';

/**
 * The embedded default's gateway: a checkout page of our own (/sandbox/checkout/:transaction)
 * with Pay and Decline buttons that send the signed webhook, as a real gateway would.
 */
export class SandboxGateway implements PaymentGateway {
  constructor(private readonly publicUrl: string) {}

  async createPayment(input: { paymentId: string }): Promise<{ transactionId: string; checkoutUrl: string }> {
    const transactionId = `sbx_${createHash('sha256').update(input.paymentId).digest('hex').slice(0, 32)}`;
    return { transactionId, checkoutUrl: `${this.publicUrl}/sandbox/checkout/${transactionId}` };
  }
}
