import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant, Money } from '../shared/schema.ts';
import { EmailDigest, SealedSchema } from '../shared/personal-data.ts';
import { HeldSeatSchema } from '../concert/events.ts';

export const PaymentMethodSchema = Type.Union([
  Type.Literal('virtual_account'),
  Type.Literal('bank_transfer'),
  Type.Literal('e_wallet'),
  Type.Literal('card'),
]);
export type PaymentMethod = Static<typeof PaymentMethodSchema>;

export const BookingPlacedSchema = eventSchema(
  'BookingPlaced',
  Type.Object(
    {
      booking_id: Id,
      user_id: Id,
      concert_id: Id,
      seats: Type.Array(HeldSeatSchema, { minItems: 1 }),
      total_price: Money,
      /** Buyer name, phone, email and KTP, sealed with the buyer's data key. */
      buyer: SealedSchema,
      /** One sealed holder (name and KTP) per ticket, in seat order. */
      ticket_holders: Type.Array(SealedSchema, { minItems: 1 }),
      /**
       * The keyed digest of the buyer's email (lib/personal-data/digest.ts): what the back office
       * finds the booking by. Absent from bookings placed before it was recorded.
       */
      buyer_email_digest: Type.Optional(EmailDigest),
      placed_at: Instant,
      expires_at: Instant,
    },
    { additionalProperties: false },
  ),
);

/** The booking's one open payment, decided before the gateway is asked; its transaction comes with BookingPaymentStarted. */
export const BookingPaymentOpenedSchema = eventSchema(
  'BookingPaymentOpened',
  Type.Object(
    {
      booking_id: Id,
      payment_id: Id,
      method: PaymentMethodSchema,
      amount: Money,
      opened_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const BookingPaymentStartedSchema = eventSchema(
  'BookingPaymentStarted',
  Type.Object(
    {
      booking_id: Id,
      payment_id: Id,
      transaction_id: Id,
      method: PaymentMethodSchema,
      amount: Money,
      started_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const BookingPaymentFailedSchema = eventSchema(
  'BookingPaymentFailed',
  Type.Object(
    { booking_id: Id, transaction_id: Id, reason: Type.String(), failed_at: Instant },
    { additionalProperties: false },
  ),
);

export const BookingConfirmedSchema = eventSchema(
  'BookingConfirmed',
  Type.Object({ booking_id: Id, transaction_id: Id, confirmed_at: Instant }, { additionalProperties: false }),
);

export const CancelledBySchema = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('concert_cancelled')]);

export const BookingCancelledSchema = eventSchema(
  'BookingCancelled',
  Type.Object({ booking_id: Id, cancelled_by: CancelledBySchema, cancelled_at: Instant }, { additionalProperties: false }),
);

export const BookingExpiredSchema = eventSchema(
  'BookingExpired',
  Type.Object({ booking_id: Id, expired_at: Instant }, { additionalProperties: false }),
);

export const RefundReasonSchema = Type.Union([Type.Literal('late_payment'), Type.Literal('concert_cancelled')]);
export type RefundReason = Static<typeof RefundReasonSchema>;

export const BookingRefundDueSchema = eventSchema(
  'BookingRefundDue',
  Type.Object(
    {
      booking_id: Id,
      reason: RefundReasonSchema,
      transaction_id: Id,
      amount: Money,
      decided_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const BookingEventSchemas = [
  BookingPlacedSchema,
  BookingPaymentOpenedSchema,
  BookingPaymentStartedSchema,
  BookingPaymentFailedSchema,
  BookingConfirmedSchema,
  BookingCancelledSchema,
  BookingExpiredSchema,
  BookingRefundDueSchema,
] as const;

export type BookingPlaced = Static<typeof BookingPlacedSchema>;
export type BookingPaymentOpened = Static<typeof BookingPaymentOpenedSchema>;
export type BookingPaymentStarted = Static<typeof BookingPaymentStartedSchema>;
export type BookingPaymentFailed = Static<typeof BookingPaymentFailedSchema>;
export type BookingConfirmed = Static<typeof BookingConfirmedSchema>;
export type BookingCancelled = Static<typeof BookingCancelledSchema>;
export type BookingExpired = Static<typeof BookingExpiredSchema>;
export type BookingRefundDue = Static<typeof BookingRefundDueSchema>;
export type BookingEvent =
  | BookingPlaced
  | BookingPaymentOpened
  | BookingPaymentStarted
  | BookingPaymentFailed
  | BookingConfirmed
  | BookingCancelled
  | BookingExpired
  | BookingRefundDue;

/** Every event of a `booking-…` stream: what its decider folds and its readers decode. */
export const bookingEvents: EventSet<BookingEvent> = { types: BookingEventSchemas.map((schema) => schema.properties.type.const) };
