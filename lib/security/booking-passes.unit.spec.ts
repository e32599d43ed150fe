import t from 'tap';
import { BookingPasses } from './booking-passes.ts';

const pass = { passId: '0f5f2b1e-8c1a-4d5e-9a0b-2c3d4e5f6a7b', userId: 'u-1', concertId: 'c-1', expiresAtMs: 1_767_225_600_000 };

t.test('a signed pass reads back as it was signed', async (t) => {
  const passes = new BookingPasses('secret-a');
  const text = passes.sign(pass);
  t.match(text, /^BP1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  t.same(passes.read(text), pass);
});

t.test('a pass changed, signed by another deployment, or not a pass at all reads as nothing', async (t) => {
  const passes = new BookingPasses('secret-a');
  const text = passes.sign(pass);
  const [, body, mac] = text.split('.');
  const forgedBody = Buffer.from(JSON.stringify({ p: pass.passId, u: 'u-2', c: pass.concertId, e: pass.expiresAtMs })).toString('base64url');
  t.equal(passes.read(`BP1.${forgedBody}.${mac}`), undefined, 'another account in the same signature');
  t.equal(passes.read(new BookingPasses('secret-b').sign(pass)), undefined, "another deployment's key");
  t.equal(passes.read(`${body}.${mac}`), undefined, 'without its marker');
  t.equal(passes.read('BP1.garbage'), undefined);
  t.equal(passes.read(''), undefined);
  const wrongShape = new BookingPasses('secret-a');
  // A token under the same key but another shape (an expiry that is not a number) is not a pass.
  const odd = `BP1.${Buffer.from(JSON.stringify({ p: 'x', u: 'y', c: 'z', e: 'soon' })).toString('base64url')}`;
  t.equal(wrongShape.read(`${odd}.${mac}`), undefined);
});
