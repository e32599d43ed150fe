/**
 * The sales report over HTTP (inject) on MariaDB, every role running, the clock moved by the
 * spec: a concert with bookings in every state — confirmed (one ticket admitted at the door),
 * pending, cancelled, failed, expired, paid late and owed back, paid late and paid back (across
 * two classes) — gives exact figures per class and in total; the CSV parses into the same
 * numbers; `boxoffice report:sales` prints them too; only admins read it.
 */
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { salesReportCommand } from '../../app/cli/reports.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, buyer, createConcert, customer, webhook } from '../../test/support/booking.ts';
import { paidBooking, qrOf } from '../../test/support/door.ts';
import { eventually } from '../../test/support/eventually.ts';
import { bearer, login, register } from '../../test/support/users.ts';
import type { SalesReport } from '../reports/sales-report.ts';

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((event) => event.type);

t.test('the sales report of a concert with bookings in every state', async (t) => {
  let clock = Date.now();
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', AUTO_REFUND: 'false', EXPIRY_CHECK_INTERVAL_MS: '100' }, { reactors: true, wire: { now: () => new Date(clock) } });
  made.services.projector.start();
  const { app } = made;
  const { store } = made.services.shared;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [
    { name: 'VIP', price: 1_000_000, total_seats_in_class: 10 },
    { name: 'Festival', price: 500_000, total_seats_in_class: 20 },
  ], { name: 'Laporan Penjualan' });
  const [vip, festival] = concert.ticket_classes.map((c) => c.id) as [string, string];

  // Confirmed: two VIP seats (one admitted at the door), three Festival seats.
  const confirmedVip = await paidBooking(made, concert.id, vip, 2);
  await paidBooking(made, concert.id, festival, 3);
  const scanned = await app.inject({ method: 'POST', url: '/api/v1/checkin', headers: bearer(admin), payload: { qr: qrOf(made, concert.id, confirmedVip.seats[0]?.id ?? ''), gate: 'north-1' } });
  t.equal(scanned.statusCode, 200, scanned.body);

  const placed = async (body: Record<string, unknown>) => {
    const user = await customer(app);
    const answer = await book(app, user.token, body);
    if (answer.statusCode !== 201) throw new Error(`booking answered ${answer.statusCode}: ${answer.body}`);
    return { user, id: answer.json<{ id: string }>().id };
  };
  const startPayment = async (booking: { user: { token: string }; id: string }) => {
    const started = await app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(booking.user.token), payload: { booking_id: booking.id, payment_method: 'e_wallet' } });
    if (started.statusCode !== 201) throw new Error(`payment answered ${started.statusCode}: ${started.body}`);
    return started.json<{ id: string; transaction_id: string; amount: number }>();
  };
  const secret = made.services.command.api.webhookSecret;

  // Cancelled by its owner; declined by the gateway: their seats are free again.
  const cancelled = await placed(byClass(concert.id, festival, 1));
  t.equal((await app.inject({ method: 'PUT', url: `/api/v1/bookings/${cancelled.id}/cancel`, headers: bearer(cancelled.user.token) })).statusCode, 200);
  const declined = await placed(byClass(concert.id, festival, 1));
  const declinedPayment = await startPayment(declined);
  t.equal((await webhook(app, secret, { transaction_id: declinedPayment.transaction_id, status: 'failed', amount: declinedPayment.amount })).statusCode, 200);

  // Left to expire; and two whose money arrives after their holds expired, owed back — one of
  // them across both classes, and paid back by an admin.
  const expired = await placed(byClass(concert.id, festival, 1));
  const lateVip = await placed(byClass(concert.id, vip, 1));
  const lateMixed = await placed({ concert_id: concert.id, tickets_by_class: [{ ticket_class_id: vip, quantity: 1 }, { ticket_class_id: festival, quantity: 2 }], buyer_info: buyer() });
  const lateVipPayment = await startPayment(lateVip);
  const lateMixedPayment = await startPayment(lateMixed);
  t.equal(lateMixedPayment.amount, 2_000_000);
  clock += 901_000; // past the 900 s hold
  await eventually(async () => {
    const ended = await Promise.all([expired, lateVip, lateMixed].map(async (booking) => (await types(store, `booking-${booking.id}`)).includes('BookingExpired')));
    return ended.every(Boolean) || undefined;
  }, 'the three holds expire', 20_000);
  for (const payment of [lateVipPayment, lateMixedPayment]) {
    t.equal((await webhook(app, secret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount })).statusCode, 200);
  }
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/admin/refunds/${lateMixedPayment.id}`, headers: bearer(admin) })).statusCode, 202);
  await eventually(async () => (await types(store, `payment-${lateMixedPayment.transaction_id}`)).includes('RefundPaid') || undefined, 'the refund is paid');
  t.strictSame(await types(store, `payment-${lateVipPayment.transaction_id}`), ['PaymentRequested', 'PaymentSucceeded', 'PaymentRefundDue'], 'the other stays owed');

  // Pending: placed after the clock moved, so its hold is still running.
  const pending = await placed(byClass(concert.id, vip, 1));
  const lastOf = async (booking: { id: string }) => (await types(store, `booking-${booking.id}`)).at(-1);
  t.strictSame(await Promise.all([pending, cancelled, declined, expired, lateVip, lateMixed].map(lastOf)),
    ['BookingPlaced', 'BookingCancelled', 'BookingPaymentFailed', 'BookingExpired', 'BookingRefundDue', 'BookingRefundDue'], 'a booking in every state');
  t.equal(await lastOf({ id: confirmedVip.bookingId }), 'BookingConfirmed');

  const head = await store.headPosition();
  const url = `/api/v1/admin/concerts/${concert.id}/report?min_position=${head}`;
  const answer = await app.inject({ method: 'GET', url, headers: bearer(admin) });
  t.equal(answer.statusCode, 200, answer.body);
  t.match(answer.headers['content-type'], /^application\/json/);
  const report = answer.json<SalesReport>();
  t.strictSame(report.concert, { id: concert.id, name: 'Laporan Penjualan' });
  for (const [name, position] of Object.entries(report.positions)) t.ok(position >= head, `${name} read at ${position}, at least ${head}`);
  t.equal(Number(answer.headers['x-projection-position']), Math.min(...Object.values(report.positions)));
  t.strictSame(report.ticket_classes, [
    // VIP: 2 sold (confirmed), 1 held (pending); 1,000,000 owed back (late), 1,000,000 of the mixed refund paid.
    { id: vip, name: 'VIP', price: 1_000_000, capacity: 10, sold: 2, held: 1, available: 7, revenue: 2_000_000, refunds_due: 1_000_000, refunds_paid: 1_000_000, admitted: 1 },
    // Festival: 3 sold; the cancelled, declined, expired and late seats are free again; 2 × 500,000 of the mixed refund paid.
    { id: festival, name: 'Festival', price: 500_000, capacity: 20, sold: 3, held: 0, available: 17, revenue: 1_500_000, refunds_due: 0, refunds_paid: 1_000_000, admitted: 0 },
  ]);
  t.strictSame(report.total, { capacity: 30, sold: 5, held: 1, available: 24, revenue: 3_500_000, refunds_due: 1_000_000, refunds_paid: 2_000_000, admitted: 1 });

  t.test('the CSV (by Accept or by format) parses into the same numbers', async (t) => {
    const byAccept = await app.inject({ method: 'GET', url, headers: { ...bearer(admin), accept: 'text/csv' } });
    const byFormat = await app.inject({ method: 'GET', url: `${url}&format=csv`, headers: bearer(admin) });
    for (const csv of [byAccept, byFormat]) {
      t.equal(csv.statusCode, 200);
      t.match(csv.headers['content-type'], /^text\/csv/);
      t.match(csv.headers['content-disposition'], `sales-${concert.id}.csv`);
    }
    t.equal(byAccept.body, byFormat.body);
    const rows = parse<Record<string, string>>(byAccept.body, { columns: true });
    t.strictSame(Object.keys(rows[0] ?? {}), ['ticket_class_id', 'ticket_class', 'price', 'capacity', 'sold', 'held', 'available', 'revenue', 'refunds_due', 'refunds_paid', 'admitted']);
    const numbers = (row: Record<string, string>) => Object.fromEntries(['capacity', 'sold', 'held', 'available', 'revenue', 'refunds_due', 'refunds_paid', 'admitted'].map((k) => [k, Number(row[k])]));
    t.strictSame(rows.slice(0, -1).map((row) => ({ id: row.ticket_class_id, name: row.ticket_class, price: Number(row.price), ...numbers(row) })), report.ticket_classes);
    t.strictSame(rows.at(-1), { ticket_class_id: '', ticket_class: 'TOTAL', price: '', ...Object.fromEntries(Object.entries(report.total).map(([k, v]) => [k, String(v)])) });
    t.equal(rows.length, 3, 'two classes and the total');
    const json = await app.inject({ method: 'GET', url: `${url}&format=json`, headers: { ...bearer(admin), accept: 'text/csv' } });
    t.strictSame(json.json(), report, 'format=json wins over Accept');
  });

  t.test('boxoffice report:sales prints the same numbers, as a table or as the CSV', async (t) => {
    const run = async (flags: Record<string, boolean>) => {
      let out = '';
      await salesReportCommand.run({ config: made.services.shared.config, positionals: [concert.id], flags, out: (text) => void (out += text), err: () => undefined, interactive: false });
      return out;
    };
    const csv = await app.inject({ method: 'GET', url: `${url}&format=csv`, headers: bearer(admin) });
    t.equal(await run({ csv: true }), csv.body, '--csv prints the route\'s CSV');
    const lines = (await run({})).trimEnd().split('\n');
    t.match(lines[0], `Laporan Penjualan (${concert.id})`);
    const cells = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.trim().split(/\s{2,}/).slice(1).map(Number);
    t.strictSame(cells('VIP'), [1_000_000, 10, 2, 1, 7, 2_000_000, 1_000_000, 1_000_000, 1]);
    t.strictSame(cells('Festival'), [500_000, 20, 3, 0, 17, 1_500_000, 0, 1_000_000, 0]);
    t.strictSame(cells('TOTAL'), [30, 5, 1, 24, 3_500_000, 1_000_000, 2_000_000, 1]);
    await t.rejects(salesReportCommand.run({ config: made.services.shared.config, positionals: ['5a5a5a5a-0000-4000-8000-000000000000'], flags: {}, out: () => undefined, err: () => undefined, interactive: false }), /no concert/);
    await t.rejects(salesReportCommand.run({ config: made.services.shared.config, positionals: ['not-a-concert'], flags: {}, out: () => undefined, err: () => undefined, interactive: false }), /must be a UUID/);
  });

  t.test('only admins; a malformed id 400, an unknown one 404, a position not reached 503', async (t) => {
    const fan = await customer(app);
    t.equal((await app.inject({ method: 'GET', url, headers: bearer(fan.token) })).statusCode, 403);
    const account = await register(app);
    t.equal((await app.inject({ method: 'PUT', url: `/api/v1/admin/users/${account.id}/role`, headers: bearer(admin), payload: { role: 'staff' } })).statusCode, 200);
    const staff = await login(app, account);
    const asStaff = await app.inject({ method: 'GET', url, headers: bearer(staff) });
    t.equal(asStaff.statusCode, 403);
    t.equal(asStaff.json<{ code: string }>().code, 'FORBIDDEN');
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 401);
    const malformed = await app.inject({ method: 'GET', url: '/api/v1/admin/concerts/not-a-concert/report', headers: bearer(admin) });
    t.equal(malformed.statusCode, 400);
    t.equal(malformed.json<{ code: string }>().code, 'VALIDATION_FAILED');
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/admin/concerts/5a5a5a5a-0000-4000-8000-000000000000/report', headers: bearer(admin) });
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.json<{ code: string }>().code, 'NOT_FOUND');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/report?format=xml`, headers: bearer(admin) })).statusCode, 400);
    const ahead = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/report?min_position=${head + 1_000_000}`, headers: bearer(admin) });
    t.equal(ahead.statusCode, 503);
    t.equal(ahead.json<{ code: string }>().code, 'PROJECTION_LAGGING');
  });
});
