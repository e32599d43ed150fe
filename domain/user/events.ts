import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant } from '../shared/schema.ts';
import { SealedSchema } from '../shared/personal-data.ts';

/**
 * The keyed digest of the normalized address (HMAC-SHA256 under the digest key,
 * lib/personal-data/digest.ts): lets the email claim stream be found without the address, by
 * whoever holds the key only. Events written before the key existed carry a plain sha256 here.
 */
const EmailHash = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** `staff` works the door (check-in routes only); `admin` the back office. */
export const RoleSchema = Type.Union([Type.Literal('customer'), Type.Literal('staff'), Type.Literal('admin')]);
export type Role = Static<typeof RoleSchema>;

/** Version 2; version 1 predates roles (everyone was a customer) and is upcast on read. */
export const UserRegisteredSchema = eventSchema(
  'UserRegistered',
  Type.Object(
    {
      user_id: Id,
      username: Type.String({ minLength: 1 }),
      email_hash: EmailHash,
      email: SealedSchema,
      password_hash: Type.String({ minLength: 1 }),
      role: RoleSchema,
      registered_at: Instant,
    },
    { additionalProperties: false },
  ),
);

export const EmailVerifiedSchema = eventSchema(
  'EmailVerified',
  Type.Object({ user_id: Id, email_hash: EmailHash, verified_at: Instant }, { additionalProperties: false }),
);

export const EmailChangedSchema = eventSchema(
  'EmailChanged',
  Type.Object(
    { user_id: Id, email_hash: EmailHash, email: SealedSchema, changed_at: Instant },
    { additionalProperties: false },
  ),
);

/**
 * `rehash`: the same password hashed again with today's parameters at sign-in; it ends no
 * session. Absent on every other change (and on events written before the flag existed).
 */
export const PasswordChangedSchema = eventSchema(
  'PasswordChanged',
  Type.Object(
    { user_id: Id, password_hash: Type.String({ minLength: 1 }), changed_at: Instant, rehash: Type.Optional(Type.Literal(true)) },
    { additionalProperties: false },
  ),
);

export const UserLoggedInSchema = eventSchema(
  'UserLoggedIn',
  Type.Object({ user_id: Id, logged_in_at: Instant }, { additionalProperties: false }),
);

export const PersonalDataForgottenSchema = eventSchema(
  'PersonalDataForgotten',
  Type.Object({ user_id: Id, forgotten_at: Instant }, { additionalProperties: false }),
);

/** An admin gave the user another role: the user's existing tokens stop working. */
export const RoleChangedSchema = eventSchema(
  'RoleChanged',
  Type.Object({ user_id: Id, role: RoleSchema, changed_at: Instant }, { additionalProperties: false }),
);

/**
 * A registration that claimed a username or address and never made its account, closed for good
 * before its claim is given to someone else: the account can no longer be made under this id, so
 * a retry of that registration cannot race the takeover into a second account with the same name.
 */
export const RegistrationAbandonedSchema = eventSchema(
  'RegistrationAbandoned',
  Type.Object({ user_id: Id, abandoned_at: Instant }, { additionalProperties: false }),
);

/**
 * An address the user claimed by a change that never finished (the process stopped between the
 * claim and EmailChanged), or kept claimed after changing away from it (stopped before the
 * release), given up after a while to someone who wants it: recorded on the user first, so that
 * a change made with that claim (`claim_number`: which claim of the address it was, see
 * ClaimState.claims), should one ever go on, is refused instead of taking the address back.
 */
export const EmailClaimLapsedSchema = eventSchema(
  'EmailClaimLapsed',
  Type.Object(
    { user_id: Id, email_hash: EmailHash, claim_number: Type.Integer({ minimum: 0 }), lapsed_at: Instant },
    { additionalProperties: false },
  ),
);

export const UserEventSchemas = [
  UserRegisteredSchema,
  EmailVerifiedSchema,
  EmailChangedSchema,
  PasswordChangedSchema,
  UserLoggedInSchema,
  PersonalDataForgottenSchema,
  RoleChangedSchema,
  RegistrationAbandonedSchema,
  EmailClaimLapsedSchema,
] as const;

export type UserRegistered = Static<typeof UserRegisteredSchema>;
export type EmailVerified = Static<typeof EmailVerifiedSchema>;
export type EmailChanged = Static<typeof EmailChangedSchema>;
export type PasswordChanged = Static<typeof PasswordChangedSchema>;
export type UserLoggedIn = Static<typeof UserLoggedInSchema>;
export type PersonalDataForgotten = Static<typeof PersonalDataForgottenSchema>;
export type RoleChanged = Static<typeof RoleChangedSchema>;
export type RegistrationAbandoned = Static<typeof RegistrationAbandonedSchema>;
export type EmailClaimLapsed = Static<typeof EmailClaimLapsedSchema>;
export type UserEvent =
  | UserRegistered
  | EmailVerified
  | EmailChanged
  | PasswordChanged
  | UserLoggedIn
  | PersonalDataForgotten
  | RoleChanged
  | RegistrationAbandoned
  | EmailClaimLapsed;

/** Every event of a `user-…` stream: what its decider folds and its readers decode. */
export const userEvents: EventSet<UserEvent> = { types: UserEventSchemas.map((schema) => schema.properties.type.const) };
