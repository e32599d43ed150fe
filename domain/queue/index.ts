import type { OwningDecider } from '../shared/decider.ts';
import type { QueueCommand } from './commands.ts';
import { decide } from './decide.ts';
import { queueEvents, type QueueEvent } from './events.ts';
import { evolve, initialState, type QueueState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export * from './lottery.ts';
export { decide } from './decide.ts';
export * from './state.ts';
export { undoQueueEvents } from './undo.ts';

/** Owning: 100,000 places are not copied per event, so `evolve` changes the state in place. */
export const queueDecider: OwningDecider<QueueCommand, QueueEvent, QueueState> = { decide, evolve, initialState, events: queueEvents };
/** One waiting room per concert. */
export const queueStream = (concertId: string): string => `queue-${concertId}`;
