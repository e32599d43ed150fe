import Type, { type Static, type TSchema } from 'typebox';
import { Instant } from './instant.ts';

/**
 * One TypeBox schema per event type: `{type, data}`. The TypeScript type of an event is always
 * `Static<typeof Schema>` so the schema and the type cannot drift apart.
 */
export function eventSchema<const Name extends string, Data extends TSchema>(type: Name, data: Data) {
  return Type.Object({ type: Type.Literal(type), data }, { additionalProperties: false });
}

/** Who and what caused an event; added by the command path, never by a decider. */
export const EventMetadataSchema = Type.Object(
  {
    event_id: Type.String({ format: 'uuid' }),
    correlation_id: Type.String({ minLength: 1 }),
    causation_id: Type.String({ minLength: 1 }),
    /** The user on whose behalf the command ran; null for the system's own reactors. */
    actor_id: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    schema_version: Type.Integer({ minimum: 1 }),
    occurred_at: Instant,
  },
  { additionalProperties: false },
);
export type EventMetadata = Static<typeof EventMetadataSchema>;

export interface DomainEventShape {
  readonly type: string;
  readonly data: unknown;
}

/**
 * Some of the domain's event types: what a reader of events expects (eventstore/decode.ts narrows a
 * recorded event to them). `event` is never set; it carries the union for the type checker.
 */
export interface EventSet<E extends DomainEventShape> {
  readonly types: readonly E['type'][];
  readonly event?: E;
}

export type EventEnvelope<E extends DomainEventShape = DomainEventShape> = E & { readonly metadata: EventMetadata };

/** The context a command runs in; it becomes the metadata of every event the command decides. */
export interface CommandContext {
  readonly correlationId: string;
  /** The id of the request or event that caused this command. */
  readonly causationId: string;
  readonly actorId: string | null;
  /** ISO-8601 UTC instant the command was received. */
  readonly occurredAt: string;
}

/**
 * Wraps decided events in metadata. Ids come from the caller (the domain has no randomness);
 * each event gets a fresh one so a retried append of the same envelopes is recognisable.
 */
export function stampEvents<E extends DomainEventShape>(
  events: readonly E[],
  context: CommandContext,
  newEventId: () => string,
  schemaVersionOf: (type: string) => number,
): EventEnvelope<E>[] {
  return events.map((event) => ({
    ...event,
    metadata: {
      event_id: newEventId(),
      correlation_id: context.correlationId,
      causation_id: context.causationId,
      actor_id: context.actorId,
      schema_version: schemaVersionOf(event.type),
      occurred_at: context.occurredAt,
    },
  }));
}
