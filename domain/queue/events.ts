import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant } from '../shared/schema.ts';
import { LOTTERY_ALGORITHM, LOTTERY_SEED_PATTERN } from './lottery.ts';

/**
 * The waiting room of one concert's sale was switched on. Who joins before `opens_at` takes part
 * in the opening lottery; who joins later queues behind them in arrival order. Recorded again
 * only when the opening moves before it has come (the sales window was changed).
 */
export const WaitingRoomOpenedSchema = eventSchema(
  'WaitingRoomOpened',
  Type.Object({ concert_id: Id, opens_at: Instant, opened_at: Instant }, { additionalProperties: false }),
);

/**
 * How a place is ordered, decided when it was taken: `lottery` (joined before the opening and
 * before the draw: ordered by the lottery) or `arrival` (behind every lottery entrant, in the
 * order the joins were recorded).
 */
export const QueueEntrySchema = Type.Union([Type.Literal('lottery'), Type.Literal('arrival')]);
export type QueueEntry = Static<typeof QueueEntrySchema>;

/** One account took its one place in the waiting room; `place_id` is the place's token. */
export const QueueJoinedSchema = eventSchema(
  'QueueJoined',
  Type.Object(
    { concert_id: Id, place_id: Id, user_id: Id, entry: QueueEntrySchema, joined_at: Instant },
    { additionalProperties: false },
  ),
);

/**
 * The opening lottery: the first `entrants` lottery joins of the stream, in recorded order, are
 * shuffled by `algorithm` from `seed` (lottery.ts). The order is derived from these three on every
 * replay, not stored: 100,000 entrants would make a 4 MB event, the shuffle takes milliseconds.
 */
export const LotteryDrawnSchema = eventSchema(
  'LotteryDrawn',
  Type.Object(
    {
      concert_id: Id,
      seed: Type.String({ pattern: LOTTERY_SEED_PATTERN }),
      algorithm: Type.Literal(LOTTERY_ALGORITHM),
      entrants: Type.Integer({ minimum: 0 }),
      drawn_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const AdmissionSchema = Type.Object(
  { place_id: Id, user_id: Id, pass_id: Id, expires_at: Instant },
  { additionalProperties: false },
);
export type Admission = Static<typeof AdmissionSchema>;

/** The next places in lottery-then-arrival order were let in: each has a booking pass until `expires_at`. */
export const VisitorsAdmittedSchema = eventSchema(
  'VisitorsAdmitted',
  Type.Object(
    { concert_id: Id, admissions: Type.Array(AdmissionSchema, { minItems: 1 }), admitted_at: Instant },
    { additionalProperties: false },
  ),
);

/** A pass bought its holder's booking: it is spent. */
export const PassUsedSchema = eventSchema(
  'PassUsed',
  Type.Object(
    { concert_id: Id, place_id: Id, pass_id: Id, user_id: Id, booking_id: Id, used_at: Instant },
    { additionalProperties: false },
  ),
);

/** A pass not used before `expires_at`; recorded at `expired_at`. */
export const PassExpiredSchema = eventSchema(
  'PassExpired',
  Type.Object(
    { concert_id: Id, place_id: Id, pass_id: Id, user_id: Id, expires_at: Instant, expired_at: Instant },
    { additionalProperties: false },
  ),
);

/** The last seat is gone: no more admissions, and the `waiting` places still waiting are told. */
export const QueueSoldOutSchema = eventSchema(
  'QueueSoldOut',
  Type.Object(
    { concert_id: Id, waiting: Type.Integer({ minimum: 0 }), sold_out_at: Instant },
    { additionalProperties: false },
  ),
);

export const QueueEventSchemas = [
  WaitingRoomOpenedSchema, QueueJoinedSchema, LotteryDrawnSchema, VisitorsAdmittedSchema, PassUsedSchema, PassExpiredSchema, QueueSoldOutSchema,
] as const;

export type WaitingRoomOpened = Static<typeof WaitingRoomOpenedSchema>;
export type QueueJoined = Static<typeof QueueJoinedSchema>;
export type LotteryDrawn = Static<typeof LotteryDrawnSchema>;
export type VisitorsAdmitted = Static<typeof VisitorsAdmittedSchema>;
export type PassUsed = Static<typeof PassUsedSchema>;
export type PassExpired = Static<typeof PassExpiredSchema>;
export type QueueSoldOut = Static<typeof QueueSoldOutSchema>;
export type QueueEvent = WaitingRoomOpened | QueueJoined | LotteryDrawn | VisitorsAdmitted | PassUsed | PassExpired | QueueSoldOut;

/** Every event of a `queue-…` stream: what its decider folds and its readers decode. */
export const queueEvents: EventSet<QueueEvent> = { types: QueueEventSchemas.map((schema) => schema.properties.type.const) };
