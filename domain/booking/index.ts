import type { Decider } from '../shared/decider.ts';
import type { BookingCommand } from './commands.ts';
import { decide } from './decide.ts';
import { bookingEvents, type BookingEvent } from './events.ts';
import { evolve, initialState, type BookingState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export { decide } from './decide.ts';
export * from './state.ts';

export const bookingDecider: Decider<BookingCommand, BookingEvent, BookingState> = { decide, evolve, initialState, events: bookingEvents };
export const bookingStream = (bookingId: string): string => `booking-${bookingId}`;
