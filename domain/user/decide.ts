import { DomainError, assertNever } from '../shared/errors.ts';
import type { ChangeEmail, LapseEmailClaim, RegisterUser, UserCommand, VerifyEmail } from './commands.ts';
import type { UserEvent } from './events.ts';
import type { UserState } from './state.ts';

type KnownUser = Exclude<UserState, { status: 'none' }>;

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return registerUser(command, state);
    case 'VerifyEmail':
      return verifyEmail(command, requireActive(state));
    case 'ChangeEmail':
      return changeEmail(command, requireActive(state));
    case 'ChangePassword': {
      const user = requireActive(state);
      const rehash = command.rehash === true ? { rehash: true as const } : {};
      return [{ type: 'PasswordChanged', data: { user_id: user.userId, password_hash: command.password_hash, changed_at: command.now, ...rehash } }];
    }
    case 'ChangeRole': {
      const user = requireActive(state);
      if (user.role === command.role) return [];
      return [{ type: 'RoleChanged', data: { user_id: user.userId, role: command.role, changed_at: command.now } }];
    }
    case 'RecordLogin': {
      const user = requireActive(state);
      return [{ type: 'UserLoggedIn', data: { user_id: user.userId, logged_in_at: command.now } }];
    }
    case 'ForgetPersonalData': {
      const user = requireKnown(state);
      if (user.status === 'forgotten') return [];
      return [{ type: 'PersonalDataForgotten', data: { user_id: user.userId, forgotten_at: command.now } }];
    }
    case 'AbandonRegistration':
      if (state.status !== 'none') throw new DomainError('USER_ALREADY_EXISTS', 'this user id has an account');
      if (state.abandoned === true) return [];
      return [{ type: 'RegistrationAbandoned', data: { user_id: command.user_id, abandoned_at: command.now } }];
    case 'LapseEmailClaim':
      return lapseEmailClaim(command, requireKnown(state));
    default:
      return assertNever(command);
  }
}

function registerUser(command: RegisterUser, state: UserState): UserEvent[] {
  if (state.status !== 'none') throw new DomainError('USER_ALREADY_EXISTS', 'this user id is taken');
  if (state.abandoned === true) throw new DomainError('REGISTRATION_ABANDONED', 'this registration was given up and its username or address freed');
  return [
    {
      type: 'UserRegistered',
      data: {
        user_id: command.user_id,
        username: command.username,
        email_hash: command.email_hash,
        email: command.email,
        password_hash: command.password_hash,
        role: command.role,
        registered_at: command.now,
      },
    },
  ];
}

function verifyEmail(command: VerifyEmail, user: KnownUser): UserEvent[] {
  if (command.email_hash !== user.emailHash) {
    throw new DomainError('VERIFICATION_TOKEN_STALE', 'the email address changed after this link was sent');
  }
  // A verification link works once: the second click is refused, not silently accepted.
  if (user.emailVerified) throw new DomainError('EMAIL_ALREADY_VERIFIED', 'this email address is already verified');
  return [{ type: 'EmailVerified', data: { user_id: user.userId, email_hash: command.email_hash, verified_at: command.now } }];
}

function changeEmail(command: ChangeEmail, user: KnownUser): UserEvent[] {
  if (command.email_hash === user.emailHash) return [];
  // A claim given up (EmailClaimLapsed) may be someone else's by now: only a later claim is the user's.
  const lapsed = user.lapsedEmailClaims?.[command.email_hash];
  if (lapsed !== undefined && command.claim_number <= lapsed) throw new DomainError('EMAIL_TAKEN', 'this email is already taken');
  return [
    {
      type: 'EmailChanged',
      data: { user_id: user.userId, email_hash: command.email_hash, email: command.email, changed_at: command.now },
    },
  ];
}

function lapseEmailClaim(command: LapseEmailClaim, user: KnownUser): UserEvent[] {
  if (user.status === 'active' && command.email_hash === user.emailHash) {
    throw new DomainError('EMAIL_TAKEN', 'this email is the address of its account');
  }
  // Lapsed already (another takeover of the same claim), or a later claim of it did.
  if ((user.lapsedEmailClaims?.[command.email_hash] ?? 0) >= command.claim_number) return [];
  return [{
    type: 'EmailClaimLapsed',
    data: { user_id: user.userId, email_hash: command.email_hash, claim_number: command.claim_number, lapsed_at: command.now },
  }];
}

function requireKnown(state: UserState): KnownUser {
  if (state.status === 'none') throw new DomainError('USER_NOT_FOUND', 'no such user');
  return state;
}

function requireActive(state: UserState): KnownUser {
  const user = requireKnown(state);
  if (user.status === 'forgotten') throw new DomainError('USER_FORGOTTEN', 'this account was erased on request');
  return user;
}
