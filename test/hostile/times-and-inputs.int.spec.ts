/**
 * Times that are no real instant, and image URLs that are no web address (issue 18): a leap
 * second, Feb 30, hour 24, an offset no zone has, a year from another age or a form Date.parse
 * reads but RFC 3339 does not are refused with 400 VALIDATION_FAILED wherever a time comes in
 * (a concert's date, the list's date filters); a concert time recorded before the check existed
 * (23:59:60) still projects, also in a rebuild; `image_url` takes http(s) addresses only.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { concertDecider } from '../../domain/concert/index.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { adminToken } from '../support/booking.ts';
import { scheduleConcert } from '../support/concert-fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { bearer } from '../support/users.ts';

const concertBody = (extra: Record<string, unknown>) => ({
  name: 'Malam Tahun Baru', artist: 'Nadin Amizah', date: '2027-12-31T20:00:00Z', venue: 'GBK',
  ticket_classes: [{ name: 'Festival', price: 500_000, total_seats_in_class: 5 }], ...extra,
});

interface ProjectionView { name: string; status: string; position: number; head_position: number }

/** Every projection live and caught up with the store's head. */
async function everyProjectionLive(made: TestApp, admin: string): Promise<ProjectionView[]> {
  const head = await made.services.shared.store.headPosition();
  return eventually(async () => {
    const views = (await made.app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) })).json<ProjectionView[]>();
    if (views.some((view) => view.status === 'failed')) throw new Error(`a projection failed: ${JSON.stringify(views)}`);
    return views.every((view) => view.status === 'live' && view.position === head && view.head_position === head) ? views : undefined;
  }, 'every projection live at the head');
}

/** Times no instant has, and forms RFC 3339 does not allow, each with why. */
const NOT_INSTANTS: Record<string, string> = {
  'a leap second': '2027-12-31T23:59:60Z',
  'a leap second at an offset': '2028-01-01T06:59:60+07:00',
  'February 30': '2027-02-30T20:00:00Z',
  'February 29 of a common year': '2027-02-29T20:00:00Z',
  'hour 24': '2027-06-01T24:00:00Z',
  'minute 60': '2027-06-01T20:60:00Z',
  'offset +24:00': '2027-06-01T20:00:00+24:00',
  'offset +15:00 (no zone has it)': '2027-06-01T20:00:00+15:00',
  'offset minutes 60': '2027-06-01T20:00:00+07:60',
  'year 0001': '0001-01-01T00:00:00Z',
  'year 1969': '1969-12-31T23:59:59Z',
  'a five-digit year': '+12027-06-01T20:00:00Z',
  'no zone': '2027-06-01T20:00:00',
  'a date alone': '2027-06-01',
  'no seconds': '2027-06-01T20:00Z',
  'a space for the T': '2027-06-01 20:00:00Z',
  'lower-case t and z': '2027-06-01t20:00:00z',
  'an RFC 9557 zone suffix': '2027-06-01T20:00:00+07:00[Asia/Jakarta]',
  'words': 'Dec 31 2027 20:00:00 GMT',
  'a fraction of ten digits': '2027-06-01T20:00:00.1234567890Z',
  'a trailing newline': '2027-06-01T20:00:00Z\n',
};

t.test('a concert date that is no real instant is refused with VALIDATION_FAILED, appends nothing, and every projection stays live', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  const head = await services.shared.store.headPosition();
  for (const [what, date] of Object.entries(NOT_INSTANTS)) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin), payload: concertBody({ date }) });
    t.equal(response.statusCode, 400, `${what} (${JSON.stringify(date)}): 400`);
    t.equal(response.json<{ code?: string }>().code, 'VALIDATION_FAILED', `${what}: VALIDATION_FAILED`);
  }
  t.equal(await services.shared.store.headPosition(), head, 'nothing appended');

  const views = await everyProjectionLive(made, admin);
  t.ok(views.length > 0, 'the projections are listed');
});

t.test('an accepted time at an offset is stored as one canonical UTC instant, and reads back as such', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  for (const [sent, stored] of [
    ['2027-06-01T20:00:00+07:00', '2027-06-01T13:00:00.000Z'],
    ['2027-12-31T23:59:59.999999Z', '2027-12-31T23:59:59.999Z'],
    ['2027-06-01T20:00:00-00:00', '2027-06-01T20:00:00.000Z'],
    ['2027-06-01T00:30:00+14:00', '2027-05-31T10:30:00.000Z'],
    ['2028-02-29T20:00:00Z', '2028-02-29T20:00:00.000Z'],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin), payload: concertBody({ date: sent }) });
    t.equal(response.statusCode, 201, `${sent}: 201`);
    const { id, position } = response.json<{ id: string; position: number }>();
    const [scheduled] = await services.shared.store.readStream(`concert-${id}`, { maxCount: 1 });
    t.match(scheduled?.data, { date: stored }, `${sent}: the event holds ${stored}`);
    const read = await app.inject({ method: 'GET', url: `/api/v1/concerts/${id}?min_position=${position}` });
    t.equal(read.json<{ date: string }>().date, stored, `${sent}: reads back as ${stored}`);
  }
  await everyProjectionLive(made, admin);
});

t.test('the list filters refuse a time that is no real instant with VALIDATION_FAILED, never a 500', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app } = made;
  for (const [what, date] of Object.entries(NOT_INSTANTS)) {
    for (const filter of ['date_from', 'date_to']) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/concerts?${filter}=${encodeURIComponent(date)}` });
      t.equal(response.statusCode, 400, `${filter}: ${what} (${JSON.stringify(date)}): 400`);
      t.equal(response.json<{ code?: string }>().code, 'VALIDATION_FAILED', `${filter}: ${what}: VALIDATION_FAILED`);
    }
  }
  const fine = await app.inject({ method: 'GET', url: `/api/v1/concerts?date_from=${encodeURIComponent('2027-06-01T20:00:00+07:00')}&date_to=2027-12-31T23:59:59.999Z` });
  t.equal(fine.statusCode, 200, 'real instants filter');
});

t.test('a concert recorded with 23:59:60 before times were checked projects as the next second, live and rebuilt', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const admin = await adminToken(made);
  const concertId = randomUUID();
  // As the command path of an older release wrote it: the date as the admin sent it.
  const events = concertDecider.decide(scheduleConcert({ concert_id: concertId }), concertDecider.initialState());
  await services.shared.store.append(`concert-${concertId}`, events.map((event) => {
    const id = randomUUID();
    const data = event.type === 'ConcertScheduled' ? { ...event.data, date: '2027-12-31T23:59:60Z' } : event.data;
    return { id, type: event.type, data, metadata: { event_id: id, correlation_id: 'older', causation_id: 'older', actor_id: null, schema_version: 1, occurred_at: '2026-11-30T10:00:00.000Z' } };
  }), 'no_stream');
  services.projector.start();
  await everyProjectionLive(made, admin);
  const read = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concertId}` });
  t.equal(read.statusCode, 200, 'the concert reads');
  t.equal(read.json<{ date: string }>().date, '2028-01-01T00:00:00.000Z', 'its leap second reads as the next second');

  const rebuilt = await app.inject({ method: 'POST', url: '/api/v1/admin/projections/concerts/rebuild', headers: bearer(admin) });
  t.equal(rebuilt.statusCode, 202, 'a rebuild starts');
  await eventually(async () => {
    const views = (await app.inject({ method: 'GET', url: '/api/v1/admin/projections', headers: bearer(admin) })).json<(ProjectionView & { rebuilt_at: string | null })[]>();
    const concerts = views.find((view) => view.name === 'concerts');
    if (concerts?.status === 'failed') throw new Error('the rebuild failed');
    return concerts?.status === 'live' && concerts.rebuilt_at !== null;
  }, 'the concerts projection rebuilt');
  await everyProjectionLive(made, admin);
  const again = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concertId}` });
  t.equal(again.json<{ date: string }>().date, '2028-01-01T00:00:00.000Z', 'the same after the rebuild');

  const listed = await app.inject({ method: 'GET', url: `/api/v1/concerts?date_from=2028-01-01T00:00:00Z&date_to=2028-01-01T00:00:00Z` });
  t.same(listed.json<{ items: { id: string }[] }>().items.map((item) => item.id), [concertId], 'the date filters find it at the next second');
});

t.test('image_url takes only http and https addresses', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const admin = await adminToken(made);
  const head = await services.shared.store.headPosition();
  for (const url of [
    'javascript:alert(1)', 'JavaScript:alert(document.cookie)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>', 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=', 'vbscript:msgbox(1)',
    'file:///etc/passwd', 'ftp://example.test/a.jpg', '//evil.example/a.jpg', '/images/a.jpg', 'https://', 'http:///a.jpg',
    'https://exa mple.test/a.jpg', 'https://example.test/a.jpg\n', 'mailto:ops@example.test',
  ]) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin), payload: concertBody({ image_url: url }) });
    t.equal(response.statusCode, 400, `${JSON.stringify(url)}: 400`);
    t.equal(response.json<{ code?: string }>().code, 'VALIDATION_FAILED', `${JSON.stringify(url)}: VALIDATION_FAILED`);
  }
  t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
  for (const url of ['https://cdn.example.test/posters/senja.jpg?w=640#top', 'http://example.test/a.jpg', 'HTTPS://EXAMPLE.TEST/A.JPG', 'https://[2001:db8::1]:8443/a.png']) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin), payload: concertBody({ image_url: url }) });
    t.equal(response.statusCode, 201, `${url}: 201`);
  }
});
