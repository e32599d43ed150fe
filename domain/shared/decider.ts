import type { DomainEventShape, EventSet } from './event.ts';
import { parseInstant } from './instant.ts';

/**
 * An aggregate written as a decider: decide(command, state) → events (or throws a DomainError),
 * evolve(state, event) → the next state, and a factory for the state before the first event.
 * `evolve` is pure: the state it is given stays as it was. `events` names the event types of its
 * stream: what a reader of that stream decodes.
 */
export interface Decider<Command, Event extends DomainEventShape, State> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
  readonly events: EventSet<Event>;
}

declare const owned: unique symbol;

/**
 * A state its holder may hand to an owning `evolve`, which changes it in place. Only
 * `initialState`, a state built fresh (a restored snapshot) and an owning `evolve` give one out; a
 * state lent to a reader is a plain `State`, so it cannot be evolved.
 */
export type Owned<State> = State & { readonly [owned]: true };

/**
 * A decider whose state is too large to copy per event: a concert's seat map (50,000 seats and
 * every hold of the sale) evolved for every event of a flash sale. Its `evolve` takes the state
 * over, changes it in place and returns it. The caller keeps what `evolve` returns
 * (`state = evolve(state, event)`) and never reads the state it passed again; whoever needs the
 * state as it was before folds it again from the store. A pure evolve keeps this contract too, so
 * callers written to it are right either way.
 */
export interface OwningDecider<Command, Event extends DomainEventShape, State> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: Owned<State>, event: Event) => Owned<State>;
  readonly initialState: () => Owned<State>;
  readonly events: EventSet<Event>;
}

/** The state after `events`, from the initial state; works for pure and owning deciders alike. */
export function fold<Event, State>(
  decider: { readonly evolve: (state: State, event: Event) => State; readonly initialState: () => State },
  events: Iterable<Event>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/** An instant (instant.ts) → epoch milliseconds. Parsing a given string is not reading the clock. */
export function instant(iso: string): number {
  const ms = parseInstant(iso);
  if (ms === undefined) throw new RangeError(`not an instant: ${JSON.stringify(iso)}`);
  return ms;
}
