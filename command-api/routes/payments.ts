/**
 * /api/v1/payments (open a payment), and the sandbox gateway's webhook and checkout page, which
 * command-api/app.ts registers only when the sandbox is the gateway. Card data never comes here:
 * it is typed at the gateway.
 */
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { paymentEvents, paymentStream, type PaymentRequested } from '../../domain/payment/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import { keepRawJsonBodies } from '../../lib/http/raw-body.ts';
import { IdempotencyHeaders, PositionSchema, problemResponses, requestContext, UuidSchema } from '../../lib/http/schemas.ts';
import { signWebhook, verifyWebhook } from '../payments/gateway.ts';
import type { PaymentService } from '../payments/payments.ts';
import { asHtml } from '../../lib/http/security-headers.ts';

const CARD_FIELDS = ['card_number', 'cvv', 'cvc', 'card_cvv', 'expiry', 'expiry_month', 'expiry_year', 'card_holder', 'pan'];

const OpenPaymentSchema = Type.Object({
  id: Type.String(),
  booking_id: Type.String(),
  amount: Type.Integer(),
  status: Type.Literal('pending'),
  transaction_id: Type.String(),
  checkout_url: Type.String(),
  position: PositionSchema,
});

export const paymentRoutes: FastifyPluginAsyncTypebox<{ payments: PaymentService }> = async (app, { payments }) => {
  app.post('/api/v1/payments', {
    preHandler: app.requireUser,
    // Card fields get their own answer, before the schema's "unknown field".
    preValidation: async (request) => {
      const body = request.body;
      if (typeof body === 'object' && body !== null && CARD_FIELDS.some((field) => Object.hasOwn(body, field))) {
        throw new AppError('CARD_DATA_REFUSED', 'card details are entered on the payment page (checkout_url), never sent to this API');
      }
    },
    schema: {
      tags: ['payments'],
      summary: "Open a payment for your booking, for the booking's amount; pay at checkout_url",
      security: [{ bearer: [] }],
      headers: IdempotencyHeaders,
      body: Type.Object({
        booking_id: UuidSchema,
        payment_method: Type.Union([Type.Literal('virtual_account'), Type.Literal('bank_transfer'), Type.Literal('e_wallet'), Type.Literal('card')]),
      }, { additionalProperties: false }),
      // 201 for the request that opened the payment; 200, the same body, for every request that found it open.
      response: { 201: OpenPaymentSchema, 200: OpenPaymentSchema, ...problemResponses },
    },
  }, async (request, reply) => {
    const { answer, created } = await payments.start(principalOf(request), request.body, request.headers['idempotency-key'], requestContext(request));
    return reply.code(created ? 201 : 200).send(answer);
  });
};

/** The sandbox gateway's webhook, signed with PAYMENT_WEBHOOK_SECRET (its checkout page sends it). */
export const sandboxWebhookRoutes: FastifyPluginAsyncTypebox<{ payments: PaymentService; webhookSecret: string }> = async (app, { payments, webhookSecret }) => {
  await app.register(async (scope) => {
    const webhook = scope.withTypeProvider<TypeBoxTypeProvider>();
    // The signature covers the exact bytes sent: keep them as well as the parsed body.
    const rawBodyOf = keepRawJsonBodies(scope);
    webhook.post('/api/v1/payments/webhook', {
      // The gateway's request: its body is checked below, its query string is its own.
      config: { acceptsAnyInput: true },
      preValidation: async (request) => {
        const body = rawBodyOf(request);
        const signature = request.headers['x-signature'];
        if (body === undefined || !verifyWebhook(webhookSecret, body, typeof signature === 'string' ? signature : undefined)) {
          throw new AppError('INVALID_SIGNATURE', 'the X-Signature header does not match the body');
        }
      },
      schema: {
        tags: ['payments'],
        summary: "The gateway's notification: X-Signature is sha256=<hex HMAC-SHA256 of the raw body>",
        body: Type.Object({
          transaction_id: Type.String({ minLength: 1, maxLength: 200 }),
          status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
          amount: Type.Integer({ minimum: 0 }),
        }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Union([Type.Literal('processed'), Type.Literal('duplicate')]), position: PositionSchema }), ...problemResponses },
      },
    }, async (request) => {
      const outcome = await payments.notify(request.body, requestContext(request));
      return { status: outcome.duplicate ? 'duplicate' as const : 'processed' as const, position: outcome.position };
    });
  });
};

/** The embedded sandbox gateway's checkout page: Pay or Decline, which send the signed webhook. */
export const sandboxCheckoutRoutes: FastifyPluginAsyncTypebox<{ store: EventStore; webhookSecret: string }> = async (app, { store, webhookSecret }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => done(null, {}));
  const Params = Type.Object({ transaction: Type.String({ pattern: '^sbx_[0-9a-f]{32}$' }) });

  const requested = async (transaction: string): Promise<PaymentRequested['data']> => {
    const [recorded] = await store.readStream(paymentStream(transaction), { maxCount: 1 });
    const first = recorded && decode(recorded, paymentEvents);
    if (first?.type !== 'PaymentRequested') throw notFound('no such sandbox payment');
    return first.data;
  };

  app.get('/sandbox/checkout/:transaction', { schema: { hide: true, params: Params } }, async (request, reply) => {
    const payment = await requested(request.params.transaction);
    const action = (outcome: string) => `/sandbox/checkout/${request.params.transaction}/${outcome}`;
    return asHtml(reply).send(page('Sandbox checkout', [
      `<p>Booking ${payment.booking_id}: <strong>Rp ${payment.amount.toLocaleString('id-ID')}</strong> by ${payment.method.replace('_', ' ')}.</p>`,
      `<form method="post" action="${action('pay')}"><button type="submit">Pay</button></form>`,
      `<form method="post" action="${action('decline')}"><button type="submit">Decline</button></form>`,
    ].join('')));
  });

  app.post('/sandbox/checkout/:transaction/:outcome', {
    schema: { hide: true, params: Type.Object({ ...Params.properties, outcome: Type.Union([Type.Literal('pay'), Type.Literal('decline')]) }) },
  }, async (request, reply) => {
    const payment = await requested(request.params.transaction);
    const body = JSON.stringify({
      transaction_id: payment.transaction_id,
      status: request.params.outcome === 'pay' ? 'succeeded' : 'failed',
      amount: payment.amount,
    });
    const delivered = await app.inject({
      method: 'POST',
      url: '/api/v1/payments/webhook',
      headers: { 'content-type': 'application/json', 'x-signature': signWebhook(webhookSecret, body) },
      payload: body,
    });
    const ok = delivered.statusCode === 200;
    return asHtml(reply.code(ok ? 200 : 502)).send(page(
      ok ? (request.params.outcome === 'pay' ? 'Payment sent' : 'Payment declined') : 'The webhook failed',
      `<p>The gateway told boxoffice: ${request.params.outcome === 'pay' ? 'paid' : 'declined'} (HTTP ${delivered.statusCode}).</p>`,
    ));
  });
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}
