import { DomainError, assertNever } from '../shared/errors.ts';
import type { Decider } from '../shared/decider.ts';
import { claimEvents, type ClaimEvent, type ClaimKind } from './events.ts';

export * from './events.ts';

export interface ClaimValue {
  readonly type: 'ClaimValue';
  readonly kind: ClaimKind;
  readonly value_key: string;
  readonly owner_id: string;
  readonly now: string;
}

export interface ReleaseValue {
  readonly type: 'ReleaseValue';
  readonly kind: ClaimKind;
  readonly value_key: string;
  readonly owner_id: string;
  readonly now: string;
  /** Only this claim of the value (ClaimState.claims when it was read): refused once it was claimed again since. */
  readonly claim_number?: number;
}

export type ClaimCommand = ClaimValue | ReleaseValue;

export interface ClaimState {
  readonly owner: string | null;
  /** How many times the value was claimed: the number of the owner's claim. */
  readonly claims: number;
  /** When the owner's claim was made; null while nobody has the value. */
  readonly claimedAt: string | null;
}

const TAKEN = { username: 'USERNAME_TAKEN', email: 'EMAIL_TAKEN' } as const;

export function decide(command: ClaimCommand, state: ClaimState): ClaimEvent[] {
  const { kind, value_key, owner_id, now } = command;
  switch (command.type) {
    case 'ClaimValue':
      if (state.owner === owner_id) return [];
      if (state.owner !== null) throw new DomainError(TAKEN[kind], `this ${kind} is already taken`);
      return [{ type: 'ValueClaimed', data: { kind, value_key, owner_id, claimed_at: now } }];
    case 'ReleaseValue':
      if (command.claim_number !== undefined && command.claim_number !== state.claims) {
        throw new DomainError('CLAIM_NOT_OWNED', `this ${kind} was claimed again since`);
      }
      if (state.owner === null) return [];
      if (state.owner !== owner_id) throw new DomainError('CLAIM_NOT_OWNED', `this ${kind} belongs to someone else`);
      return [{ type: 'ValueReleased', data: { kind, value_key, owner_id, released_at: now } }];
    default:
      return assertNever(command);
  }
}

export function evolve(state: ClaimState, event: ClaimEvent): ClaimState {
  switch (event.type) {
    case 'ValueClaimed':
      return { owner: event.data.owner_id, claims: state.claims + 1, claimedAt: event.data.claimed_at };
    case 'ValueReleased':
      return { ...state, owner: null, claimedAt: null };
    default:
      return assertNever(event);
  }
}

export const initialState = (): ClaimState => ({ owner: null, claims: 0, claimedAt: null });

export const claimDecider: Decider<ClaimCommand, ClaimEvent, ClaimState> = { decide, evolve, initialState, events: claimEvents };

/** `username-<normalized>` / `email-<sha256 of normalized>`. */
export const claimStream = (kind: ClaimKind, valueKey: string): string => `${kind}-${valueKey}`;
