/**
 * One imported booking of the messy fixture read on both APIs, on a real MariaDB: the main API
 * shows it by its old UUID with boxoffice's seats; the legacy surface (what the older front end
 * calls) shows the same booking with the OLD integer ids of its seats, concert, class, payment and
 * owner; and the imported user signs in there with the old password.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { buildLegacyApp } from '../../app/legacy.ts';
import { seatId } from '../../domain/concert/index.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import { testApp } from '../../test/support/app.ts';
import { eventually } from '../../test/support/eventually.ts';
import { legacyDatabases } from '../../test/support/legacy.ts';
import { bearer, login } from '../../test/support/users.ts';
import { LegacyImporter, legacyId } from './importer.ts';
import { readLegacy } from './legacy-source.ts';

const B1 = 'b1000000-0000-4000-8000-000000000001';
const ORIGIN = 'http://localhost:5173';

t.test('an imported booking on the main API and on the legacy surface, and its owner signing in there', async (t) => {
  const made = await testApp(t, {}, { reactors: false });
  const { command, shared } = made.services;
  const report = await new LegacyImporter({
    store: shared.store,
    seal: (userId, value) => command.personalData.seal(userId, value),
    emailDigest: command.emailDigest,
    ktpFingerprint: (ktp) => command.ktp.of(ktp),
    maxTicketsPerKtp: 5,
    dryRun: false,
  }).run(await readLegacy(await legacyDatabases(t)));
  t.equal(report.tables.bookings.taken, 6, 'the messy fixture imported');
  made.services.projector.start();
  const head = await shared.store.headPosition();

  // The main API: the old UUID, boxoffice's seat ids and numbers.
  const token = await login(made.app, { username: 'alice', password: 'alice-old-secret-1' });
  const main = await made.app.inject({ method: 'GET', url: `/api/v1/bookings/${B1}`, headers: { ...bearer(token), 'x-min-position': String(head) } });
  t.equal(main.statusCode, 200, main.body);
  const vip = legacyId('ticket_class', 10);
  t.match(main.json(), {
    id: B1, status: 'confirmed', concert_id: legacyId('concert', 1), total_price: 1_000_000,
    seats: [{ id: seatId(vip, 1), seat_number: 1, ticket_class_id: vip }, { id: seatId(vip, 2), seat_number: 2, ticket_class_id: vip }],
  });

  // The legacy surface: alice signs in with her old password (the token cookie), as the older front end does.
  const logger = serverLogger(shared.config, new Writable({ write: (_chunk, _encoding, done) => done() }));
  const legacy = await buildLegacyApp(made.services, logger);
  t.teardown(() => legacy.close());
  const wrong = await legacy.inject({ method: 'POST', url: '/api/v1/users/login', headers: { origin: ORIGIN }, payload: { username: 'alice', password: 'not-her-password' } });
  t.equal(wrong.statusCode, 401);
  const signedIn = await legacy.inject({ method: 'POST', url: '/api/v1/users/login', headers: { origin: ORIGIN }, payload: { username: 'alice', password: 'alice-old-secret-1' } });
  t.equal(signedIn.statusCode, 200, signedIn.body);
  t.match(signedIn.json(), { user: { id: 1, username: 'alice' } }, 'her old integer id');
  const cookie = (signedIn.cookies as { name: string; value: string }[]).find((c) => c.name === 'token');
  t.ok(cookie, 'the token cookie');
  const headers = { origin: ORIGIN, cookie: `token=${cookie?.value ?? ''}` };

  const profile = await legacy.inject({ method: 'GET', url: '/api/v1/users/profile', headers });
  t.equal(profile.statusCode, 200, profile.body);
  t.match(profile.json(), { id: 1, username: 'alice', email: 'alice@old.example.test', role: 'user' }, 'the profile carries her old integer id');

  const booking = await eventually(async () => {
    const read = await legacy.inject({ method: 'GET', url: `/api/v1/bookings/${B1}`, headers });
    return read.statusCode === 200 ? read.json<{ booked_seats: { id: number; seat_number: string }[] | null }>() : undefined;
  }, 'the imported booking on the legacy surface');
  t.match(booking, {
    id: B1, user_id: 1, concert_id: 1, total_price: 1_000_000, status: 'confirmed', payment_id: 1,
    booked_seats: [
      { id: 101, seat_number: 'VIP-1', concert_id: 1, ticket_class_id: 10, ticket_class_name: 'VIP', status: 'booked' },
      { id: 102, seat_number: 'VIP-2', concert_id: 1, ticket_class_id: 10, ticket_class_name: 'VIP', status: 'booked' },
    ],
    // The surface masks a KTP number as the main API does.
    buyer_info: { full_name: 'Alice Anggraini', ktp_number: '************0001' },
  });
  t.strictSame(booking.booked_seats?.map((seat) => seat.id), [101, 102], 'exactly the old seat ids, in order');
  t.strictSame(booking.booked_seats?.map((seat) => seat.seat_number), ['VIP-1', 'VIP-2'], 'the old seat labels, as on her tickets');

  const seats = await legacy.inject({ method: 'GET', url: '/api/v1/concerts/1/seats', headers });
  t.equal(seats.statusCode, 200, seats.body);
  t.match(seats.json<{ id: number; status: string }[]>().filter((seat) => seat.id === 101 || seat.id === 102), [{ id: 101, status: 'booked' }, { id: 102, status: 'booked' }], 'the old concert and seat numbers on its seat map too');
  t.strictSame(
    seats.json<{ id: number; seat_number: string; ticket_class_id: number }[]>().filter((seat) => seat.ticket_class_id === 10).map((seat) => [seat.id, seat.seat_number]),
    [[101, 'VIP-1'], [102, 'VIP-2'], [104, 'VIP-3'], [103, 'VIP-10']],
    'the old labels on the seat map, in boxoffice\'s order (natural: VIP-3 before VIP-10)',
  );
});
