/**
 * What an audit view (the admin stream route, `events:export`, `booking:history`) shows of an
 * event: everything the store holds, but a secret's value. A password's hash stays in the store
 * (the account needs it) and is shown as `[redacted]`, so the reader still sees that it changed.
 * Sealed personal data needs nothing here: it is shown as its envelope, which opens for no reader.
 */
export const REDACTED = '[redacted]';

/** Field names whose value is a secret, wherever they sit in an event. */
const SECRET_FIELD = /(^|_)(password|password_hash|secret|token)$/;

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, SECRET_FIELD.test(key) ? REDACTED : redactSecrets(inner)]));
}
