import { createHash } from 'node:crypto';
import { evolve, initialState, MONEY_TAKEN, paymentEvents, paymentStream } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { AppError } from '../../lib/errors.ts';
import { verifyWebhook, type GatewayStatus, type IncomingNotification, type PaymentGateway, type RefundOutcome } from './gateway.ts';

/**
 * The embedded default's gateway: a checkout page of our own (/sandbox/checkout/:transaction)
 * with Pay and Decline buttons that send the signed webhook, as a real gateway would. It takes
 * no money: its record of a transaction is the payment's own stream, and a refund pays nothing back.
 */
export class SandboxGateway implements PaymentGateway {
  constructor(
    private readonly publicUrl: string,
    private readonly options: { readonly store: EventStore; readonly webhookSecret: string },
  ) {}

  async createPayment(input: { paymentId: string }): Promise<{ transactionId: string; checkoutUrl: string }> {
    const transactionId = `sbx_${createHash('sha256').update(input.paymentId).digest('hex').slice(0, 32)}`;
    return { transactionId, checkoutUrl: `${this.publicUrl}/sandbox/checkout/${transactionId}` };
  }

  async transactionStatus(transactionId: string): Promise<{ status: GatewayStatus; amount: number }> {
    const recorded = await this.options.store.readStream(paymentStream(transactionId));
    const state = recorded.map((event) => decode(event, paymentEvents)).reduce(evolve, initialState());
    if (state.status === 'none') throw new AppError('UNKNOWN_TRANSACTION', 'the sandbox gateway knows no such transaction');
    // Money owed back (or paid back) was still taken: at the gateway the transaction is paid.
    return { status: MONEY_TAKEN.has(state.status) ? 'succeeded' : state.status === 'failed' ? 'failed' : 'pending', amount: state.amount };
  }

  async refund(input: { transactionId: string; amount: number; refundKey: string; reason: string }): Promise<RefundOutcome> {
    const { status, amount } = await this.transactionStatus(input.transactionId);
    if (status !== 'succeeded') return { status: 'failed', reason: `the sandbox transaction is ${status}, not paid` };
    if (input.amount > amount) return { status: 'failed', reason: `the sandbox transaction paid ${amount}, less than ${input.amount}` };
    return { status: 'refunded' };
  }

  checkNotification(notification: IncomingNotification): { transactionId: string } | null {
    const signature = notification.headers['x-signature'];
    if (!verifyWebhook(this.options.webhookSecret, notification.rawBody, typeof signature === 'string' ? signature : undefined)) return null;
    try {
      const body: unknown = JSON.parse(notification.rawBody.toString('utf8'));
      const transactionId = typeof body === 'object' && body !== null && 'transaction_id' in body ? body.transaction_id : undefined;
      return typeof transactionId === 'string' && transactionId !== '' ? { transactionId } : null;
    } catch {
      return null;
    }
  }
}
