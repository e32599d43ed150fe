/**
 * A booking's tickets over HTTP, projections running: book → pay → tickets whose QR codes verify
 * and get in at the door → admitted in the list and in the door's counts; transfers show the new
 * holder and revision; someone else's, malformed, unpaid and void are refused with their codes.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, ktp } from '../../test/support/booking.ts';
import { paidBooking } from '../../test/support/door.ts';
import { bearer, login, register, secret } from '../../test/support/users.ts';

interface Ticket {
  id: string; booking_id: string; concert_id: string; seat_number: number; ticket_class_name: string;
  holder_name: string | null; holder_ktp_last4: string | null; status: string; revision: number; qr: string | null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

t.test('tickets of a paid booking', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' }, { reactors: true });
  made.services.projector.start();
  const { app } = made;
  const { store } = made.services.shared;
  const codes = made.services.command.api.ticketCodes;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 20 }, { name: 'Tribune', price: 300_000, total_seats_in_class: 5 }]);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const holders = [{ full_name: secret('Sari Dewi'), ktp_number: ktp() }, { full_name: secret('Budi Santoso'), ktp_number: ktp() }];
  const paid = await paidBooking(made, concert.id, classId, 2, { ticket_holder_info: holders });
  const owner = bearer(paid.user.token);
  const ticketsOf = async (bookingId: string, headers: Record<string, string>, position?: number) =>
    app.inject({ method: 'GET', url: `/api/v1/bookings/${bookingId}/tickets?min_position=${position ?? await store.headPosition()}`, headers });

  const listed = await ticketsOf(paid.bookingId, owner);
  t.equal(listed.statusCode, 200, listed.body);
  const tickets = listed.json<Ticket[]>();
  t.same(tickets.map((ticket) => [ticket.id, ticket.seat_number, ticket.ticket_class_name, ticket.holder_name, ticket.holder_ktp_last4, ticket.status, ticket.revision]),
    paid.seats.map((seat, i) => [seat.id, seat.seat_number, 'Festival', holders[i]?.full_name, holders[i]?.ktp_number.slice(-4), 'valid', 1]),
    'one ticket per seat, in seat order, each with its own holder');
  t.notOk(listed.body.includes(holders[0]?.ktp_number ?? '-'), 'no full KTP number leaves');
  const [first, second] = tickets as [Ticket, Ticket];
  const claims = codes.verify(first.qr ?? '');
  t.match(claims, { t: first.id, c: concert.id, s: first.seat_number, r: 1, h: 'SD', k: holders[0]?.ktp_number.slice(-4) }, 'the QR code verifies with the published keys and names the ticket');
  t.same((await ticketsOf(paid.bookingId, bearer(admin))).json<Ticket[]>().map((ticket) => ticket.id), tickets.map((ticket) => ticket.id), "an admin reads anyone's");

  t.test('the QR code as SVG and PNG', async (t) => {
    const svg = await app.inject({ method: 'GET', url: `/api/v1/tickets/${first.id}/qr.svg`, headers: owner });
    t.equal(svg.statusCode, 200);
    t.match(svg.headers['content-type'], /^image\/svg\+xml/);
    t.match(svg.body, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    t.match(svg.body, /<\/svg>\s*$/);
    const png = await app.inject({ method: 'GET', url: `/api/v1/tickets/${first.id}/qr.svg?format=png`, headers: owner });
    t.equal(png.statusCode, 200);
    t.equal(png.headers['content-type'], 'image/png');
    t.same(png.rawPayload.subarray(0, 8), PNG_SIGNATURE, 'a PNG');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/tickets/${first.id}/qr.svg?format=gif`, headers: owner })).statusCode, 400);
  });

  t.test('admitted at the door: the list and the door\'s counts say so', async (t) => {
    const scanned = await app.inject({ method: 'POST', url: '/api/v1/checkin', headers: bearer(admin), payload: { qr: first.qr, gate: 'north-1' } });
    t.equal(scanned.statusCode, 200, scanned.body);
    const at = scanned.json<{ position: number }>().position;
    const after = (await ticketsOf(paid.bookingId, owner, at)).json<Ticket[]>();
    t.same(after.map((ticket) => ticket.status), ['admitted', 'valid']);
    t.ok(after[0]?.qr, 'an admitted ticket keeps its code (a second scan tells when and where)');

    // Door staff: a role an admin grants; it takes effect at the next sign-in.
    const account = await register(app);
    const granted = await app.inject({ method: 'PUT', url: `/api/v1/admin/users/${account.id}/role`, headers: bearer(admin), payload: { role: 'staff' } });
    t.equal(granted.statusCode, 200);
    const staffToken = await login(app, account);
    const counts = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/checkin?min_position=${at}`, headers: bearer(staffToken) });
    t.equal(counts.statusCode, 200, counts.body);
    t.same(counts.json(), {
      concert_id: concert.id,
      classes: [
        { ticket_class_id: classId, ticket_class_name: 'Festival', issued: 2, admitted: 1, void: 0 },
        { ticket_class_id: concert.ticket_classes[1]?.id, ticket_class_name: 'Tribune', issued: 0, admitted: 0, void: 0 },
      ],
      gates: [{ gate: 'north-1', admitted: 1 }],
    });
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/checkin`, headers: owner })).statusCode, 403, 'not for customers');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${randomUUID()}/checkin?min_position=${at}`, headers: bearer(admin) })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/concerts/nope/checkin', headers: bearer(admin) })).json<{ code: string }>().code, 'INVALID_ID');

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    t.match(metrics.body, `boxoffice_tickets_admitted{concert_id="${concert.id}",ticket_class_id="${classId}"} 1`, '/metrics counts admissions per concert and class');
  });

  t.test('a transfer shows the new holder and revision; its old code is gone from the list', async (t) => {
    const newHolder = { full_name: secret('Wulan Sari'), ktp_number: ktp() };
    const moved = await app.inject({ method: 'POST', url: `/api/v1/tickets/${second.id}/transfer`, headers: owner, payload: newHolder });
    t.equal(moved.statusCode, 200, moved.body);
    const after = (await ticketsOf(paid.bookingId, owner, moved.json<{ position: number }>().position)).json<Ticket[]>();
    t.match(after[1], { id: second.id, revision: 2, holder_name: newHolder.full_name, holder_ktp_last4: newHolder.ktp_number.slice(-4), status: 'valid' });
    t.match(codes.verify(after[1]?.qr ?? ''), { t: second.id, r: 2, h: 'WS' });
  });

  t.test('someone else\'s, missing, malformed and unpaid are refused', async (t) => {
    const stranger = await customer(app);
    for (const url of [`/api/v1/bookings/${paid.bookingId}/tickets`, `/api/v1/tickets/${first.id}/qr.svg`, `/api/v1/bookings/${paid.bookingId}/tickets.html`,
      `/api/v1/bookings/${randomUUID()}/tickets`, `/api/v1/tickets/${randomUUID()}/qr.svg`]) {
      const answer = await app.inject({ method: 'GET', url, headers: bearer(stranger.token) });
      t.equal(answer.statusCode, 404, url);
      t.equal(answer.json<{ code: string }>().code, 'NOT_FOUND', url);
    }
    for (const url of ['/api/v1/bookings/not-an-id/tickets', '/api/v1/tickets/not-an-id/qr.svg']) {
      t.equal((await app.inject({ method: 'GET', url, headers: owner })).json<{ code: string }>().code, 'INVALID_ID', url);
    }
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/bookings/${paid.bookingId}/tickets` })).statusCode, 401);

    const fan = await customer(app);
    const pending = await book(app, fan.token, byClass(concert.id, classId, 1));
    t.equal(pending.statusCode, 201);
    const unpaid = await ticketsOf(pending.json<{ id: string }>().id, bearer(fan.token), pending.json<{ position: number }>().position);
    t.equal(unpaid.statusCode, 409);
    t.equal(unpaid.json<{ code: string }>().code, 'NOT_CONFIRMED');
  });

  t.test('the concert cancelled: its tickets are void and their codes are not shown', async (t) => {
    const cancelled = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin), payload: { reason: 'storm' } });
    t.equal(cancelled.statusCode, 200, cancelled.body);
    const at = await store.headPosition();
    const qr = await app.inject({ method: 'GET', url: `/api/v1/tickets/${second.id}/qr.svg?min_position=${at}`, headers: owner });
    t.equal(qr.statusCode, 409);
    t.equal(qr.json<{ code: string }>().code, 'TICKET_VOID');
    const counts = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/checkin?min_position=${at}`, headers: bearer(admin) });
    t.match(counts.json(), { classes: [{ issued: 2, admitted: 1, void: 2 }] }, 'the admission that happened still counts');
  });
});
