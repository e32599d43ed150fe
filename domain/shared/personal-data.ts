import Type, { type Static } from 'typebox';

/**
 * Personal data (names, phone numbers, emails, KTP numbers) never enters an event in clear text.
 * It is sealed with the owning user's data key, which lives outside the event store; deleting the
 * key ("forget me") makes every envelope unreadable while the history stays replayable.
 */
export const SealedSchema = Type.Object(
  {
    /** Which data key sealed this value (one key per user). */
    key_id: Type.String({ minLength: 1 }),
    alg: Type.Literal('A256GCM'),
    iv: Type.String({ minLength: 1 }),
    ciphertext: Type.String(),
    tag: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type Sealed = Static<typeof SealedSchema>;

/**
 * The keyed digest of an email address (HMAC-SHA256, hex): lets whoever holds the digest key find
 * the address again, and tells nobody else anything.
 */
export const EmailDigest = Type.String({ pattern: '^[0-9a-f]{64}$' });
