import type { Decider } from '../shared/decider.ts';
import type { ConcertCommand } from './commands.ts';
import { decide } from './decide.ts';
import { concertEvents, type ConcertEvent } from './events.ts';
import { evolve, initialState, type ConcertState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export * from './seats.ts';
export { decide, MAX_SEATS_PER_CONCERT, MAX_TICKETS_PER_BOOKING } from './decide.ts';
export * from './state.ts';

export const concertDecider: Decider<ConcertCommand, ConcertEvent, ConcertState> = { decide, evolve, initialState, events: concertEvents };
export const concertStream = (concertId: string): string => `concert-${concertId}`;
export * from './snapshot.ts';
