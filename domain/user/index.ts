import type { Decider } from '../shared/decider.ts';
import type { UserCommand } from './commands.ts';
import { decide } from './decide.ts';
import { userEvents, type UserEvent } from './events.ts';
import { evolve, initialState, type UserState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export { decide } from './decide.ts';
export * from './normalize.ts';
export * from './state.ts';
export { userEventVersions } from './upcasters.ts';

export const userDecider: Decider<UserCommand, UserEvent, UserState> = { decide, evolve, initialState, events: userEvents };
export const userStream = (userId: string): string => `user-${userId}`;
