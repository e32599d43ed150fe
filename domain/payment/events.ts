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

/**
 * Paying a refund back through the gateway has begun. `refund_key` names this attempt at the
 * gateway (the payment id and the attempt's number): asking again with it is the same refund.
 */
export const RefundStartedSchema = eventSchema(
  'RefundStarted',
  Type.Object(
    {
      payment_id: Id,
      transaction_id: Id,
      booking_id: Id,
      amount: Money,
      attempt: Type.Integer({ minimum: 1 }),
      refund_key: Type.String({ minLength: 1, maxLength: 100 }),
      started_at: Instant,
    },
    { additionalProperties: false },
  ),
);

/** The gateway paid the money back. */
export const RefundPaidSchema = eventSchema(
  'RefundPaid',
  Type.Object(
    { payment_id: Id, transaction_id: Id, booking_id: Id, amount: Money, refund_key: Type.String({ minLength: 1, maxLength: 100 }), paid_at: Instant },
    { additionalProperties: false },
  ),
);

/** The gateway refused the refund, for its reason; it is paid again only when an admin asks. */
export const RefundFailedSchema = eventSchema(
  'RefundFailed',
  Type.Object(
    { payment_id: Id, transaction_id: Id, booking_id: Id, refund_key: Type.String({ minLength: 1, maxLength: 100 }), reason: Type.String(), failed_at: Instant },
    { additionalProperties: false },
  ),
);

export const PaymentEventSchemas = [
  PaymentRequestedSchema, PaymentSucceededSchema, PaymentFailedSchema, PaymentRefundDueSchema, RefundStartedSchema, RefundPaidSchema, RefundFailedSchema,
] as const;

export type PaymentRequested = Static<typeof PaymentRequestedSchema>;
export type PaymentSucceeded = Static<typeof PaymentSucceededSchema>;
export type PaymentFailed = Static<typeof PaymentFailedSchema>;
export type PaymentRefundDue = Static<typeof PaymentRefundDueSchema>;
export type RefundStarted = Static<typeof RefundStartedSchema>;
export type RefundPaid = Static<typeof RefundPaidSchema>;
export type RefundFailed = Static<typeof RefundFailedSchema>;
export type PaymentEvent = PaymentRequested | PaymentSucceeded | PaymentFailed | PaymentRefundDue | RefundStarted | RefundPaid | RefundFailed;

/** Every event of a `payment-…` stream: what its decider folds and its readers decode. */
export const paymentEvents: EventSet<PaymentEvent> = { types: PaymentEventSchemas.map((schema) => schema.properties.type.const) };
