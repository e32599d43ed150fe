import Type, { type Static } from 'typebox';
import { eventSchema, type EventSet } from '../shared/event.ts';
import { Id, Instant } from '../shared/schema.ts';
import { SealedSchema } from '../shared/personal-data.ts';

/** sha256 of the normalized address: lets the email claim stream be found without the address. */
const EmailHash = Type.String({ pattern: '^[0-9a-f]{64}$' });

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

export const PasswordChangedSchema = eventSchema(
  'PasswordChanged',
  Type.Object({ user_id: Id, password_hash: Type.String({ minLength: 1 }), changed_at: Instant }, { additionalProperties: false }),
);

export const UserLoggedInSchema = eventSchema(
  'UserLoggedIn',
  Type.Object({ user_id: Id, logged_in_at: Instant }, { additionalProperties: false }),
);

export const PersonalDataForgottenSchema = eventSchema(
  'PersonalDataForgotten',
  Type.Object({ user_id: Id, forgotten_at: Instant }, { additionalProperties: false }),
);

export const UserEventSchemas = [
  UserRegisteredSchema,
  EmailVerifiedSchema,
  EmailChangedSchema,
  PasswordChangedSchema,
  UserLoggedInSchema,
  PersonalDataForgottenSchema,
] as const;

export type UserRegistered = Static<typeof UserRegisteredSchema>;
export type EmailVerified = Static<typeof EmailVerifiedSchema>;
export type EmailChanged = Static<typeof EmailChangedSchema>;
export type PasswordChanged = Static<typeof PasswordChangedSchema>;
export type UserLoggedIn = Static<typeof UserLoggedInSchema>;
export type PersonalDataForgotten = Static<typeof PersonalDataForgottenSchema>;
export type UserEvent =
  | UserRegistered
  | EmailVerified
  | EmailChanged
  | PasswordChanged
  | UserLoggedIn
  | PersonalDataForgotten;

/** Every event of a `user-…` stream: what its decider folds and its readers decode. */
export const userEvents: EventSet<UserEvent> = { types: UserEventSchemas.map((schema) => schema.properties.type.const) };
