import { createPublicKey, randomBytes, verify } from 'node:crypto';
import t from 'tap';
import { initialsOf, keyIdOf, TicketCodes, type TicketClaims } from './ticket-codes.ts';

const claims: TicketClaims = { t: '7f3e2d1c-0b9a-4876-a543-000000000001', c: 'a7c1f3de-0000-4000-8000-000000000001', s: 12, r: 1, h: 'RK', k: '4321' };
const refusal = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

t.test('a code verifies with node:crypto and the published key alone', async (t) => {
  const codes = new TicketCodes([randomBytes(32)]);
  const code = codes.sign(claims);
  t.match(code, /^BX1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const [prefix, payload, signature] = code.split('.') as [string, string, string];
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const [published] = codes.publicKeys();
  t.same(decoded, { ...claims, kid: published?.kid }, 'the payload is the documented JSON, nothing more');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: published?.x }, format: 'jwk' });
  t.equal(verify(null, Buffer.from(`${prefix}.${payload}`, 'ascii'), publicKey, Buffer.from(signature, 'base64url')), true);
  t.same(codes.verify(code), { ...claims, kid: published?.kid });
});

t.test('one character changed, garbage, or another key: INVALID_TICKET', async (t) => {
  const codes = new TicketCodes([randomBytes(32)]);
  const code = codes.sign(claims);
  for (let i = 4; i < code.length; i++) {
    const flipped = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1);
    if (flipped !== code && refusal(() => codes.verify(flipped)) !== 'INVALID_TICKET') t.fail(`character ${i} changed and still verified`);
  }
  t.pass(`each of the ${code.length - 4} characters after the prefix, changed, is refused`);
  t.equal(refusal(() => codes.verify(code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A'))), 'INVALID_TICKET', 'the last character too');
  for (const garbage of ['', 'BX1', 'BX1..', 'BX2.e30.e30', 'hello world', `BX1.${'A'.repeat(2000)}.x`, 'BX1.bm90IGpzb24.c2ln', `BX1.${Buffer.from('{"t":1}').toString('base64url')}.c2ln`]) {
    t.equal(refusal(() => codes.verify(garbage)), 'INVALID_TICKET', JSON.stringify(garbage.slice(0, 20)));
  }
  t.equal(refusal(() => codes.verify(new TicketCodes([randomBytes(32)]).sign(claims))), 'INVALID_TICKET', 'signed by a key that is not ours');
});

t.test('keys rotate: the first signs, every one listed verifies', async (t) => {
  const old = randomBytes(32);
  const next = randomBytes(32);
  const before = new TicketCodes([old]).sign(claims);
  const rotated = new TicketCodes([next, old]);
  t.equal(rotated.verify(before).kid, keyIdOf(old), 'a code printed before the rotation still scans');
  t.equal(rotated.verify(rotated.sign(claims)).kid, keyIdOf(next), 'new codes use the new key');
  t.same(rotated.publicKeys().map((key) => key.kid), [keyIdOf(next), keyIdOf(old)]);
  t.equal(refusal(() => new TicketCodes([next]).verify(before)), 'INVALID_TICKET', 'once the old key is dropped its codes are refused');
});

t.test('initials: the first letter of up to three words', async (t) => {
  t.equal(initialsOf('rina kartika'), 'RK');
  t.equal(initialsOf('  Budi   Santoso  Putra Wijaya '), 'BSP');
  t.equal(initialsOf('Đặng'), 'Đ');
});
