import type { DomainEventShape, EventSet } from './event.ts';

/**
 * An aggregate written as a decider: decide(command, state) → events (or throws a DomainError),
 * evolve(state, event) → state, and a factory for the state before the first event. `events`
 * names the event types of its stream: what a reader of that stream decodes.
 */
export interface Decider<Command, Event extends DomainEventShape, State> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
  readonly events: EventSet<Event>;
}

export function fold<Event extends DomainEventShape, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/** ISO-8601 instant → epoch milliseconds. Parsing a given string is not reading the clock. */
export function instant(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 instant: ${iso}`);
  return ms;
}
