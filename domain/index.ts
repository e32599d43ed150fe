/**
 * The domain: pure deciders, no I/O, no clock, no randomness. Time and ids arrive on commands;
 * event metadata is added by the command path (see shared/event.ts `stampEvents`).
 */
import type { TSchema } from 'typebox';
import { BookingEventSchemas, type BookingEvent } from './booking/index.ts';
import { ClaimEventSchemas, type ClaimEvent } from './claim/index.ts';
import { ConcertEventSchemas, type ConcertEvent } from './concert/index.ts';
import { LegacyEventSchemas, type LegacyEvent } from './legacy/index.ts';
import { PaymentEventSchemas, type PaymentEvent } from './payment/index.ts';
import { QueueEventSchemas, type QueueEvent } from './queue/index.ts';
import { UpcasterRegistry } from './shared/upcasting.ts';
import { UserEventSchemas, userEventVersions, type UserEvent } from './user/index.ts';

export * from './shared/decider.ts';
export * from './shared/errors.ts';
export * from './shared/event.ts';
export * from './shared/instant.ts';
export * from './shared/personal-data.ts';
export * from './shared/upcasting.ts';

export type DomainEvent = ConcertEvent | BookingEvent | PaymentEvent | UserEvent | ClaimEvent | LegacyEvent | QueueEvent;
export type DomainEventType = DomainEvent['type'];

const allEventSchemas = [
  ...ConcertEventSchemas,
  ...BookingEventSchemas,
  ...PaymentEventSchemas,
  ...UserEventSchemas,
  ...ClaimEventSchemas,
  ...LegacyEventSchemas,
  ...QueueEventSchemas,
] as const;

/** Every event type's current schema, by type name: for checking what a store gives back. */
export const domainEventSchemas: ReadonlyMap<DomainEventType, TSchema> = new Map(
  allEventSchemas.map((schema) => [schema.properties.type.const, schema] as const),
);

/** Old versions of events are upcast when read, never rewritten. */
export const upcasters = new UpcasterRegistry({ ...userEventVersions });
