/**
 * A sealed value as one compact line of text, for read-model columns: the algorithm, the key id,
 * then iv, tag and ciphertext in base64. No quotes or backslashes to escape, a third shorter
 * than the JSON envelope, and it turns back into exactly the envelope the events carry.
 */
import type { Sealed } from '../../domain/index.ts';

const SEPARATOR = '.';

export function sealedToText(sealed: Sealed): string {
  return [sealed.alg, sealed.key_id, sealed.iv, sealed.tag, sealed.ciphertext].join(SEPARATOR);
}

export function sealedFromText(text: string): Sealed {
  const parts = text.split(SEPARATOR);
  const [alg, keyId, iv, tag, ciphertext] = parts;
  if (parts.length !== 5 || alg !== 'A256GCM' || !keyId || !iv || !tag || ciphertext === undefined) {
    throw new Error('not a sealed value');
  }
  return { key_id: keyId, alg, iv, ciphertext, tag };
}
