import { assertNever } from '../shared/errors.ts';
import type { Sealed } from '../shared/personal-data.ts';
import type { Role, UserEvent } from './events.ts';

export type UserState =
  /** No account; `abandoned`: none can ever be made under this id (RegistrationAbandoned). */
  | { readonly status: 'none'; readonly abandoned?: true }
  | {
      readonly status: 'active' | 'forgotten';
      readonly userId: string;
      readonly username: string;
      readonly role: Role;
      readonly emailHash: string;
      /** Every email digest the user ever claimed, the current one last: forget-me releases them all. */
      readonly emailHashes: readonly string[];
      /**
       * Claims of addresses given up (EmailClaimLapsed), by address: the number of the last one
       * given up (ClaimState.claims). A change made with that claim or an older one is refused.
       */
      readonly lapsedEmailClaims?: Readonly<Record<string, number>>;
      /** The address, sealed with the user's data key. */
      readonly email: Sealed;
      readonly emailVerified: boolean;
      readonly passwordHash: string;
      readonly registeredAt: string;
      readonly lastLoginAt: string | null;
      /**
       * Advanced by whatever must end the user's sessions: a password change (not a rehash of
       * the same password), a role change, forget-me. Tokens carry the generation they were
       * issued in (`gen`); one of an older generation is refused.
       */
      readonly generation: number;
    };

export function initialState(): UserState {
  return { status: 'none' };
}

export function evolve(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserRegistered') {
    const { data } = event;
    return {
      status: 'active',
      userId: data.user_id,
      username: data.username,
      role: data.role,
      emailHash: data.email_hash,
      emailHashes: [data.email_hash],
      email: data.email,
      emailVerified: false,
      passwordHash: data.password_hash,
      registeredAt: data.registered_at,
      lastLoginAt: null,
      generation: 0,
    };
  }
  if (event.type === 'RegistrationAbandoned') return state.status === 'none' ? { status: 'none', abandoned: true } : state;
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'EmailVerified':
      return { ...state, emailVerified: true };
    case 'EmailChanged':
      return {
        ...state,
        emailHash: event.data.email_hash,
        emailHashes: [...state.emailHashes.filter((hash) => hash !== event.data.email_hash), event.data.email_hash],
        email: event.data.email,
        emailVerified: false,
      };
    case 'PasswordChanged':
      return { ...state, passwordHash: event.data.password_hash, generation: event.data.rehash === true ? state.generation : state.generation + 1 };
    case 'RoleChanged':
      return { ...state, role: event.data.role, generation: state.generation + 1 };
    case 'UserLoggedIn':
      return { ...state, lastLoginAt: event.data.logged_in_at };
    case 'PersonalDataForgotten':
      return { ...state, status: 'forgotten', generation: state.generation + 1 };
    case 'EmailClaimLapsed': {
      const { email_hash: hash, claim_number: claim } = event.data;
      // A takeover that read an older claim may record its lapse late: the newest number stands.
      return { ...state, lapsedEmailClaims: { ...state.lapsedEmailClaims, [hash]: Math.max(state.lapsedEmailClaims?.[hash] ?? 0, claim) } };
    }
    default:
      return assertNever(event);
  }
}
