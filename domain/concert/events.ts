import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { EmailDigest, SealedSchema } from '../shared/personal-data.ts';
import { Id, Instant, Money } from '../shared/schema.ts';

export const TicketClassSchema = Type.Object(
  {
    ticket_class_id: Type.String({ format: 'uuid' }),
    name: Type.String({ minLength: 1 }),
    price: Money,
    /** Seats are numbered 1..seat_count within the class; their ids are derived (see seats.ts). */
    seat_count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type TicketClass = Static<typeof TicketClassSchema>;

export const ConcertScheduledSchema = eventSchema(
  'ConcertScheduled',
  Type.Object(
    {
      concert_id: Id,
      name: Type.String({ minLength: 1 }),
      artist: Type.String({ minLength: 1 }),
      date: Instant,
      venue: Type.String({ minLength: 1 }),
      description: Type.Union([Type.String(), Type.Null()]),
      image_url: Type.Union([Type.String(), Type.Null()]),
      max_tickets_per_ktp: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
      sales_open_at: Type.Union([Instant, Type.Null()]),
      sales_close_at: Type.Union([Instant, Type.Null()]),
      /** Absent before waiting rooms existed: off. */
      waiting_room: Type.Optional(Type.Boolean()),
      ticket_classes: Type.Array(TicketClassSchema, { minItems: 1 }),
      scheduled_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const ConcertPublishedSchema = eventSchema(
  'ConcertPublished',
  Type.Object({ concert_id: Id, published_at: Instant }, { additionalProperties: false }),
);

export const HeldSeatSchema = Type.Object(
  {
    seat_id: Id,
    ticket_class_id: Id,
    seat_number: Type.Integer({ minimum: 1 }),
    price: Money,
  },
  { additionalProperties: false },
);
export type HeldSeat = Static<typeof HeldSeatSchema>;

/**
 * The buyer's and ticket holders' details, sealed with the buyer's key. They travel with the
 * hold, the commit point of a booking, so a booking stream lost to a crash can be rebuilt; a
 * hold committed in one transaction with its booking stream leaves the buyer to it (nothing can
 * be lost between the two).
 */
export const BookingPersonalDataSchema = Type.Object(
  {
    /**
     * Absent when the booking stream was committed in the hold's own transaction (its
     * BookingPlaced has it, and nothing can be lost between the two): one copy of the buyer's
     * details, not two (command-api/bookings/placement.ts, storedWithItsBooking).
     */
    buyer: Type.Optional(SealedSchema),
    /** Kept in every hold: at the sale each goes to its seat's ticket in the concert's state (the door shows it). */
    ticket_holders: Type.Array(SealedSchema, { minItems: 1 }),
    /** The keyed digest of the buyer's email, for the booking the hold makes (absent from older holds, and from a hold stored without its buyer). */
    buyer_email_digest: Type.Optional(EmailDigest),
  },
  { additionalProperties: false },
);
export type BookingPersonalData = Static<typeof BookingPersonalDataSchema>;

export const SeatsHeldSchema = eventSchema(
  'SeatsHeld',
  Type.Object(
    {
      concert_id: Id,
      booking_id: Id,
      user_id: Id,
      seats: Type.Array(HeldSeatSchema, { minItems: 1 }),
      total_price: Money,
      /**
       * One keyed fingerprint of a KTP number per ticket, in seat order: enough to enforce the
       * per-KTP limit, useless for recovering the number.
       */
      ktp_fingerprints: Type.Array(Type.String({ minLength: 1 })),
      personal_data: Type.Union([BookingPersonalDataSchema, Type.Null()]),
      held_at: Instant,
      expires_at: Instant,
      /** The waiting room's booking pass the hold was made with (its PassUsed follows in the queue's stream). */
      pass_id: Type.Optional(Id),
    },
    { additionalProperties: false },
  ),
);

export const ReleaseReasonSchema = Type.Union([
  Type.Literal('cancelled'),
  Type.Literal('expired'),
  Type.Literal('payment_failed'),
  Type.Literal('concert_cancelled'),
]);
export type ReleaseReason = Static<typeof ReleaseReasonSchema>;

export const HoldReleasedSchema = eventSchema(
  'HoldReleased',
  Type.Object(
    {
      concert_id: Id,
      booking_id: Id,
      seat_ids: Type.Array(Id, { minItems: 1 }),
      reason: ReleaseReasonSchema,
      released_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const SeatsSoldSchema = eventSchema(
  'SeatsSold',
  Type.Object(
    {
      concert_id: Id,
      booking_id: Id,
      seat_ids: Type.Array(Id, { minItems: 1 }),
      transaction_id: Id,
      sold_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const ConcertCancelledSchema = eventSchema(
  'ConcertCancelled',
  Type.Object(
    { concert_id: Id, reason: Type.String({ minLength: 1 }), cancelled_at: Instant },
    { additionalProperties: false },
  ),
);

/**
 * The door. A ticket is the right to one sold seat, so its id is the seat's id; its revision
 * counts its holders (1 at the sale, one more per transfer), and a QR code names the revision it
 * was signed for. The holder travels sealed with the buyer's key, the KTP as a keyed fingerprint
 * (the per-KTP limit counts holders).
 */
export const TicketTransferredSchema = eventSchema(
  'TicketTransferred',
  Type.Object(
    {
      concert_id: Id,
      booking_id: Id,
      ticket_id: Id,
      revision: Type.Integer({ minimum: 2 }),
      /** The new holder's name and KTP, sealed with the buyer's data key. */
      holder: SealedSchema,
      ktp_fingerprint: Type.String({ minLength: 1 }),
      transferred_at: Instant,
    },
    { additionalProperties: false },
  ),
);

/** The one admission of a ticket; `scanned_at` is the gate's clock (an offline gate uploads later). */
export const TicketAdmittedSchema = eventSchema(
  'TicketAdmitted',
  Type.Object(
    {
      concert_id: Id,
      booking_id: Id,
      ticket_id: Id,
      revision: Type.Integer({ minimum: 1 }),
      gate: Type.String({ minLength: 1, maxLength: 64 }),
      scanned_at: Instant,
      admitted_at: Instant,
    },
    { additionalProperties: false },
  ),
);

/**
 * An admin edit of the concert's details: only the fields that changed are present; `null`
 * clears an optional one (description, image, a sales window end, the per-KTP limit).
 */
export const ConcertDetailsChangedSchema = eventSchema(
  'ConcertDetailsChanged',
  Type.Object(
    {
      concert_id: Id,
      name: Type.Optional(Type.String({ minLength: 1 })),
      artist: Type.Optional(Type.String({ minLength: 1 })),
      date: Type.Optional(Instant),
      venue: Type.Optional(Type.String({ minLength: 1 })),
      description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      image_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      max_tickets_per_ktp: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
      sales_open_at: Type.Optional(Type.Union([Instant, Type.Null()])),
      sales_close_at: Type.Optional(Type.Union([Instant, Type.Null()])),
      waiting_room: Type.Optional(Type.Boolean()),
      changed_at: Instant,
    },
    { additionalProperties: false },
  ),
);

/** A class's price for the bookings made from now on; a hold records each seat's price, so earlier ones keep theirs. */
export const TicketClassPriceChangedSchema = eventSchema(
  'TicketClassPriceChanged',
  Type.Object(
    { concert_id: Id, ticket_class_id: Id, price: Money, previous_price: Money, changed_at: Instant },
    { additionalProperties: false },
  ),
);

/** A class added after scheduling: its seats are numbered 1..seat_count and laid out after every other class's. */
export const TicketClassAddedSchema = eventSchema(
  'TicketClassAdded',
  Type.Object(
    { concert_id: Id, ticket_class: TicketClassSchema, added_at: Instant },
    { additionalProperties: false },
  ),
);

/** More seats in a class: numbers `seat_count - added + 1 .. seat_count`, the existing ones unchanged. */
export const SeatsAddedSchema = eventSchema(
  'SeatsAdded',
  Type.Object(
    {
      concert_id: Id,
      ticket_class_id: Id,
      added: Type.Integer({ minimum: 1 }),
      /** The class's seats after the addition. */
      seat_count: Type.Integer({ minimum: 2 }),
      added_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const ConcertEventSchemas = [
  ConcertScheduledSchema,
  ConcertPublishedSchema,
  SeatsHeldSchema,
  HoldReleasedSchema,
  SeatsSoldSchema,
  ConcertCancelledSchema,
  TicketTransferredSchema,
  TicketAdmittedSchema,
  ConcertDetailsChangedSchema,
  TicketClassPriceChangedSchema,
  TicketClassAddedSchema,
  SeatsAddedSchema,
] as const;

export type ConcertScheduled = Static<typeof ConcertScheduledSchema>;
export type ConcertPublished = Static<typeof ConcertPublishedSchema>;
export type SeatsHeld = Static<typeof SeatsHeldSchema>;
export type HoldReleased = Static<typeof HoldReleasedSchema>;
export type SeatsSold = Static<typeof SeatsSoldSchema>;
export type ConcertCancelled = Static<typeof ConcertCancelledSchema>;
export type TicketTransferred = Static<typeof TicketTransferredSchema>;
export type TicketAdmitted = Static<typeof TicketAdmittedSchema>;
export type ConcertDetailsChanged = Static<typeof ConcertDetailsChangedSchema>;
export type TicketClassPriceChanged = Static<typeof TicketClassPriceChangedSchema>;
export type TicketClassAdded = Static<typeof TicketClassAddedSchema>;
export type SeatsAdded = Static<typeof SeatsAddedSchema>;
export type ConcertEvent =
  | ConcertScheduled
  | ConcertPublished
  | SeatsHeld
  | HoldReleased
  | SeatsSold
  | ConcertCancelled
  | TicketTransferred
  | TicketAdmitted
  | ConcertDetailsChanged
  | TicketClassPriceChanged
  | TicketClassAdded
  | SeatsAdded;

/** Every event of a `concert-…` stream: what its decider folds and its readers decode. */
export const concertEvents: EventSet<ConcertEvent> = { types: ConcertEventSchemas.map((schema) => schema.properties.type.const) };
