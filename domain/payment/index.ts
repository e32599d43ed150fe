import type { Decider } from '../shared/decider.ts';
import type { PaymentCommand } from './commands.ts';
import { decide } from './decide.ts';
import { paymentEvents, type PaymentEvent } from './events.ts';
import { evolve, initialState, type PaymentState } from './state.ts';

export * from './commands.ts';
export * from './events.ts';
export { decide, refundKey } from './decide.ts';
export * from './state.ts';

export const paymentDecider: Decider<PaymentCommand, PaymentEvent, PaymentState> = { decide, evolve, initialState, events: paymentEvents };
/** Keyed by the gateway's transaction id, so a replayed webhook lands on the same stream. */
export const paymentStream = (transactionId: string): string => `payment-${transactionId}`;
