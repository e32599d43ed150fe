import type { OwningDecider } from '../shared/decider.ts';
import type { ConcertCommand } from './commands.ts';
import { decide } from './decide.ts';
import { concertEvents, type ConcertEvent } from './events.ts';
import { evolve, initialState, type ConcertState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export * from './seats.ts';
export { decide, MAX_SEATS_PER_CONCERT, MAX_TICKETS_PER_BOOKING } from './decide.ts';
export * from './state.ts';

/** Owning: a flash sale evolves a 50,000-seat state per event, so `evolve` changes it in place. */
export const concertDecider: OwningDecider<ConcertCommand, ConcertEvent, ConcertState> = { decide, evolve, initialState, events: concertEvents };
export const concertStream = (concertId: string): string => `concert-${concertId}`;
export * from './snapshot.ts';
