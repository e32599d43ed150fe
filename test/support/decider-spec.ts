import type { Test } from 'tap';
import Value from 'typebox/value';
import { DomainError, domainEventSchemas, type Decider, type DomainEventShape, type DomainEventType } from '../../domain/index.ts';

/**
 * Given/when/then for deciders, no I/O:
 *   given(decider, [events]).when(command).then(t, [expected events])
 *   given(decider, [events]).when(command).thenThrows(t, 'SEAT_UNAVAILABLE')
 */
export function given<C, E extends DomainEventShape, S>(decider: Decider<C, E, S>, history: readonly E[]) {
  return {
    when(command: C) {
      const run = (): E[] => {
        let state = decider.initialState();
        for (const event of history) state = decider.evolve(state, event);
        const events = decider.decide(command, state);
        for (const event of events) assertMatchesSchema(event);
        return events;
      };
      return {
        /** The decided events, exactly. */
        then(t: Test, expected: readonly E[]): E[] {
          const events = run();
          t.strictSame(events, expected);
          return events;
        },
        /** The decided events, for assertions that only look at some fields. */
        events(): E[] {
          return run();
        },
        thenThrows(t: Test, code: DomainError['code']): void {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          t.type(thrown, DomainError, 'decide refused with a DomainError');
          t.equal((thrown as DomainError | undefined)?.code, code);
        },
      };
    },
  };
}

/** Every decided event must be valid by its own schema: the schema is the contract with the store. */
function assertMatchesSchema(event: unknown): void {
  const type = (event as { type?: string }).type as DomainEventType;
  const schema = domainEventSchemas.get(type);
  if (schema === undefined) throw new Error(`no schema for event type ${String(type)}`);
  if (!Value.Check(schema, event)) {
    const [first] = Value.Errors(schema, event);
    throw new Error(`${type} does not match its schema: ${JSON.stringify(first)}`);
  }
}
