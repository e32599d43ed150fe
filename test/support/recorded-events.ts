/** Events as older releases recorded them, for the specs of upcasting and decoding. */
import type { EventMetadata } from '../../domain/shared/event.ts';
import { sealed } from './sealed.ts';

/** The metadata of an event recorded at `schema_version`, the ids and time fixed. */
export const metadataAt = (schema_version: number): EventMetadata => ({
  event_id: '00000000-0000-4000-8000-000000000001',
  correlation_id: 'req-1',
  causation_id: 'req-1',
  actor_id: null,
  schema_version,
  occurred_at: '2025-01-01T00:00:00.000Z',
});

/** A UserRegistered's data as the first release wrote it: no role, because there were no admins yet. */
export const userRegisteredV1Data = {
  user_id: 'u-old',
  username: 'early.bird',
  email_hash: 'c'.repeat(64),
  email: sealed('early@example.test'),
  password_hash: '$argon2id$old',
  registered_at: '2025-01-01T00:00:00.000Z',
};
