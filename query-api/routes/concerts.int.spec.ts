import { randomUUID } from 'node:crypto';
import t from 'tap';
import { concertsProjection } from '../../projectors/concerts/concerts.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, byClass, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { onSale } from '../../test/support/concert-fixtures.ts';
import { projectionFixture } from '../../test/support/projection-spec.ts';
import { bearer } from '../../test/support/users.ts';
import { ConcertReads } from '../concerts/concert-reads.ts';

interface Page<T> { items: T[]; next_cursor: string | null }
interface ConcertItem { id: string; name: string; artist: string; date: string; status: string; total_seats: number; available_seats: number; ticket_classes: { id: string; name: string; available_seats_in_class: number }[] }
interface SeatItem { id: string; seat_number: number; status: string; ticket_class_id: string }

t.test('browsing concerts: filters, keyset pages, detail, seat map, ETags', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const make = (name: string, artist: string, date: string, seats = 10): Promise<Concert> =>
    createConcert(app, admin, [{ name: 'VIP', price: 2_000_000, total_seats_in_class: 2 }, { name: 'Festival', price: 500_000, total_seats_in_class: seats }], { name, artist, date });
  const march = await make('Java Jazz 100%', 'Various', '2097-03-01T12:00:00.000Z');
  const january = await make('Senandung Senja', 'Nadin Amizah', '2097-01-10T12:00:00.000Z');
  const february = await make('Hindia Live', 'Hindia', '2097-02-20T12:00:00.000Z');
  const cancelled = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${february.id}/cancel`, headers: bearer(admin), payload: { reason: 'venue closed' } });
  t.equal(cancelled.statusCode, 200);
  const at = `min_position=${cancelled.json<{ position: number }>().position}`;
  const list = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts?${at}&${query}` });
    t.equal(response.statusCode, 200, query);
    return response.json<Page<ConcertItem>>();
  };

  t.same((await list('')).items.map((c) => c.id), [january.id, february.id, march.id], 'upcoming first');
  const first = await list('limit=2');
  t.same(first.items.map((c) => c.id), [january.id, february.id]);
  t.type(first.next_cursor, 'string');
  const second = await list(`limit=2&cursor=${first.next_cursor}`);
  t.same(second.items.map((c) => c.id), [march.id]);
  t.equal(second.next_cursor, null, 'the last page says so');
  t.same((await list('q=hindia')).items.map((c) => c.id), [february.id], 'q searches the name…');
  t.same((await list('q=Nadin')).items.map((c) => c.id), [january.id], '…and the artist');
  t.same((await list('q=100%25')).items.map((c) => c.id), [march.id], '% is a letter, not a wildcard');
  t.same((await list('q=%25')).items.map((c) => c.id), [march.id]);
  t.same((await list('status=cancelled')).items.map((c) => c.id), [february.id]);
  t.same((await list('status=active&date_from=2097-02-01T00:00:00Z')).items.map((c) => c.id), [march.id]);
  t.same((await list('date_to=2097-02-01T00:00:00Z')).items.map((c) => c.id), [january.id]);
  for (const bad of ['cursor=bm90LWEtY3Vyc29y', 'cursor=***', 'limit=101', 'limit=0', 'status=sold', 'date_from=yesterday', 'sort=name']) {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts?${bad}` });
    t.equal(response.statusCode, 400, bad);
    t.match(response.json<{ code: string }>().code, /^(VALIDATION_FAILED|INVALID_CURSOR)$/);
  }

  const fan = await customer(app);
  const detail = await app.inject({ method: 'GET', url: `/api/v1/concerts/${january.id}?${at}` });
  t.equal(detail.statusCode, 200);
  t.match(detail.json<ConcertItem>(), { name: 'Senandung Senja', artist: 'Nadin Amizah', status: 'active', total_seats: 12, available_seats: 12 });
  t.same(detail.json<ConcertItem>().ticket_classes.map((c) => [c.name, c.available_seats_in_class]), [['VIP', 2], ['Festival', 10]]);
  const etag = detail.headers.etag as string;
  t.match(etag, /^W\/"\d+"$/);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/concerts/${january.id}`, headers: { 'if-none-match': etag } })).statusCode, 304, 'unchanged: 304');

  const booked = await app.inject({ method: 'POST', url: '/api/v1/bookings', headers: bearer(fan.token), payload: byClass(january.id, january.ticket_classes[1]?.id as string, 3) });
  t.equal(booked.statusCode, 201);
  const after = `min_position=${booked.json<{ position: number }>().position}`;
  const changed = await app.inject({ method: 'GET', url: `/api/v1/concerts/${january.id}?${after}`, headers: { 'if-none-match': etag } });
  t.equal(changed.statusCode, 200, 'changed: a fresh copy');
  t.not(changed.headers.etag, etag);
  t.equal(changed.json<ConcertItem>().available_seats, 9);

  const seats = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts/${january.id}/seats?${after}&${query}` });
    t.equal(response.statusCode, 200, query);
    return response.json<Page<SeatItem>>();
  };
  const held = await seats('status=reserved');
  t.equal(held.items.length, 3);
  t.ok(held.items.every((seat) => Object.keys(seat).sort().join() === 'id,seat_number,status,ticket_class_id'), 'never who holds a seat');
  const festival = january.ticket_classes[1]?.id as string;
  const pageOne = await seats(`ticket_class_id=${festival}&limit=4`);
  const pageTwo = await seats(`ticket_class_id=${festival}&limit=4&cursor=${pageOne.next_cursor}`);
  const pageThree = await seats(`ticket_class_id=${festival}&limit=4&cursor=${pageTwo.next_cursor}`);
  t.same([...pageOne.items, ...pageTwo.items, ...pageThree.items].map((seat) => seat.seat_number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every seat once, in order');
  t.equal(pageThree.next_cursor, null);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/concerts/${randomUUID()}/seats` })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/concerts/nope' })).statusCode, 400);
});

t.test('the search treats % and _ as letters on SQLite too', async (t) => {
  const fixture = await projectionFixture(t, concertsProjection(), 'sqlite');
  await fixture.given(onSale({ name: 'Diskon 50% Malam_Ini' }));
  await fixture.given(onSale({
    concert_id: 'a7c1f3de-0000-4000-8000-000000000002',
    name: 'Diskon 500 Malam Ini',
    ticket_classes: [{ ticket_class_id: 'c1a55000-0000-4000-8000-000000000001', name: 'Festival', price: 400_000, seat_count: 5 }],
  }));
  const reads = new ConcertReads();
  t.same((await reads.list(fixture.db, { q: '50%', limit: 10 })).items.map((c) => c.name), ['Diskon 50% Malam_Ini']);
  t.same((await reads.list(fixture.db, { q: 'm_i', limit: 10 })).items.map((c) => c.name), ['Diskon 50% Malam_Ini'], '_ matches an underscore only, not the space');
  t.same((await reads.list(fixture.db, { q: 'Malam', limit: 10 })).items.length, 2);
});
