import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant } from '../shared/schema.ts';

export const ClaimKindSchema = Type.Union([Type.Literal('username'), Type.Literal('email')]);
export type ClaimKind = Static<typeof ClaimKindSchema>;

/**
 * A unique value (normalized username, email hash) claimed by one owner. Each value has its own
 * stream, appended with "no stream" the first time: the store, not a read model, decides who won.
 */
export const ValueClaimedSchema = eventSchema(
  'ValueClaimed',
  Type.Object(
    { kind: ClaimKindSchema, value_key: Type.String({ minLength: 1 }), owner_id: Id, claimed_at: Instant },
    { additionalProperties: false },
  ),
);

export const ValueReleasedSchema = eventSchema(
  'ValueReleased',
  Type.Object(
    { kind: ClaimKindSchema, value_key: Type.String({ minLength: 1 }), owner_id: Id, released_at: Instant },
    { additionalProperties: false },
  ),
);

export const ClaimEventSchemas = [ValueClaimedSchema, ValueReleasedSchema] as const;

export type ValueClaimed = Static<typeof ValueClaimedSchema>;
export type ValueReleased = Static<typeof ValueReleasedSchema>;
export type ClaimEvent = ValueClaimed | ValueReleased;

/** Every event of a `claim-…` stream: what its decider folds and its readers decode. */
export const claimEvents: EventSet<ClaimEvent> = { types: ClaimEventSchemas.map((schema) => schema.properties.type.const) };
