import { randomBytes } from 'node:crypto';
import t from 'tap';
import { RandomIvs, seal, unseal } from './seal.ts';

const dataKey = { keyId: '5f0c6c1e-3a41-4a49-9a1b-2f1d8c0e7b11', key: randomBytes(32) };

t.test('IVs from the pool are 12 bytes, never the same twice, across refills of the block', async (t) => {
  const ivs = new RandomIvs();
  const first = ivs.next();
  const kept = Buffer.from(first);
  const seen = new Set<string>([first.toString('hex')]);
  for (let i = 1; i < 2_000; i++) {
    const iv = ivs.next();
    t.equal(iv.length, 12);
    seen.add(iv.toString('hex'));
  }
  t.equal(seen.size, 2_000, 'every IV differs (the block of 340 was refilled several times)');
  t.ok(first.equals(kept), 'an IV handed out is its own copy: refilling the block does not change it');
});

t.test('a value sealed opens again, and two seals of one value differ', async (t) => {
  const one = seal(dataKey, '{"full_name":"Rina"}');
  const two = seal(dataKey, '{"full_name":"Rina"}');
  t.equal(unseal(dataKey, one), '{"full_name":"Rina"}');
  t.not(one.iv, two.iv);
  t.not(one.ciphertext, two.ciphertext);
});

t.test('seal draws its own IVs: 12 bytes, never the same twice over many refills of its block', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 2_000; i++) {
    const iv = Buffer.from(seal(dataKey, 'x').iv, 'base64');
    t.equal(iv.length, 12);
    seen.add(iv.toString('hex'));
  }
  t.equal(seen.size, 2_000);
});
