import { randomBytes, randomUUID } from 'node:crypto';
import type { Sealed } from '../../domain/index.ts';

/** A stand-in envelope: the domain never opens one, so its bytes do not matter here. */
export const sealed = (label: string): Sealed => ({
  key_id: 'key-1',
  alg: 'A256GCM',
  iv: 'aXY=',
  ciphertext: Buffer.from(label).toString('base64'),
  tag: 'dGFn',
});

/** A sealed value of a real one's shape and size (a name and a KTP number sealed with AES-256-GCM): random bytes, as ciphertext is, so gzip cannot shrink it. */
export const randomSealed = (): Sealed => ({
  key_id: randomUUID(), alg: 'A256GCM', iv: randomBytes(12).toString('base64'), ciphertext: randomBytes(58).toString('base64'), tag: randomBytes(16).toString('base64'),
});

/** What a big sale's snapshot holds, for its size: `holds` pending holds, each a sealed holder's worth of random text that gzip cannot shrink. */
export function incompressibleSnapshot(holds: number): { version: number; holds: string[] } {
  return { version: 5, holds: Array.from({ length: holds }, () => randomBytes(96).toString('base64')) };
}
