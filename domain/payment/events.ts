import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant, Money } from '../shared/schema.ts';
import { PaymentMethodSchema } from '../booking/events.ts';

export const PaymentRequestedSchema = eventSchema(
  'PaymentRequested',
  Type.Object(
    {
      payment_id: Id,
      transaction_id: Id,
      booking_id: Id,
      user_id: Id,
      amount: Money,
      method: PaymentMethodSchema,
      checkout_url: Type.String(),
      requested_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const PaymentSucceededSchema = eventSchema(
  'PaymentSucceeded',
  Type.Object(
    { payment_id: Id, transaction_id: Id, booking_id: Id, amount: Money, succeeded_at: Instant },
    { additionalProperties: false },
  ),
);

export const PaymentFailedSchema = eventSchema(
  'PaymentFailed',
  Type.Object(
    { payment_id: Id, transaction_id: Id, booking_id: Id, reason: Type.String(), failed_at: Instant },
    { additionalProperties: false },
  ),
);

export const PaymentEventSchemas = [PaymentRequestedSchema, PaymentSucceededSchema, PaymentFailedSchema] as const;

export type PaymentRequested = Static<typeof PaymentRequestedSchema>;
export type PaymentSucceeded = Static<typeof PaymentSucceededSchema>;
export type PaymentFailed = Static<typeof PaymentFailedSchema>;
export type PaymentEvent = PaymentRequested | PaymentSucceeded | PaymentFailed;

/** Every event of a `payment-…` stream: what its decider folds and its readers decode. */
export const paymentEvents: EventSet<PaymentEvent> = { types: PaymentEventSchemas.map((schema) => schema.properties.type.const) };
