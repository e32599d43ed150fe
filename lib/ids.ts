import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from its parts (SHA-256, version nibble 8: "custom"). The same parts
 * give the same id, which is how a retried request with the same Idempotency-Key finds what the
 * first one made.
 */
export function derivedUuid(...parts: readonly string[]): string {
  const hash = createHash('sha256').update(parts.map((part) => `${part.length}:${part}`).join('|')).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x80;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
