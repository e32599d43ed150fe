/**
 * The demo concert a fresh embedded install starts with, so a new user has something to book.
 * Created with a fixed idempotency key by a fixed system actor: seeding again (every start, or
 * `boxoffice seed:demo`) answers the same concert and appends nothing.
 */
import type { ConcertCreated, ConcertService } from '../command-api/concerts/concerts.ts';

const SYSTEM_ACTOR = '00000000-0000-4000-8000-00000000b0c5';
/** Sales close at a concert's date: the demo is dated a year after its first seeding, so it stays bookable. */
const A_YEAR_MS = 365 * 86_400_000;

export async function seedDemoConcert(concerts: ConcertService, now: Date = new Date()): Promise<ConcertCreated> {
  return concerts.create(
    { userId: SYSTEM_ACTOR, role: 'admin', tokenId: 'seed-demo', expiresAt: Number.MAX_SAFE_INTEGER, via: 'header', emailVerified: true },
    {
      name: 'Senandung Senja — boxoffice demo',
      artist: 'Nadin Amizah',
      date: new Date(Math.ceil((now.getTime() + A_YEAR_MS) / 86_400_000) * 86_400_000 + 12 * 3_600_000).toISOString(),
      venue: 'Istora Senayan, Jakarta',
      description: 'A demo concert seeded at the first start. Book it, pay at the sandbox checkout, cancel it.',
      max_tickets_per_ktp: 4,
      ticket_classes: [
        { name: 'VIP', price: 2_500_000, total_seats_in_class: 100 },
        { name: 'Festival', price: 850_000, total_seats_in_class: 900 },
      ],
    },
    'boxoffice-demo-concert',
    { correlationId: 'seed-demo', causationId: 'seed-demo' },
  );
}
