import type { Sealed } from '../shared/personal-data.ts';
import type { Role } from './events.ts';

interface Timed {
  readonly now: string;
}

/** The password arrives hashed and the email sealed: neither is ever seen in clear here. */
export interface RegisterUser extends Timed {
  readonly type: 'RegisterUser';
  readonly user_id: string;
  readonly username: string;
  readonly email_hash: string;
  readonly email: Sealed;
  readonly password_hash: string;
  readonly role: Role;
}

/** From a verification link, which works once; `email_hash` is the address it was sent to. */
export interface VerifyEmail extends Timed {
  readonly type: 'VerifyEmail';
  readonly email_hash: string;
}

export interface ChangeEmail extends Timed {
  readonly type: 'ChangeEmail';
  readonly email_hash: string;
  readonly email: Sealed;
  /** Which claim of the address the user holds it by (ClaimState.claims once claimed). */
  readonly claim_number: number;
}

export interface ChangePassword extends Timed {
  readonly type: 'ChangePassword';
  readonly password_hash: string;
  /** The same password hashed again at sign-in (needsRehash): ends no session. */
  readonly rehash?: boolean;
}

/** By an admin (PUT /api/v1/admin/users/:id/role). */
export interface ChangeRole extends Timed {
  readonly type: 'ChangeRole';
  readonly role: Role;
}

export interface RecordLogin extends Timed {
  readonly type: 'RecordLogin';
}

export interface ForgetPersonalData extends Timed {
  readonly type: 'ForgetPersonalData';
}

/**
 * Closes an id whose registration claimed a value and never made its account, before the claim is
 * freed for someone else (command-api/users/users.ts); refused once the account exists.
 */
export interface AbandonRegistration extends Timed {
  readonly type: 'AbandonRegistration';
  readonly user_id: string;
}

/**
 * Gives up the user's claim of an address that is not their address now, before the claim is
 * freed for someone else (command-api/users/users.ts); refused while it is their address.
 */
export interface LapseEmailClaim extends Timed {
  readonly type: 'LapseEmailClaim';
  readonly email_hash: string;
  /** Which claim of the address is given up (ClaimState.claims): that one, not a later one. */
  readonly claim_number: number;
}

export type UserCommand = RegisterUser | VerifyEmail | ChangeEmail | ChangePassword | ChangeRole | RecordLogin | ForgetPersonalData | AbandonRegistration | LapseEmailClaim;
