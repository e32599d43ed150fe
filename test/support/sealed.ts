import type { Sealed } from '../../domain/index.ts';

/** A stand-in envelope: the domain never opens one, so its bytes do not matter here. */
export const sealed = (label: string): Sealed => ({
  key_id: 'key-1',
  alg: 'A256GCM',
  iv: 'aXY=',
  ciphertext: Buffer.from(label).toString('base64'),
  tag: 'dGFn',
});
