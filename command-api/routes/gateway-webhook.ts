/**
 * `POST /api/v1/payments/webhook/<gateway>`: a real gateway's notification (Midtrans's HTTP
 * notification). A notification is a hint, never the answer:
 *
 * 1. its signature is checked the gateway's own way (bad or missing → 401, nothing appended);
 * 2. the transaction must be one of our payments (unknown → 404 UNKNOWN_TRANSACTION, nothing
 *    appended: Midtrans retries a non-2xx, so a payment whose record lands late is still settled,
 *    and a misrouted notification shows as failed deliveries in the dashboard instead of vanishing);
 * 3. the gateway is asked for the transaction's status, and only its answer counts: pending → 200,
 *    nothing appended; an amount other than the payment's → 400 AMOUNT_MISMATCH, nothing appended;
 *    gateway unreachable → 503 (Midtrans retries);
 * 4. then the payment service settles it, as for any notification (a repeat is a no-op).
 */
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DomainError } from '../../domain/index.ts';
import { paymentEvents, paymentStream } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { AppError } from '../../lib/errors.ts';
import { keepRawJsonBodies } from '../../lib/http/raw-body.ts';
import { PositionSchema, problemResponses, requestContext } from '../../lib/http/schemas.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import type { PaymentService } from '../payments/payments.ts';

export interface GatewayWebhookOptions {
  /** The path's last segment: `midtrans`. */
  readonly name: string;
  readonly gateway: PaymentGateway;
  readonly payments: PaymentService;
  readonly store: EventStore;
}

export const gatewayWebhookRoutes: FastifyPluginAsyncTypebox<GatewayWebhookOptions> = async (app, { name, gateway, payments, store }) => {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`a gateway's webhook name is lower-case letters and digits, not ${name}`);
  await app.register(async (scope) => {
    const webhook = scope.withTypeProvider<TypeBoxTypeProvider>();
    // The signature covers what was sent: keep the bytes; the body is read by the gateway's own check.
    const rawBodyOf = keepRawJsonBodies(scope);

    const verified = new WeakMap<FastifyRequest, string>();
    webhook.post(`/api/v1/payments/webhook/${name}`, {
      // The gateway's own format, query string included (its notification URL is configured there).
      config: { acceptsAnyInput: true },
      // The signature first, before the body's shape is even looked at.
      preValidation: async (request) => {
        const rawBody = rawBodyOf(request);
        const checked = rawBody === undefined ? null : gateway.checkNotification({ rawBody, headers: request.headers });
        if (checked === null) throw new AppError('INVALID_SIGNATURE', `the notification is not signed the way ${name} signs`);
        verified.set(request, checked.transactionId);
      },
      schema: {
        tags: ['payments'],
        summary: `${name}'s payment notification: checked by its signature, then confirmed by asking ${name}`,
        // The gateway's own shape; its fields are read by its signature check, not trusted beyond it.
        body: Type.Object({}, { additionalProperties: true }),
        response: {
          200: Type.Object({
            status: Type.Union([Type.Literal('processed'), Type.Literal('duplicate'), Type.Literal('pending')]),
            position: PositionSchema,
          }),
          ...problemResponses,
        },
      },
    }, async (request) => {
      const transactionId = verified.get(request);
      if (transactionId === undefined) throw new AppError('INVALID_SIGNATURE', `the notification is not signed the way ${name} signs`);

      const [first] = await store.readStream(paymentStream(transactionId), { maxCount: 1 });
      const requested = first === undefined ? undefined : decode(first, paymentEvents);
      if (first === undefined || requested?.type !== 'PaymentRequested') throw new AppError('UNKNOWN_TRANSACTION', 'no payment of ours has this transaction');

      const reported = await gateway.transactionStatus(transactionId);
      if (reported.amount !== requested.data.amount) {
        throw new DomainError('AMOUNT_MISMATCH', `${name} reports a different amount than was requested`, { expected: requested.data.amount, reported: reported.amount });
      }
      if (reported.status === 'pending') return { status: 'pending' as const, position: first.position };
      const outcome = await payments.notify({ transaction_id: transactionId, status: reported.status, amount: reported.amount }, requestContext(request));
      return { status: outcome.duplicate ? 'duplicate' as const : 'processed' as const, position: outcome.position };
    });
  });
};
