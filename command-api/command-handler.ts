/**
 * The one command path: read the stream → fold → decide → append at the expected revision →
 * on a conflict, read again and decide again. Routes call it; they never append themselves.
 */
import { randomUUID } from 'node:crypto';
import {
  stampEvents,
  upcasters,
  type CommandContext,
  type Decider,
  type DomainEvent,
  type DomainEventShape,
} from '../domain/index.ts';
import { decode } from '../eventstore/decode.ts';
import { WrongExpectedRevision, type EventStore, type EventToAppend, type ExpectedRevision } from '../eventstore/port.ts';

export interface Loaded<S> {
  readonly state: S;
  readonly revision: ExpectedRevision;
  /** The position of the stream's last event; 0 for a stream that does not exist. */
  readonly position: number;
}

export interface Executed<E, S> extends Loaded<S> {
  /** What this command appended; empty when it decided nothing (already done). */
  readonly events: readonly E[];
}

const MAX_ATTEMPTS = 8;

/** Decided events, stamped with the command's metadata, as the store takes them. */
export function toAppend(events: readonly DomainEventShape[], context: CommandContext, newId: () => string): EventToAppend[] {
  return stampEvents(events, context, newId, (type) => upcasters.currentVersion(type))
    .map((event) => ({ id: event.metadata.event_id, type: event.type, data: event.data, metadata: event.metadata }));
}

export class CommandHandler {
  constructor(private readonly store: EventStore, private readonly newId: () => string = randomUUID) {}

  async load<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<Loaded<S>> {
    const recorded = await this.store.readStream(stream);
    let state = decider.initialState();
    for (const event of recorded) state = decider.evolve(state, decode(event, decider.events));
    const last = recorded[recorded.length - 1];
    return { state, revision: last?.revision ?? 'no_stream', position: last?.position ?? 0 };
  }

  /**
   * Runs `command` against the stream. `command` may be a function of the current state, for
   * commands whose inputs depend on it; it runs again after every conflict.
   */
  async execute<C, E extends DomainEvent, S>(
    stream: string,
    decider: Decider<C, E, S>,
    command: C | ((state: S) => C | Promise<C>),
    context: CommandContext,
  ): Promise<Executed<E, S>> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(stream, decider);
      const decided = decider.decide(typeof command === 'function' ? await (command as (state: S) => C | Promise<C>)(loaded.state) : command, loaded.state);
      if (decided.length === 0) return { ...loaded, events: [] };
      try {
        const result = await this.store.append(stream, toAppend(decided, context, this.newId), loaded.revision);
        let state = loaded.state;
        for (const event of decided) state = decider.evolve(state, event);
        return { state, revision: result.nextExpectedRevision, position: result.position, events: decided };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}
