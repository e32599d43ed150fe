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

/**
 * Why a payment's money is owed back: it came after the hold was gone (expired, cancelled,
 * failed), the concert was cancelled, or the booking was paid, or is being paid, by another
 * payment (or does not know this one, or does not exist).
 */
export const PaymentRefundReasonSchema = Type.Union([
  Type.Literal('late_payment'),
  Type.Literal('concert_cancelled'),
  Type.Literal('duplicate_payment'),
  Type.Literal('unknown_booking'),
]);
export type PaymentRefundReason = Static<typeof PaymentRefundReasonSchema>;

/** A refund owed, one per payment at most: the ledger's record of money to pay back. */
export const PaymentRefundDueSchema = eventSchema(
  'PaymentRefundDue',
  Type.Object(
    {
      payment_id: Id,
      transaction_id: Id,
      booking_id: Id,
      amount: Money,
      reason: PaymentRefundReasonSchema,
      decided_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const PaymentEventSchemas = [PaymentRequestedSchema, PaymentSucceededSchema, PaymentFailedSchema, PaymentRefundDueSchema] as const;

export type PaymentRequested = Static<typeof PaymentRequestedSchema>;
export type PaymentSucceeded = Static<typeof PaymentSucceededSchema>;
export type PaymentFailed = Static<typeof PaymentFailedSchema>;
export type PaymentRefundDue = Static<typeof PaymentRefundDueSchema>;
export type PaymentEvent = PaymentRequested | PaymentSucceeded | PaymentFailed | PaymentRefundDue;

/** Every event of a `payment-…` stream: what its decider folds and its readers decode. */
export const paymentEvents: EventSet<PaymentEvent> = { types: PaymentEventSchemas.map((schema) => schema.properties.type.const) };
