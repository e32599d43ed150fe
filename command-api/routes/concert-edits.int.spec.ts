/**
 * An admin edits a concert over HTTP: sales windows, details, prices, classes and seats, each an
 * event on the concert's stream with the admin as its actor; the query API follows.
 */
import t, { type Test } from 'tap';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, bySeat, createConcert, customer } from '../../test/support/booking.ts';
import { seatId } from '../../domain/concert/index.ts';
import { bearer } from '../../test/support/users.ts';
import { bookingHistory, concertAsOf, concertDetailsOf, seatsOf } from '../../app/cli/audit.ts';

interface StreamPage { items: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[] }
interface ConcertAnswer {
  name: string; date: string; sales_open_at: string | null; sales_close_at: string | null; description: string | null; position: number;
  ticket_classes: { id: string; name: string; price: number; total_seats_in_class: number; available_seats_in_class: number }[];
  total_seats: number;
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

async function rig(t: Test) {
  const made: TestApp = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  made.services.command.start();
  const admin = await adminToken(made);
  const adminId = (await made.app.inject({ method: 'GET', url: '/api/v1/users/profile', headers: bearer(admin) })).json<{ id: string }>().id;
  const stream = async (concertId: string) => {
    const response = await made.app.inject({ method: 'GET', url: `/api/v1/admin/streams/concert-${concertId}`, headers: bearer(admin) });
    return response.json<StreamPage>().items;
  };
  const patch = (concertId: string, payload?: unknown) => made.app.inject({
    method: 'PATCH', url: `/api/v1/admin/concerts/${concertId}`, headers: bearer(admin), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  const addClass = (concertId: string, payload: Record<string, unknown>) => made.app.inject({
    method: 'POST', url: `/api/v1/admin/concerts/${concertId}/ticket-classes`, headers: bearer(admin), payload,
  });
  return { made, app: made.app, admin, adminId, stream, patch, addClass };
}

t.test('a concert whose sales open later refuses bookings until then, and takes them from the moment a PATCH opens it', async (t) => {
  const { app, admin, stream, patch } = await rig(t);
  const opensAt = inAnHour();
  const concert = await createConcert(app, admin, undefined, { sales_open_at: opensAt });
  const fan = await customer(app);
  const [festival] = concert.ticket_classes;
  const early = await book(app, fan.token, byClass(concert.id, festival!.id, 1));
  t.equal(early.statusCode, 409);
  t.match(early.json(), { code: 'SALES_NOT_OPEN', opens_at: opensAt });

  const opened = await patch(concert.id, { sales_open_at: null });
  t.equal(opened.statusCode, 200);
  t.match(opened.json<ConcertAnswer>(), { sales_open_at: null, sales_close_at: null, name: 'Senandung Senja' });
  t.ok(opened.json<ConcertAnswer>().position > concert.position, 'the answer carries the position of the edit');
  const booked = await book(app, fan.token, byClass(concert.id, festival!.id, 1));
  t.equal(booked.statusCode, 201, 'the same booking is taken once sales are open');

  const reopened = await patch(concert.id, { sales_open_at: inAnHour(), sales_close_at: new Date(Date.now() + 1_800_000).toISOString() });
  t.equal(reopened.statusCode, 400, 'a window that closes before it opens');
  t.equal(reopened.json<{ code: string }>().code, 'INVALID_SALES_WINDOW');
  const closed = await patch(concert.id, { sales_close_at: new Date(Date.now() - 1000).toISOString() });
  t.equal(closed.statusCode, 200, 'sales closed by hand');
  const other = await customer(app);
  const late = await book(app, other.token, byClass(concert.id, festival!.id, 1));
  t.equal(late.json<{ code: string }>().code, 'SALES_CLOSED');
  t.equal((await stream(concert.id)).filter((event) => event.type === 'ConcertDetailsChanged').length, 2);
});

t.test('sales close at the concert\'s date by default: a concert moved into the past takes no booking', async (t) => {
  const { app, admin, patch } = await rig(t);
  const concert = await createConcert(app, admin);
  const moved = await patch(concert.id, { date: new Date(Date.now() - 60_000).toISOString() });
  t.equal(moved.statusCode, 200);
  const fan = await customer(app);
  const late = await book(app, fan.token, byClass(concert.id, concert.ticket_classes[0]!.id, 1));
  t.equal(late.statusCode, 409);
  t.equal(late.json<{ code: string }>().code, 'SALES_CLOSED');
  const created = await app.inject({
    method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin),
    payload: { name: 'n', artist: 'a', venue: 'v', date: inAnHour(), sales_open_at: new Date(Date.now() + 7_200_000).toISOString(), ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] },
  });
  t.equal(created.statusCode, 400, 'sales that would open after the concert');
  t.equal(created.json<{ code: string }>().code, 'INVALID_SALES_WINDOW');
});

t.test('edits are events by the acting admin; an empty or no-op PATCH appends nothing', async (t) => {
  const { app, admin, adminId, stream, patch, addClass } = await rig(t);
  const concert = await createConcert(app, admin, [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }, { name: 'Festival', price: 250_000, total_seats_in_class: 3 }]);
  const [vip, festival] = concert.ticket_classes;
  const fan = await customer(app);
  const before = await book(app, fan.token, bySeat(concert.id, [seatId(vip!.id, 1)]));
  t.equal(before.statusCode, 201);

  const edited = await patch(concert.id, {
    name: 'Senandung Senja (extra night)', description: 'now with strings', image_url: null, max_tickets_per_ktp: 4,
    ticket_classes: [{ id: vip!.id, price: 1_200_000 }, { id: festival!.id, price: 250_000 }],
  });
  t.equal(edited.statusCode, 200, edited.body);
  t.match(edited.json<ConcertAnswer>(), { name: 'Senandung Senja (extra night)', description: 'now with strings' });
  t.same(edited.json<ConcertAnswer>().ticket_classes.map((c) => [c.name, c.price]), [['VIP', 1_200_000], ['Festival', 250_000]]);
  const count = (await stream(concert.id)).length;
  for (const noop of [undefined, {}, { name: 'Senandung Senja (extra night)', image_url: null }, { ticket_classes: [{ id: vip!.id, price: 1_200_000 }] }]) {
    const again = await patch(concert.id, noop);
    t.equal(again.statusCode, 200, `no-op ${JSON.stringify(noop)}`);
  }
  const bodyless = await app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${concert.id}`, headers: { ...bearer(admin), 'content-type': 'application/json' } });
  t.equal(bodyless.statusCode, 200, 'a bodyless PATCH sent as JSON changes nothing');
  t.equal((await stream(concert.id)).length, count, 'nothing was appended');

  // Later bookings pay the new price; the one made before keeps its own.
  const other = await customer(app);
  const after = await book(app, other.token, bySeat(concert.id, [seatId(vip!.id, 2)]));
  t.equal(after.statusCode, 201);
  t.equal(after.json<{ total_price: number }>().total_price, 1_200_000);
  t.equal(before.json<{ total_price: number }>().total_price, 1_000_000);

  // A new class, then more seats in it (the total, not the number added), then a retry that adds nothing.
  const balcony = await addClass(concert.id, { name: 'Balcony', price: 100_000, total_seats_in_class: 2 });
  t.equal(balcony.statusCode, 201, balcony.body);
  t.match(balcony.json(), { concert_id: concert.id, name: 'Balcony', price: 100_000, total_seats_in_class: 2 });
  const grown = await addClass(concert.id, { name: 'VIP', price: 1_200_000, total_seats_in_class: 5 });
  t.equal(grown.statusCode, 201);
  t.match(grown.json(), { id: vip!.id, total_seats_in_class: 5 });
  t.equal((await addClass(concert.id, { name: 'vip', price: 1_200_000, total_seats_in_class: 5 })).statusCode, 201, 'the same total again');
  const fewer = await addClass(concert.id, { name: 'VIP', price: 1_200_000, total_seats_in_class: 4 });
  t.equal(fewer.statusCode, 400);
  t.equal(fewer.json<{ code: string }>().code, 'INVALID_TICKET_CLASS');
  const otherPrice = await addClass(concert.id, { name: 'VIP', price: 1, total_seats_in_class: 6 });
  t.equal(otherPrice.json<{ code: string }>().code, 'DUPLICATE_TICKET_CLASS');
  const tooMany = await addClass(concert.id, { name: 'Field', price: 1, total_seats_in_class: 200_000 });
  t.equal(tooMany.json<{ code: string }>().code, 'TOO_MANY_SEATS');
  const third = await customer(app);
  const onAdded = await book(app, third.token, bySeat(concert.id, [seatId(vip!.id, 5), seatId(balcony.json<{ id: string }>().id, 1)]));
  t.equal(onAdded.statusCode, 201, 'the added seats are booked like any other');

  // Bodyless cancel, sent as JSON or with no content type at all.
  const cancelled = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: { ...bearer(admin), 'content-type': 'application/json' } });
  t.equal(cancelled.statusCode, 200, cancelled.body);
  const second = await createConcert(app, admin);
  const plain = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${second.id}/cancel`, headers: bearer(admin) });
  t.equal(plain.statusCode, 200, plain.body);
  t.equal((await patch(concert.id, { name: 'too late' })).json<{ code: string }>().code, 'CONCERT_CANCELLED');
  t.equal((await addClass(concert.id, { name: 'Late', price: 1, total_seats_in_class: 1 })).json<{ code: string }>().code, 'CONCERT_CANCELLED');

  const events = await stream(concert.id);
  const adminEvents = events.filter((event) => ['ConcertScheduled', 'ConcertPublished', 'ConcertDetailsChanged', 'TicketClassPriceChanged', 'TicketClassAdded', 'SeatsAdded', 'ConcertCancelled'].includes(event.type));
  t.same(adminEvents.map((event) => event.type), [
    'ConcertScheduled', 'ConcertPublished', 'ConcertDetailsChanged', 'TicketClassPriceChanged', 'TicketClassAdded', 'SeatsAdded', 'ConcertCancelled',
  ]);
  t.ok(adminEvents.every((event) => event.metadata.actor_id === adminId), 'every admin action names the admin');
  t.match(adminEvents[2]?.data, { name: 'Senandung Senja (extra night)', description: 'now with strings', max_tickets_per_ktp: 4 });
  t.notOk('image_url' in (adminEvents[2]?.data ?? {}), 'an unchanged field is not recorded');
  t.match(adminEvents[5]?.data, { ticket_class_id: vip!.id, added: 3, seat_count: 5 });
});

t.test('a required body is still required, and bad edits are 4xx', async (t) => {
  const { app, admin, patch, addClass } = await rig(t);
  const concert = await createConcert(app, admin);
  const noBody = await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/ticket-classes`, headers: { ...bearer(admin), 'content-type': 'application/json' } });
  t.equal(noBody.statusCode, 400);
  t.equal(noBody.json<{ code: string }>().code, 'INVALID_JSON');
  const noBodyAtAll = await app.inject({ method: 'POST', url: '/api/v1/admin/concerts', headers: bearer(admin) });
  t.equal(noBodyAtAll.statusCode, 400);
  for (const bad of [{ name: '' }, { date: 'tomorrow' }, { unknown: 1 }, { max_tickets_per_ktp: 0 }, { ticket_classes: [{ id: 'x', price: 1 }] }, { name: null }]) {
    const response = await patch(concert.id, bad);
    t.equal(response.statusCode, 400, JSON.stringify(bad));
  }
  t.equal((await patch(concert.id, { ticket_classes: [{ id: '00000000-0000-4000-8000-000000000000', price: 1 }] })).json<{ code: string }>().code, 'UNKNOWN_TICKET_CLASS');
  t.equal((await patch('00000000-0000-4000-8000-000000000000', { name: 'x' })).statusCode, 404);
  t.equal((await patch('not-a-uuid', { name: 'x' })).statusCode, 400);
  t.equal((await addClass('00000000-0000-4000-8000-000000000000', { name: 'x', price: 1, total_seats_in_class: 1 })).statusCode, 404);
  const fan = await customer(app);
  const forbidden = await app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${concert.id}`, headers: bearer(fan.token), payload: { name: 'mine' } });
  t.equal(forbidden.statusCode, 403);
});

t.test('the query API follows: the sales window, the edited details, new prices and classes', async (t) => {
  const { made, app, admin, patch, addClass } = await rig(t);
  made.services.projector.start();
  const opensAt = inAnHour();
  const concert = await createConcert(app, admin, undefined, { sales_open_at: opensAt });
  const read = async (position: number) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}?min_position=${position}` });
    t.equal(response.statusCode, 200);
    return response.json<ConcertAnswer>();
  };
  t.match(await read(concert.position), { sales_open_at: opensAt, sales_close_at: null });
  const closesAt = new Date(Date.now() + 7_200_000).toISOString();
  const edited = await patch(concert.id, { name: 'Renamed', sales_close_at: closesAt, ticket_classes: [{ id: concert.ticket_classes[0]!.id, price: 5 }] });
  const added = await addClass(concert.id, { name: 'Balcony', price: 7, total_seats_in_class: 3 });
  t.equal(added.statusCode, 201);
  const shown = await read(added.json<{ position: number }>().position);
  t.match(shown, { name: 'Renamed', sales_open_at: opensAt, sales_close_at: closesAt, total_seats: 103 });
  t.same(shown.ticket_classes.map((c) => [c.name, c.price, c.total_seats_in_class, c.available_seats_in_class]), [['Festival', 5, 100, 100], ['Balcony', 7, 3, 3]]);
  t.ok(edited.json<ConcertAnswer>().position < added.json<{ position: number }>().position);
});

t.test('concert:as-of shows the concert as it was, and booking:history who changed it', async (t) => {
  const { made, app, admin, adminId, patch, addClass } = await rig(t);
  const store = made.services.shared.store;
  const concert = await createConcert(app, admin, [{ name: 'VIP', price: 1_000_000, total_seats_in_class: 2 }]);
  const vip = concert.ticket_classes[0]!.id;
  const fan = await customer(app);
  const booked = await book(app, fan.token, bySeat(concert.id, [seatId(vip, 2)]));
  t.equal(booked.statusCode, 201);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 30));
  await pause();
  const before = new Date();
  await pause();
  t.equal((await addClass(concert.id, { name: 'VIP', price: 1_000_000, total_seats_in_class: 4 })).statusCode, 201);
  t.equal((await patch(concert.id, { venue: 'GBK', ticket_classes: [{ id: vip, price: 1_100_000 }] })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel`, headers: bearer(admin) })).statusCode, 200);

  const then = await concertAsOf(store, concert.id, before);
  t.match(concertDetailsOf(then.state), { venue: 'Istora Senayan', ticket_classes: [{ id: vip, price: 1_000_000, total_seats_in_class: 2 }] });
  t.same(seatsOf(then.state).map((seat) => [seat.seat_number, seat.status]), [[1, 'available'], [2, 'reserved']], 'the added seats are not there yet');
  const now = await concertAsOf(store, concert.id, new Date());
  t.match(concertDetailsOf(now.state), { venue: 'GBK', ticket_classes: [{ price: 1_100_000, total_seats_in_class: 4 }] });
  t.same(seatsOf(now.state).map((seat) => [seat.seat_number, seat.status]), [[1, 'available'], [2, 'available'], [3, 'available'], [4, 'available']], 'released at the cancel');

  const history = await bookingHistory(store, booked.json<{ id: string }>().id);
  const told = history.map((event) => [event.type, event.metadata.actor_id]);
  t.match(told, [['SeatsHeld', fan.id]]);
  const byAdmin = told.filter(([type]) => ['ConcertDetailsChanged', 'ConcertCancelled'].includes(type as string));
  t.same(byAdmin, [['ConcertDetailsChanged', adminId], ['ConcertCancelled', adminId]], 'the changes to the concert, by the admin who made them');
  t.notOk(told.some(([type]) => type === 'SeatsAdded' || type === 'TicketClassPriceChanged'), 'not what leaves the booking as it is');
});
