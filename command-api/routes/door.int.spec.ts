/**
 * The door over HTTP on the MariaDB event store, reactors running: a ticket is admitted once,
 * whatever the number of scans at once; void, superseded, forged and other concerts' codes are
 * refused with their codes and append nothing; transfers; offline batches.
 */
import t from 'tap';
import { concertEvents, type TicketAdmitted } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, createConcert, customer, ktp } from '../../test/support/booking.ts';
import { paidBooking, qrOf } from '../../test/support/door.ts';
import { bearer, login, register } from '../../test/support/users.ts';

t.test('the door', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', RATE_LIMIT: 'off' }, { reactors: true });
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 50 }], { max_tickets_per_ktp: 2 });
  const classId = concert.ticket_classes[0]?.id ?? '';
  const scan = (qr: string, gate = 'north-1', token = admin, url = '/api/v1/checkin') =>
    made.app.inject({ method: 'POST', url, headers: bearer(token), payload: { qr, gate } });
  const admissions = async (): Promise<TicketAdmitted['data'][]> => (await store.readStream(`concert-${concert.id}`))
    .map((recorded) => decode(recorded, concertEvents)).flatMap((event) => (event.type === 'TicketAdmitted' ? [event.data] : []));

  t.test('a paid ticket is admitted once; the next scan is ALREADY_ADMITTED with when and where', async (t) => {
    const { seats } = await paidBooking(made, concert.id, classId);
    const ticketId = seats[0]?.id ?? '';
    const first = await scan(qrOf(made, concert.id, ticketId), 'north-1');
    t.equal(first.statusCode, 200);
    t.match(first.json(), { result: 'admitted', ticket: { id: ticketId, seat_number: seats[0]?.seat_number, ticket_class_name: 'Festival', holder_name: /^Rina /, holder_ktp_last4: /^[0-9]{4}$/ } });
    const again = await scan(qrOf(made, concert.id, ticketId), 'south-2');
    t.equal(again.statusCode, 409);
    t.match(again.json(), { code: 'ALREADY_ADMITTED', gate: 'north-1', admitted_at: /^20/ });
    t.equal((await admissions()).filter((event) => event.ticket_id === ticketId).length, 1);
  });

  t.test('50 scans of one ticket at once: exactly one 200', async (t) => {
    const { seats } = await paidBooking(made, concert.id, classId);
    const ticketId = seats[0]?.id ?? '';
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => scan(qrOf(made, concert.id, ticketId), `gate-${i % 7}`)));
    t.equal(answers.filter((answer) => answer.statusCode === 200).length, 1);
    t.equal(answers.filter((answer) => answer.statusCode === 409 && answer.json<{ code: string }>().code === 'ALREADY_ADMITTED').length, 49);
    t.equal((await admissions()).filter((event) => event.ticket_id === ticketId).length, 1);
  });

  t.test('garbage, one character changed, another concert: refused with their codes, nothing appended', async (t) => {
    const { seats } = await paidBooking(made, concert.id, classId);
    const qr = qrOf(made, concert.id, seats[0]?.id ?? '');
    const other = await createConcert(made.app, admin, [{ name: 'Tribune', price: 100_000, total_seats_in_class: 5 }]);
    const before = await store.headPosition();
    const changed = qr.slice(0, 10) + (qr[10] === 'A' ? 'B' : 'A') + qr.slice(11);
    for (const [qr2, status, code] of [['garbage', 400, 'INVALID_TICKET'], [changed, 400, 'INVALID_TICKET'], ['BX1.e30.e30', 400, 'INVALID_TICKET']] as const) {
      const answer = await scan(qr2);
      t.equal(answer.statusCode, status);
      t.equal(answer.json<{ code: string }>().code, code);
    }
    const wrong = await scan(qr, 'north-1', admin, `/api/v1/checkin?concert_id=${other.id}`);
    t.equal(wrong.statusCode, 409);
    t.equal(wrong.json<{ code: string }>().code, 'WRONG_CONCERT');
    const unsold = await scan(qrOf(made, concert.id, seats[0]?.id.replace(/.{12}$/, '000000000031') ?? ''));
    t.equal(unsold.json<{ code: string }>().code, 'TICKET_VOID', 'a seat nobody paid for');
    t.equal(await store.headPosition(), before, 'nothing appended');
  });

  t.test('door staff scan, and do nothing else of an admin; a customer cannot scan; the keys are public', async (t) => {
    const fan = await customer(made.app);
    t.equal((await scan('garbage', 'x', fan.token)).statusCode, 403);
    const account = await register(made.app);
    const granted = await made.app.inject({ method: 'PUT', url: `/api/v1/admin/users/${account.id}/role`, headers: bearer(admin), payload: { role: 'staff' } });
    t.equal(granted.statusCode, 200);
    const staff = await login(made.app, account);
    const { seats } = await paidBooking(made, concert.id, classId);
    const admitted = await scan(qrOf(made, concert.id, seats[0]?.id ?? ''), 'gate-s', staff);
    t.equal(admitted.statusCode, 200, 'staff admit');
    const adminOnly = await made.app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(staff) });
    t.equal(adminOnly.statusCode, 403, 'but are no admins');
    const keys = await made.app.inject({ method: 'GET', url: '/api/v1/checkin/keys' });
    t.equal(keys.statusCode, 200);
    t.match(keys.json(), { keys: [{ kid: /.+/, alg: 'EdDSA', crv: 'Ed25519', x: /^[A-Za-z0-9_-]{43}$/ }] });
  });

  t.test('transfer: the old QR is superseded, the new one admitted; only the buyer, under the KTP limit', async (t) => {
    const { user, seats } = await paidBooking(made, concert.id, classId, 2);
    const ticketId = seats[0]?.id ?? '';
    const friend = { full_name: 'Dewi Lestari', ktp_number: ktp() };
    const transfer = (token: string, body: Record<string, unknown> = friend, id = ticketId) =>
      made.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transfer`, headers: bearer(token), payload: body });
    const stranger = await customer(made.app);
    t.equal((await transfer(stranger.token)).statusCode, 404, "someone else's ticket");
    const moved = await transfer(user.token);
    t.equal(moved.statusCode, 200);
    const ticket = moved.json<{ revision: number; qr: string; holder_name: string; holder_ktp_last4: string; status: string }>();
    t.match(ticket, { id: ticketId, revision: 2, holder_name: 'Dewi Lestari', holder_ktp_last4: friend.ktp_number.slice(-4), status: 'valid' });
    const old = await scan(qrOf(made, concert.id, ticketId, 1));
    t.equal(old.json<{ code: string }>().code, 'TICKET_SUPERSEDED');
    const admitted = await scan(ticket.qr);
    t.equal(admitted.statusCode, 200);
    t.match(admitted.json(), { ticket: { holder_name: 'Dewi Lestari', holder_ktp_last4: friend.ktp_number.slice(-4) } });
    t.equal((await transfer(user.token)).json<{ code: string }>().code, 'ALREADY_ADMITTED', 'a used ticket stays with who used it');
    // The limit is 2 per KTP: the friend already holds one; a second is fine, a third holder slot is not.
    const second = await transfer(user.token, friend, seats[1]?.id);
    t.equal(second.statusCode, 200);
    const third = await paidBooking(made, concert.id, classId);
    const over = await transfer(third.user.token, friend, third.seats[0]?.id);
    t.equal(over.statusCode, 409);
    t.equal(over.json<{ code: string }>().code, 'KTP_LIMIT_REACHED');
    t.equal((await transfer(user.token, { full_name: 'x' })).statusCode, 400, 'a holder needs a KTP number');
  });

  t.test('an offline gate uploads its scans: the earliest scan of a ticket wins, one result per scan in order', async (t) => {
    const { seats } = await paidBooking(made, concert.id, classId, 2);
    const [a, b] = seats.map((seat) => qrOf(made, concert.id, seat.id));
    const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();
    const answer = await made.app.inject({
      method: 'POST', url: '/api/v1/checkin/batch', headers: bearer(admin), payload: {
        scans: [
          { qr: a, gate: 'west', scanned_at: minutesAgo(8) },
          { qr: a, gate: 'east', scanned_at: minutesAgo(9) },
          { qr: 'garbage', gate: 'west', scanned_at: minutesAgo(7) },
          { qr: b, gate: 'west', scanned_at: minutesAgo(6) },
        ],
      },
    });
    t.equal(answer.statusCode, 200, answer.body);
    t.match(answer.json(), { results: [
      { result: 'refused', code: 'ALREADY_ADMITTED', gate: 'east' },
      { result: 'admitted', ticket: { id: seats[0]?.id } },
      { result: 'refused', code: 'INVALID_TICKET' },
      { result: 'admitted', ticket: { id: seats[1]?.id } },
    ] });
    const recorded = (await admissions()).find((event) => event.ticket_id === seats[0]?.id);
    t.match(recorded, { gate: 'east' });
    t.ok(Date.parse(recorded?.scanned_at ?? '') < Date.now() - 8.5 * 60_000, 'the earlier scan is the one recorded');
    const future = await made.app.inject({ method: 'POST', url: '/api/v1/checkin/batch', headers: bearer(admin), payload: { scans: [{ qr: a, gate: 'w', scanned_at: '2099-01-01T00:00:00Z' }] } });
    t.equal(future.statusCode, 400, 'a scan from the future');
    const leap = await made.app.inject({ method: 'POST', url: '/api/v1/checkin/batch', headers: bearer(admin), payload: { scans: [{ qr: a, gate: 'w', scanned_at: '2026-06-30T23:59:60Z' }] } });
    t.equal(leap.statusCode, 400, 'a time that is no instant');
    t.equal(leap.json<{ code: string }>().code, 'VALIDATION_FAILED');
  });

  t.test("a batch answers the position of its last admission, so a browser's next read sees them (the min_position cookie)", async (t) => {
    made.services.projector.start();
    const account = await register(made.app);
    const granted = await made.app.inject({ method: 'PUT', url: `/api/v1/admin/users/${account.id}/role`, headers: bearer(admin), payload: { role: 'staff' } });
    t.equal(granted.statusCode, 200);
    const signedIn = await made.app.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username: account.username, password: account.password } });
    const tokenCookie = [signedIn.headers['set-cookie']].flat().find((c) => c?.startsWith('token='))?.split(';')[0] ?? '';
    const { seats } = await paidBooking(made, concert.id, classId, 2);
    const [a, b] = seats.map((seat) => qrOf(made, concert.id, seat.id));
    const upload = (scans: { qr: string; gate: string; scanned_at: string }[]) => made.app.inject({
      method: 'POST', url: '/api/v1/checkin/batch', headers: { cookie: tokenCookie, origin: 'http://localhost:5173' }, payload: { scans },
    });
    const earlier = new Date(Date.now() - 60_000).toISOString();
    const answer = await upload([
      { qr: a ?? '', gate: 'cookie-gate', scanned_at: earlier },
      { qr: 'garbage', gate: 'cookie-gate', scanned_at: earlier },
      { qr: b ?? '', gate: 'cookie-gate', scanned_at: earlier },
    ]);
    t.equal(answer.statusCode, 200, answer.body);
    const body = answer.json<{ results: { result: string; position?: number }[]; position: number }>();
    const appended = body.results.flatMap((result) => (result.position === undefined ? [] : [result.position]));
    t.equal(appended.length, 2, 'two admitted');
    t.equal(body.position, Math.max(...appended), 'the position of the last event the batch appended');
    const minCookie = [answer.headers['set-cookie']].flat().find((c) => c?.startsWith('min_position='));
    t.match(minCookie, new RegExp(`^min_position=${body.position};`), 'a cookie-authenticated batch sets min_position');

    const counts = await made.app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/checkin`, headers: { cookie: `${tokenCookie}; ${minCookie?.split(';')[0] ?? ''}` } });
    t.equal(counts.statusCode, 200, counts.body);
    t.match(counts.json<{ gates: { gate: string; admitted: number }[] }>().gates, [{ gate: 'cookie-gate', admitted: 2 }], 'the read waited for both admissions');

    // Nothing new to append: as a repeated command, the position its refusals stand on (the admissions), and nothing appended.
    const head = await store.headPosition();
    const repeat = await upload([{ qr: a ?? '', gate: 'cookie-gate', scanned_at: earlier }]);
    t.equal(repeat.statusCode, 200);
    t.match(repeat.json(), { results: [{ result: 'refused', code: 'ALREADY_ADMITTED' }] });
    t.ok(repeat.json<{ position: number }>().position >= body.position, 'a position that covers the admission it refers to');
    t.equal(await store.headPosition(), head, 'nothing appended');
    const garbage = await upload([{ qr: 'garbage', gate: 'cookie-gate', scanned_at: earlier }]);
    t.equal(garbage.json<{ position: number }>().position, 0, 'no ticket named: no event to wait for');
  });

  t.test('a concert cancelled after payment: its tickets scan TICKET_VOID', async (t) => {
    const other = await createConcert(made.app, admin, [{ name: 'Tribune', price: 100_000, total_seats_in_class: 5 }]);
    const { seats } = await paidBooking(made, other.id, other.ticket_classes[0]?.id ?? '');
    t.equal((await made.app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${other.id}/cancel`, headers: bearer(admin), payload: {} })).statusCode, 200);
    const answer = await scan(qrOf(made, other.id, seats[0]?.id ?? ''));
    t.equal(answer.statusCode, 409);
    t.equal(answer.json<{ code: string }>().code, 'TICKET_VOID');
  });
});
