/**
 * The one way a recorded event becomes a domain event: upcast to the version the code writes
 * today, checked against its type's TypeBox schema, narrowed to the types its reader expects.
 * Command handlers, reactors, services, the projection runner and the CLI all read events
 * through it; an event a reader does not expect, or whose data breaks its schema, is an
 * UndecodableEvent naming it, never a cast.
 *
 *   for (const recorded of page) {
 *     const event = decode(recorded, bookingEvents);
 *     switch (event.type) { case 'BookingConfirmed': …; case 'BookingExpired': …; }
 *   }
 *
 * The checks are TypeBox's compiled ones (a few microseconds an event), compiled once per event
 * type on first use.
 *
 * Times are read through the one parser of times (domain/shared/instant.ts): every `date-time`
 * field of the data and the metadata is given in its canonical form before the check, and a time
 * an older release let in (a leap second `23:59:60`, a `[zone]` suffix, a year before 1970…) is
 * read the way readRecordedInstant documents — the leap second as the next second — so a
 * projection, and its rebuild, applies every event the API ever accepted.
 */
import type { TProperties, TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import {
  domainEventSchemas,
  EventMetadataSchema,
  readRecordedInstant,
  upcasters,
  type DomainEvent,
  type DomainEventType,
  type EventMetadata,
  type EventSet,
  type UpcasterRegistry,
} from '../domain/index.ts';
import type { RecordedEvent } from './port.ts';

/** A recorded event as its reader sees it: one of the set's domain events, with where it is stored. */
export type Decoded<E extends DomainEvent> = E & Omit<RecordedEvent, 'type' | 'data' | 'metadata'> & { readonly metadata: EventMetadata };

/** What `decode(recorded, set)` returns for that set. */
export type DecodedFrom<S> = S extends EventSet<infer E extends DomainEvent> ? Decoded<E> : never;

/** The event could not be read as a domain event: not one its reader expects, or not valid. */
export class UndecodableEvent extends Error {
  override readonly name = 'UndecodableEvent';
  readonly type: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: number;

  constructor(recorded: RecordedEvent, readonly reason: string, options?: ErrorOptions) {
    super(`${recorded.type} at ${recorded.stream}@${recorded.revision} (position ${recorded.position}): ${reason}`, options);
    this.type = recorded.type;
    this.stream = recorded.stream;
    this.revision = recorded.revision;
    this.position = recorded.position;
  }
}

/** Some domain event types, by name: the set a reader that is no aggregate's decider expects. */
export function eventsOf<const T extends DomainEventType>(...types: T[]): EventSet<Extract<DomainEvent, { readonly type: T }>> {
  // The events of types T are exactly Extract<DomainEvent, { type: T }>; TypeScript cannot see it for a generic T.
  return { types } as EventSet<Extract<DomainEvent, { readonly type: T }>>;
}

/** The compiled schema of one event type: a value it passes is that domain event. */
type EventCheck = Validator<TProperties, TSchema, DomainEvent>;

/** Gives a value with its times in canonical form; the value itself when nothing changes. */
type TimesReader = (value: unknown) => unknown;

/** What the store already holds in canonical form (nearly every time): nothing to read again. */
const CANONICAL = /^(?:19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d\.\d{3}Z$/;

const readTime: TimesReader = (value) => (typeof value !== 'string' || CANONICAL.test(value) ? value : readRecordedInstant(value) ?? value);

/** How to read the times in values of `schema` (its `date-time` strings); undefined when it holds none. */
function timesReader(schema: unknown): TimesReader | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const { type, format, anyOf, items, properties } = schema as Record<string, unknown>;
  if (type === 'string') return format === 'date-time' ? readTime : undefined;
  if (Array.isArray(anyOf)) {
    const readers = anyOf.flatMap((variant) => timesReader(variant) ?? []);
    return readers.length === 0 ? undefined : (value) => readers.reduce((read, reader) => reader(read), value);
  }
  if (type === 'array') {
    const reader = timesReader(items);
    return reader === undefined ? undefined : (value) => (Array.isArray(value) ? value.map(reader) : value);
  }
  if (type === 'object' && typeof properties === 'object' && properties !== null) {
    const readers = Object.entries(properties).flatMap(([key, property]) => {
      const reader = timesReader(property);
      return reader === undefined ? [] : [[key, reader] as const];
    });
    if (readers.length === 0) return undefined;
    return (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      const fields = value as Record<string, unknown>;
      let copy: Record<string, unknown> | undefined;
      for (const [key, reader] of readers) {
        if (!Object.hasOwn(fields, key)) continue;
        const read = reader(fields[key]);
        if (read !== fields[key]) (copy ??= { ...fields })[key] = read;
      }
      return copy ?? value;
    };
  }
  return undefined;
}

const metadataCheck = Compile(EventMetadataSchema);
const metadataTimes = timesReader(EventMetadataSchema) ?? ((value: unknown) => value);
const eventChecks = new Map<string, { readonly check: EventCheck; readonly times: TimesReader }>();

function eventCheck(type: string): { readonly check: EventCheck; readonly times: TimesReader } | undefined {
  let compiled = eventChecks.get(type);
  if (compiled === undefined) {
    const schema = domainEventSchemas.get(type as DomainEventType);
    if (schema === undefined) return undefined;
    // domainEventSchemas holds the schema of each DomainEvent type, under its type.
    compiled = { check: Compile<TSchema, EventCheck>(schema), times: timesReader(schema) ?? ((value: unknown) => value) };
    eventChecks.set(type, compiled);
  }
  return compiled;
}

function firstError(check: Validator<TProperties, TSchema, unknown>, value: unknown): string {
  const [error] = check.Errors(value);
  return error === undefined ? 'invalid' : `${error.instancePath || '/'} ${error.message}`;
}

/**
 * The recorded event as one of `set`'s domain events, upcast with `registry` (the domain's own
 * unless a spec brings another). Throws UndecodableEvent when its type is not in the set, its
 * metadata or (upcast) data breaks the schema, or its version is newer than this code.
 */
export function decode<E extends DomainEvent>(recorded: RecordedEvent, set: EventSet<E>, registry: UpcasterRegistry = upcasters): Decoded<E> {
  if (!set.types.some((type) => type === recorded.type)) {
    throw new UndecodableEvent(recorded, `not one of the events this reader handles (${set.types.join(', ')})`);
  }
  const compiled = eventCheck(recorded.type);
  if (compiled === undefined) throw new UndecodableEvent(recorded, 'no schema for this event type');
  const { check, times } = compiled;
  const metadata = metadataTimes(recorded.metadata);
  if (!metadataCheck.Check(metadata)) throw new UndecodableEvent(recorded, `metadata ${firstError(metadataCheck, metadata)}`);
  let data: unknown;
  let current: EventMetadata;
  try {
    ({ data, metadata: current } = registry.upcast({ type: recorded.type, data: recorded.data, metadata }));
  } catch (error) {
    throw new UndecodableEvent(recorded, error instanceof Error ? error.message : String(error), { cause: error });
  }
  // The event's schema is `{type, data}`: its reader reads the times of both (a type is no time).
  const event = times({ type: recorded.type, data });
  if (!check.Check(event)) throw new UndecodableEvent(recorded, `data at schema version ${current.schema_version} ${firstError(check, event)}`);
  const decoded: Decoded<DomainEvent> = { ...recorded, ...event, metadata: current };
  // Checked above: its type is one of the set's, the types of E.
  return decoded as Decoded<E>;
}
