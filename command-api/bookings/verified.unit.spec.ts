/**
 * Users whose token predates their verification are checked against their stream once, then
 * remembered for a while: a bounded number of them, the most recently checked.
 */
import t from 'tap';
import type { Principal } from '../../lib/http/auth.ts';
import { BookingService, VERIFIED_KEPT, type BookingServiceDeps } from './bookings.ts';

t.test('the verified users remembered are the newest VERIFIED_KEPT; an older one is read again', async (t) => {
  const loaded: string[] = [];
  const commands = {
    load: async (stream: string) => {
      loaded.push(stream);
      return { state: { status: 'active', emailVerified: true }, position: 1 };
    },
  };
  const bookings = new BookingService({ requireEmailVerification: true, commands } as unknown as BookingServiceDeps);
  const principal = (i: number): Principal => ({ userId: `u${i}`, role: 'customer', tokenId: `t${i}`, expiresAt: Date.now() + 60_000, via: 'header', emailVerified: false });
  for (let i = 0; i <= VERIFIED_KEPT; i++) await bookings.requireVerified(principal(i));
  t.equal(loaded.length, VERIFIED_KEPT + 1, 'each read once');
  await bookings.requireVerified(principal(VERIFIED_KEPT));
  await bookings.requireVerified(principal(1));
  t.equal(loaded.length, VERIFIED_KEPT + 1, 'the newest are remembered');
  await bookings.requireVerified(principal(0));
  t.strictSame(loaded.slice(VERIFIED_KEPT + 1), ['user-u0'], 'the oldest was let go, and is read again');
});
