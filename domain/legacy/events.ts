import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant } from '../shared/schema.ts';

/**
 * The older system numbered users, concerts, ticket classes, seats and payments with integers;
 * its clients keep those numbers. What boxoffice calls each of them is decided by the importer
 * once, in the store, so every instance and every rebuild reads the same numbers. Bookings keep
 * their UUIDs and need no mapping.
 */
export const LegacyKindSchema = Type.Union([
  Type.Literal('user'),
  Type.Literal('concert'),
  Type.Literal('ticket_class'),
  Type.Literal('seat'),
  Type.Literal('payment'),
]);
export type LegacyKind = Static<typeof LegacyKindSchema>;

export const LegacyNumberSchema = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** A seat's old `seat_number` ("VIP-12", "A7"), trimmed: what its tickets and the older front end show. */
export const LEGACY_LABEL_MAX = 64;
export const LegacyLabelSchema = Type.String({ minLength: 1, maxLength: LEGACY_LABEL_MAX });

/**
 * Old integer ids taken over by boxoffice objects: one event may carry many (a class's seats).
 * A seat may carry its old label too (events recorded before labels have none).
 */
export const LegacyIdsImportedSchema = eventSchema(
  'LegacyIdsImported',
  Type.Object(
    {
      kind: LegacyKindSchema,
      ids: Type.Array(
        Type.Object({ legacy_id: LegacyNumberSchema, id: Id, label: Type.Optional(LegacyLabelSchema) }, { additionalProperties: false }),
        { minItems: 1 },
      ),
      imported_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const LegacyEventSchemas = [LegacyIdsImportedSchema] as const;

export type LegacyIdsImported = Static<typeof LegacyIdsImportedSchema>;
export type LegacyEvent = LegacyIdsImported;

/** Every event of a `legacy-…` stream. */
export const legacyEvents: EventSet<LegacyEvent> = { types: LegacyEventSchemas.map((schema) => schema.properties.type.const) };
