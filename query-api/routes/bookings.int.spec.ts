import { randomUUID } from 'node:crypto';
import t from 'tap';
import { testApp } from '../../test/support/app.ts';
import { adminToken, buyer, byClass, createConcert, customer, ktp } from '../../test/support/booking.ts';
import { assertNoSecretsInLogs, bearer, secret } from '../../test/support/users.ts';

interface BookingAnswer {
  id: string; status: string; concert_name: string | null; total_price: number; payment_id: string | null;
  seats: { seat_number: number; ticket_class_name: string | null }[];
  buyer_info: { full_name: string; phone_number: string; email: string; ktp_number: string } | null;
  ticket_holder_info: { full_name: string; ktp_number: string }[];
}

t.test('owners read their bookings and payments; nobody else can, not even by guessing ids', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services, logs } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Tribune', price: 350_000, total_seats_in_class: 20 }], { name: 'Pesta Rakyat' });
  const other = await createConcert(app, admin, [{ name: 'Tribune', price: 100_000, total_seats_in_class: 20 }], { name: 'Malam Minggu' });
  const classOf = (c: typeof concert) => (c.ticket_classes[0] as { id: string }).id;
  const alice = await customer(app);
  const bob = await customer(app);

  const aliceBuyer = buyer();
  const holders = [{ full_name: secret('Sari Dewi'), ktp_number: ktp() }, { full_name: secret('Budi Santoso'), ktp_number: ktp() }];
  const placed = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(alice.token), payload: { ...byClass(concert.id, classOf(concert), 2), buyer_info: aliceBuyer, ticket_holder_info: holders } });
  t.equal(placed.statusCode, 201);
  const booking = placed.json<{ id: string }>();
  const paid = await app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(alice.token), payload: { booking_id: booking.id, payment_method: 'virtual_account' } });
  t.equal(paid.statusCode, 201);
  const payment = paid.json<{ id: string; position?: number }>();
  const later = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(alice.token), payload: byClass(other.id, classOf(other), 1) });
  t.equal(later.statusCode, 201);
  const bobs = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(bob.token), payload: byClass(concert.id, classOf(concert), 1) });
  t.equal(bobs.statusCode, 201);
  const at = `min_position=${bobs.json<{ position: number }>().position}`;

  const own = await app.inject({ method: 'GET', url: `/api/v1/bookings/${booking.id}?${at}`, headers: bearer(alice.token) });
  t.equal(own.statusCode, 200);
  const body = own.json<BookingAnswer>();
  t.match(body, { id: booking.id, status: 'pending', concert_name: 'Pesta Rakyat', total_price: 700_000, payment_id: payment.id });
  t.same(body.seats.map((seat) => [seat.seat_number, seat.ticket_class_name]), [[1, 'Tribune'], [2, 'Tribune']]);
  t.same(body.buyer_info, { ...aliceBuyer, ktp_number: `************${aliceBuyer.ktp_number.slice(-4)}` }, 'the buyer, opened, KTP masked');
  t.same(body.ticket_holder_info, holders.map((h) => ({ full_name: h.full_name, ktp_number: `************${h.ktp_number.slice(-4)}` })));
  t.notOk(own.body.includes(aliceBuyer.ktp_number) || own.body.includes(holders[0]?.ktp_number as string), 'no full KTP number leaves');
  t.notOk('user_id' in body, "the owner's id is not shown");

  const ownPayment = await app.inject({ method: 'GET', url: `/api/v1/payments/${payment.id}?${at}`, headers: bearer(alice.token) });
  t.equal(ownPayment.statusCode, 200);
  t.match(ownPayment.json(), { id: payment.id, booking_id: booking.id, amount: 700_000, payment_method: 'virtual_account', status: 'pending' });

  // Bob guesses Alice's ids: the same 404 as for ids that do not exist.
  for (const url of [`/api/v1/bookings/${booking.id}`, `/api/v1/payments/${payment.id}`, `/api/v1/bookings/${randomUUID()}`, `/api/v1/payments/${randomUUID()}`]) {
    const answer = await app.inject({ method: 'GET', url: `${url}?${at}`, headers: bearer(bob.token) });
    t.equal(answer.statusCode, 404, url);
    t.equal(answer.json<{ code: string }>().code, 'NOT_FOUND');
  }
  const bobsList = await app.inject({ method: 'GET', url: `/api/v1/bookings/my?${at}`, headers: bearer(bob.token) });
  t.same(bobsList.json<{ items: { id: string }[] }>().items.map((b) => b.id), [bobs.json<{ id: string }>().id], "Bob's list holds only Bob's booking");
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/bookings/${booking.id}?${at}`, headers: bearer(admin) })).statusCode, 200, 'an admin reads anyone\'s');

  const first = await app.inject({ method: 'GET', url: `/api/v1/bookings/my?limit=1&${at}`, headers: bearer(alice.token) });
  const firstPage = first.json<{ items: { id: string }[]; next_cursor: string }>();
  t.same(firstPage.items.map((b) => b.id), [later.json<{ id: string }>().id], 'newest first');
  const second = await app.inject({ method: 'GET', url: `/api/v1/bookings/my?limit=1&cursor=${firstPage.next_cursor}`, headers: bearer(alice.token) });
  t.same(second.json<{ items: { id: string }[]; next_cursor: null }>(), { items: [second.json<{ items: { id: string }[] }>().items[0]], next_cursor: null });
  t.equal(second.json<{ items: { id: string }[] }>().items[0]?.id, booking.id);

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/bookings/not-an-id', headers: bearer(alice.token) })).json<{ code: string }>().code, 'INVALID_ID');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/bookings/${booking.id}` })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/bookings/my' })).statusCode, 401);
  assertNoSecretsInLogs(t, logs);
});
