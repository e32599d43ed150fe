/**
 * The importer on a real MariaDB holding the older schema and the messy fixture
 * (test/fixtures/legacy/): exact reconciliation, old passwords, old booking ids on the main API,
 * sold seats stay sold, a second run and a dry run append nothing.
 */
import t, { type Test } from 'tap';
import { bookingDecider, bookingStream } from '../../domain/booking/index.ts';
import { seatId } from '../../domain/concert/index.ts';
import { legacyEvents, legacyStream } from '../../domain/legacy/index.ts';
import { paymentDecider, paymentStream } from '../../domain/payment/index.ts';
import { claimDecider, claimStream } from '../../domain/claim/index.ts';
import { userDecider, userEvents, userStream } from '../../domain/user/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { book, bySeat } from '../../test/support/booking.ts';
import { legacyDatabases } from '../../test/support/legacy.ts';
import { bearer, login, verifiedUser } from '../../test/support/users.ts';
import { CommandHandler } from '../command-handler.ts';
import { LegacyImporter, legacyId } from './importer.ts';
import { readLegacy, type LegacyData } from './legacy-source.ts';
import type { ReconciliationReport } from './reconciliation.ts';

const B1 = 'b1000000-0000-4000-8000-000000000001';

function importer(made: TestApp, dryRun = false): LegacyImporter {
  const { command, shared } = made.services;
  return new LegacyImporter({
    store: shared.store,
    seal: (userId, value) => command.personalData.seal(userId, value),
    emailDigest: command.emailDigest,
    ktpFingerprint: (ktp) => command.ktp.of(ktp),
    maxTicketsPerKtp: 5,
    dryRun,
  });
}

const EXPECTED: ReconciliationReport['tables'] = {
  users: { read: 9, taken: 5, refused: { EMAIL_TAKEN: 1, INVALID_USERNAME: 1, SOFT_DELETED: 1, USERNAME_TAKEN: 1 }, notes: {} },
  concerts: { read: 4, taken: 1, refused: { CONCERT_NOT_ACTIVE: 1, SOFT_DELETED: 1, TICKET_CLASS_REFUSED: 1 }, notes: {} },
  ticket_classes: { read: 5, taken: 2, refused: { AMOUNT_HAS_CENTS: 1, CONCERT_REFUSED: 1, SOFT_DELETED: 1 }, notes: {} },
  seats: { read: 13, taken: 10, refused: { CONCERT_REFUSED: 2, SOFT_DELETED: 1 }, notes: { 'booked in the older system, available by its bookings': 3 } },
  bookings: {
    read: 11, taken: 6,
    refused: { CONCERT_NOT_IMPORTED: 1, KTP_LIMIT_REACHED: 1, SEAT_UNAVAILABLE: 1, SOFT_DELETED: 1, USER_NOT_IMPORTED: 1 },
    notes: {},
  },
  booking_seats: { read: 16, taken: 9, refused: { BOOKING_REFUSED: 7 }, notes: {} },
  buyers: { read: 11, taken: 6, refused: { BOOKING_REFUSED: 5 }, notes: {} },
  ticket_holders: { read: 3, taken: 2, refused: { BOOKING_REFUSED: 1 }, notes: {} },
  payments: { read: 11, taken: 8, refused: { AMOUNT_HAS_CENTS: 1, NO_BOOKING: 1, SOFT_DELETED: 1 }, notes: {} },
};

async function imported(t: Test): Promise<{ made: TestApp; data: LegacyData; first: ReconciliationReport }> {
  const made = await testApp(t, {}, { reactors: false });
  const data = await readLegacy(await legacyDatabases(t));
  const first = await importer(made).run(data);
  return { made, data, first };
}

t.test('the messy fixture is reconciled row by row, exactly', async (t) => {
  const { made, data, first } = await imported(t);
  t.strictSame(first.tables, EXPECTED);
  t.ok(first.events_appended > 0);
  t.equal(first.dry_run, false);

  t.test('a second run takes nothing twice: nothing appended, the same reconciliation', async (t) => {
    const head = await made.services.shared.store.headPosition();
    const second = await importer(made).run(data);
    t.equal(second.events_appended, 0);
    t.equal(await made.services.shared.store.headPosition(), head, 'the store did not move');
    t.strictSame(second.tables, EXPECTED);
  });

  t.test('a dry run reports the same and appends nothing', async (t) => {
    const fresh = await testApp(t);
    const head = await fresh.services.shared.store.headPosition();
    const dry = await importer(fresh, true).run(data);
    t.strictSame(dry.tables, EXPECTED);
    t.ok(dry.events_appended > 0, 'it counts what a run would append');
    t.equal(await fresh.services.shared.store.headPosition(), head, 'nothing was appended');
  });

  t.test('the old integer ids are recorded for the legacy surface', async (t) => {
    const [user] = await made.services.shared.store.readStream(legacyStream('user', 1));
    t.strictSame(user && decode(user, legacyEvents).data.ids, [{ legacy_id: 1, id: legacyId('user', 1) }]);
    const [seats] = await made.services.shared.store.readStream(legacyStream('seat', 10));
    const vip = legacyId('ticket_class', 10);
    // VIP-1, VIP-2, VIP-10, VIP-3 (ids 101–104) are numbered in natural order: 1, 2, 4, 3, each with its old label.
    t.strictSame(seats && decode(seats, legacyEvents).data.ids, [
      { legacy_id: 101, id: seatId(vip, 1), label: 'VIP-1' }, { legacy_id: 102, id: seatId(vip, 2), label: 'VIP-2' },
      { legacy_id: 104, id: seatId(vip, 3), label: 'VIP-3' }, { legacy_id: 103, id: seatId(vip, 4), label: 'VIP-10' },
    ]);
    t.equal((await made.services.shared.store.readStream(legacyStream('user', 5))).length, 0, 'a refused user has no number');
  });

  t.test('money is never lost: paid for refused bookings, or for none, is owed back', async (t) => {
    const commands = new CommandHandler(made.services.shared.store);
    for (const transaction of ['TXN-0003', 'TXN-0005', 'TXN-0007']) {
      const { state } = await commands.load(paymentStream(transaction), paymentDecider);
      t.equal(state.status, 'refund_due', transaction);
    }
    t.equal((await commands.load(paymentStream('TXN-0001'), paymentDecider)).state.status, 'succeeded');
    t.equal((await commands.load(paymentStream('TXN-0006'), paymentDecider)).state.status, 'failed');
    t.equal((await commands.load(paymentStream('TXN-0011'), paymentDecider)).state.status, 'succeeded', 'paid after the hold\'s time, sold as the older system sold it');
    t.equal((await commands.load(bookingStream('b1000000-0000-4000-8000-000000000011'), bookingDecider)).state.status, 'confirmed');
  });

  t.test('an imported user signs in with the old password, which is re-hashed with argon2id', async (t) => {
    const bad = await made.app.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username: 'alice', password: 'not-her-password' } });
    t.equal(bad.statusCode, 401);
    const token = await login(made.app, { username: 'alice', password: 'alice-old-secret-1' });
    t.ok(token);
    const events = (await made.services.shared.store.readStream(userStream(legacyId('user', 1)))).map((e) => decode(e, userEvents));
    const rehashed = events.find((e) => e.type === 'PasswordChanged');
    t.match(rehashed?.type === 'PasswordChanged' ? rehashed.data : null, { rehash: true, password_hash: /^\$argon2id\$/ });
    t.ok(await login(made.app, { username: 'alice', password: 'alice-old-secret-1' }), 'and signs in again with the new hash');
    const profile = await made.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(token) });
    t.match(profile.json(), { id: legacyId('user', 1), username: 'alice', email: 'alice@old.example.test', role: 'customer', email_verified: true });
    const admin = await login(made.app, { username: 'carol', password: 'carol-admin-secret' });
    const carol = await made.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(admin) });
    t.equal(carol.json<{ role: string }>().role, 'admin');
  });

  t.test('an imported booking shows on the main API with its old id and seats; its sold seat cannot be sold again', async (t) => {
    made.services.projector.start();
    const token = await login(made.app, { username: 'alice', password: 'alice-old-secret-1' });
    const head = await made.services.shared.store.headPosition();
    const read = await made.app.inject({ method: 'GET', url: `/api/v1/bookings/${B1}`, headers: { ...bearer(token), 'x-min-position': String(head) } });
    t.equal(read.statusCode, 200);
    const vip = legacyId('ticket_class', 10);
    t.match(read.json(), {
      id: B1, status: 'confirmed', concert_id: legacyId('concert', 1), total_price: 1_000_000,
      seats: [{ id: seatId(vip, 1), seat_number: 1, ticket_class_id: vip, ticket_class_name: 'VIP' }, { id: seatId(vip, 2), seat_number: 2 }],
      buyer_info: { full_name: 'Alice Anggraini', email: 'alice@old.example.test' },
      ticket_holder_info: [{ full_name: 'Ari Anggraini' }, { full_name: 'Ari Anggraini' }],
    });
    const someone = await verifiedUser(made);
    const again = await book(made.app, someone.token, bySeat(legacyId('concert', 1), [seatId(vip, 1)]));
    t.equal(again.statusCode, 409);
    t.equal(again.json<{ code: string }>().code, 'SEAT_UNAVAILABLE');
  });
});

t.test('a user whose id a registration closed as abandoned (a run stopped after its claims) is refused and its claims freed, every run alike', async (t) => {
  const made = await testApp(t, {}, { reactors: false });
  const data = await readLegacy(await legacyDatabases(t));
  const { store } = made.services.shared;
  const commands = new CommandHandler(store);
  const grace = legacyId('user', 9);
  const at = '2025-01-09T10:00:00.000Z';
  const context = { correlationId: 'spec', causationId: 'spec', actorId: null, occurredAt: at };
  // What an earlier run left (the username claimed) and an orphan takeover did (the id closed).
  await commands.execute(claimStream('username', 'grace'), claimDecider, { type: 'ClaimValue', kind: 'username', value_key: 'grace', owner_id: grace, now: at }, context);
  await commands.execute(userStream(grace), userDecider, { type: 'AbandonRegistration', user_id: grace, now: at }, context);
  const first = await importer(made).run(data);
  t.match(first.tables.users, { read: 9, taken: 4, refused: { REGISTRATION_ABANDONED: 1 } }, 'refused with its reason; the run goes on');
  t.equal((await commands.load(claimStream('username', 'grace'), claimDecider)).state.owner, null, 'its username is free');
  t.strictSame((await store.readStream(userStream(grace))).map((event) => event.type), ['RegistrationAbandoned'], 'and it has no account');
  const head = await store.headPosition();
  const second = await importer(made).run(data);
  t.strictSame(second.tables.users, first.tables.users, 'a second run: the same');
  t.equal(await store.headPosition(), head, 'appending nothing');
});
