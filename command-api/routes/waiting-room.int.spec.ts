/**
 * The waiting room's command side over HTTP: the flag on create and PATCH (and its read model),
 * opening the queue, joining it, and the Booking-Pass that POST /bookings asks for while it is on.
 * Passes are issued here as the keeper would: DrawLottery and AdmitVisitors submitted to the
 * queue's writer, the pass signed with the role's BookingPasses.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { bookingEvents } from '../../domain/booking/index.ts';
import { concertEvents, seatId } from '../../domain/concert/index.ts';
import { placeView, queueEvents, queueStream } from '../../domain/queue/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { BookingPasses } from '../../lib/security/booking-passes.ts';
import { roleApp, testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, bySeat, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { bearer } from '../../test/support/users.ts';

const SEED = 'ab'.repeat(32);
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const spec = randomUUID();
const system = { correlationId: spec, causationId: spec, actorId: null, occurredAt: new Date().toISOString() };

interface Recorded { type: string; data: Record<string, unknown> }

async function rig(t: Test, env: Record<string, string> = {}) {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', ...env });
  made.services.command.start();
  const { app } = made;
  const { queues, passes } = made.services.command;
  const admin = await adminToken(made);
  const events = async (stream: string): Promise<Recorded[]> => (await made.services.shared.store.readStream(stream)).map((recorded) => {
    const event = stream.startsWith('queue-') ? decode(recorded, queueEvents)
      : stream.startsWith('booking-') ? decode(recorded, bookingEvents) : decode(recorded, concertEvents);
    const data: Record<string, unknown> = { ...event.data };
    return { type: event.type, data };
  });
  const patch = (concertId: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${concertId}`, headers: bearer(admin), payload });
  const join = (token: string, concertId: string) => app.inject({ method: 'POST', url: `/api/v1/concerts/${concertId}/queue`, headers: bearer(token) });
  /** Draws the lottery (at or after the opening) and admits the next `count` visitors, as the keeper would. */
  const admit = async (concertId: string, count: number, options: { at?: Date; ttlSeconds?: number } = {}) => {
    const now = (options.at ?? new Date()).toISOString();
    await queues.submit(concertId, { type: 'DrawLottery', seed: SEED, now }, system);
    const passIds = Array.from({ length: count }, () => randomUUID());
    await queues.submit(concertId, { type: 'AdmitVisitors', pass_ids: passIds, pass_ttl_seconds: options.ttlSeconds ?? 300, max_outstanding: Number.MAX_SAFE_INTEGER, now }, system);
  };
  /** The signed pass the queue admitted this place with. */
  const passOf = async (concertId: string, token: string) => {
    const view = await queues.read(concertId, (state) => placeView(state, token, new Date(0).toISOString()));
    if (view?.pass == null) throw new Error('the place has no pass');
    return passes.sign({ passId: view.pass.pass_id, userId: view.user_id, concertId, expiresAtMs: Date.parse(view.pass.expires_at) });
  };
  /** A customer with a place and a pass on the concert (sales open now). */
  const admitted = async (concert: Concert) => {
    const fan = await customer(app);
    const joined = await join(fan.token, concert.id);
    if (joined.statusCode !== 201) throw new Error(`join answered ${joined.statusCode}: ${joined.body}`);
    const token = joined.json<{ token: string }>().token;
    await admit(concert.id, 1);
    return { ...fan, place: token, pass: await passOf(concert.id, token) };
  };
  return { made, app, admin, queues, passes, events, patch, join, admit, passOf, admitted };
}

const withPass = (pass: string, key?: string) => ({ 'booking-pass': pass, ...(key === undefined ? {} : { 'idempotency-key': key }) });

t.test('the flag: on at create (the queue opens at the sales opening), off and on by PATCH, a repeat appends nothing; the read model shows it', async (t) => {
  const { made, app, admin, events, patch } = await rig(t);
  made.services.projector.start();
  const opensAt = inAnHour();
  const concert = await createConcert(app, admin, undefined, { waiting_room: true, sales_open_at: opensAt });
  t.match((await events(`concert-${concert.id}`))[0], { type: 'ConcertScheduled', data: { waiting_room: true } });
  t.match(await events(queueStream(concert.id)), [{ type: 'WaitingRoomOpened', data: { concert_id: concert.id, opens_at: opensAt } }]);

  const read = async (position: number) => (await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}?min_position=${position}` })).json<{ waiting_room: boolean }>();
  t.equal((await read(concert.position)).waiting_room, true, 'GET /concerts/:id shows the flag');

  const off = await patch(concert.id, { waiting_room: false });
  t.equal(off.statusCode, 200);
  t.equal(off.json<{ waiting_room: boolean }>().waiting_room, false);
  t.equal((await read(off.json<{ position: number }>().position)).waiting_room, false, 'the read model follows the switch');
  const on = await patch(concert.id, { waiting_room: true });
  t.equal(on.json<{ waiting_room: boolean }>().waiting_room, true);
  const again = await patch(concert.id, { waiting_room: true });
  t.equal(again.statusCode, 200);
  const changes = (await events(`concert-${concert.id}`)).filter((event) => event.type === 'ConcertDetailsChanged');
  t.same(changes.map((event) => event.data.waiting_room), [false, true], 'the repeated PATCH appended nothing');
  t.equal((await events(queueStream(concert.id))).length, 1, 'switching an opened room on again opens nothing');

  const later = new Date(Date.now() + 7_200_000).toISOString();
  const moved = await patch(concert.id, { sales_open_at: later });
  t.equal(moved.statusCode, 200);
  t.match((await events(queueStream(concert.id))).at(-1), { type: 'WaitingRoomOpened', data: { opens_at: later } }, 'the opening follows the sales window');

  const plain = await createConcert(app, admin);
  t.equal((await events(queueStream(plain.id))).length, 0, 'no room, no queue');
  const list = await app.inject({ method: 'GET', url: `/api/v1/concerts?limit=100&min_position=${plain.position}` });
  const items = list.json<{ items: { id: string; waiting_room: boolean }[] }>().items;
  t.equal(items.find((item) => item.id === concert.id)?.waiting_room, true, 'the list shows it too');
  t.equal(items.find((item) => item.id === plain.id)?.waiting_room, false);
  const switchedOn = await patch(plain.id, { waiting_room: true });
  t.equal(switchedOn.statusCode, 200);
  t.match(await events(queueStream(plain.id)), [{ type: 'WaitingRoomOpened' }], 'switched on by PATCH: the queue opens (now: sales are open)');
});

t.test('joining: 201 with a token, the same account again 200 with the same token; lottery before the draw, arrival after it', async (t) => {
  const { app, admin, events, join, queues } = await rig(t);
  const opensAt = inAnHour();
  const concert = await createConcert(app, admin, undefined, { waiting_room: true, sales_open_at: opensAt });
  const early = await customer(app);
  const first = await join(early.token, concert.id);
  t.equal(first.statusCode, 201);
  const place = first.json<{ token: string; status: string; position: number | null }>();
  t.match(place, { status: 'waiting', position: null });
  const second = await join(early.token, concert.id);
  t.equal(second.statusCode, 200);
  t.same(second.json(), place, 'the same place, not a second one');
  t.match((await events(queueStream(concert.id))).filter((event) => event.type === 'QueueJoined'),
    [{ data: { place_id: place.token, user_id: early.id, entry: 'lottery' } }]);

  await queues.submit(concert.id, { type: 'DrawLottery', seed: SEED, now: new Date(Date.parse(opensAt) + 1000).toISOString() }, system);
  const late = await customer(app);
  const arrived = await join(late.token, concert.id);
  t.equal(arrived.statusCode, 201);
  t.match(arrived.json(), { status: 'waiting', position: 2 }, 'behind the one lottery entrant');
  t.match((await events(queueStream(concert.id))).at(-1), { type: 'QueueJoined', data: { user_id: late.id, entry: 'arrival' } });
  t.match((await join(early.token, concert.id)).json(), { token: place.token, status: 'waiting', position: 1 }, 'ordered by the draw');
  t.equal(arrived.headers['retry-after'], '1', 'the first poll of the board, a second after joining');
  // A browser (signed in by cookie) is told its queue place: that is no position of the event
  // store, so it must not become the read-your-writes cookie (it would undercut its last write's).
  const byCookie = await app.inject({
    method: 'POST', url: `/api/v1/concerts/${concert.id}/queue`, headers: { cookie: `token=${early.token}`, origin: 'http://localhost:5173' },
  });
  t.match(byCookie.json(), { token: place.token, position: 1 });
  t.notOk(byCookie.cookies.some((cookie) => cookie.name === 'min_position'), 'no min_position cookie from a queue place');

  await queues.submit(concert.id, { type: 'MarkSoldOut', now: new Date().toISOString() }, system);
  const tooLate = await join((await customer(app)).token, concert.id);
  t.equal(tooLate.statusCode, 409);
  t.equal(tooLate.json<{ code: string }>().code, 'SOLD_OUT');
});

t.test('joining a concert without a room, an unknown one, a bad id; a room whose opening was never written opens at the first join', async (t) => {
  const { made, app, admin, events, join } = await rig(t);
  const fan = await customer(app);
  const plain = await createConcert(app, admin);
  const none = await join(fan.token, plain.id);
  t.equal(none.statusCode, 404);
  t.equal(none.json<{ code: string }>().code, 'NO_WAITING_ROOM');
  t.equal((await join(fan.token, randomUUID())).statusCode, 404);
  t.equal((await join(fan.token, 'not-a-uuid')).statusCode, 400);
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/concerts/${plain.id}/queue` })).statusCode, 401);

  // The concert's append landed, the queue's did not (as if that write had failed).
  const concertId = randomUUID();
  await made.services.command.writer.submit(concertId, {
    type: 'ScheduleConcert', concert_id: concertId, name: 'n', artist: 'a', date: '2099-01-01T00:00:00.000Z', venue: 'v', description: null, image_url: null,
    max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null, waiting_room: true, publish: true, now: new Date().toISOString(),
    ticket_classes: [{ ticket_class_id: randomUUID(), name: 'A', price: 1, seat_count: 5 }],
  }, system);
  t.equal((await events(queueStream(concertId))).length, 0);
  const healed = await join(fan.token, concertId);
  t.equal(healed.statusCode, 201);
  t.match(await events(queueStream(concertId)), [{ type: 'WaitingRoomOpened' }, { type: 'QueueJoined', data: { user_id: fan.id } }]);
});

t.test('booking with the room on: no pass 409, every bad pass 403, a valid one 201 and spent once; a retry is the same booking', async (t) => {
  const { app, admin, events, admitted, passOf, join, admit, passes } = await rig(t);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 100, total_seats_in_class: 10 }], { waiting_room: true });
  const classId = concert.ticket_classes[0]!.id;
  const other = await createConcert(app, admin, undefined, { waiting_room: true });
  const fan = await admitted(concert);
  const rival = await admitted(concert);
  const code = (response: { json: <T>() => T }) => response.json<{ code: string }>().code;

  const without = await book(app, fan.token, byClass(concert.id, classId, 1));
  t.equal(without.statusCode, 409);
  t.equal(code(without), 'QUEUE_REQUIRED');
  const claims = { passId: randomUUID(), userId: fan.id, concertId: concert.id, expiresAtMs: Date.now() + 60_000 };
  const bad: [string, string][] = [
    ['forged text', 'BP1.not-a-pass'],
    ['signed under another key', new BookingPasses('another deployment').sign(claims)],
    ["another account's", rival.pass],
    ["another concert's", passes.sign({ ...claims, concertId: other.id })],
  ];
  for (const [what, pass] of bad) {
    const refused = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(pass));
    t.equal(refused.statusCode, 403, what);
    t.equal(code(refused), 'INVALID_PASS', what);
  }
  t.equal((await events(`concert-${concert.id}`)).filter((event) => event.type === 'SeatsHeld').length, 0, 'no refused request held a seat');
  // Only this deployment's secret signs passes, and only for places admitted: one signed and never
  // issued (whoever signed it has the secret) holds seats, is refused by the queue, and is let go.
  const unissued = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(passes.sign(claims)));
  t.equal(unissued.statusCode, 403, 'signed but never issued');
  t.equal(code(unissued), 'INVALID_PASS');
  const afterUnissued = await events(`concert-${concert.id}`);
  t.same(afterUnissued.filter((event) => event.type === 'HoldReleased').map((event) => event.data.reason), ['cancelled'], 'its hold released at once');

  const booked = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(fan.pass, 'k1'));
  t.equal(booked.statusCode, 201);
  const bookingId = booked.json<{ id: string }>().id;
  const retried = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(fan.pass, 'k1'));
  t.equal(retried.statusCode, 201);
  t.equal(retried.json<{ id: string }>().id, bookingId, 'the same booking');
  const used = (await events(queueStream(concert.id))).filter((event) => event.type === 'PassUsed');
  t.match(used, [{ data: { booking_id: bookingId, user_id: fan.id } }], 'one PassUsed, naming the booking');

  // Spent: after cancelling, the pass buys no second booking.
  t.equal((await app.inject({ method: 'PUT', url: `/api/v1/bookings/${bookingId}/cancel`, headers: bearer(fan.token) })).statusCode, 200);
  const reused = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(fan.pass, 'k2'));
  t.equal(reused.statusCode, 403);
  t.equal(code(reused), 'INVALID_PASS');

  // Expired: admitted with a pass whose time was up long ago.
  const slow = await customer(app);
  const slowPlace = (await join(slow.token, concert.id)).json<{ token: string }>().token;
  await admit(concert.id, 1, { at: new Date(Date.now() - 600_000), ttlSeconds: 1 });
  const expired = await book(app, slow.token, byClass(concert.id, classId, 1), withPass(await passOf(concert.id, slowPlace)));
  t.equal(expired.statusCode, 403);
  t.equal(code(expired), 'INVALID_PASS');
});

t.test('a refused hold leaves the pass usable; a concert without the room books as before', async (t) => {
  const { app, admin, events, admitted } = await rig(t);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 100, total_seats_in_class: 2 }], { waiting_room: true });
  const classId = concert.ticket_classes[0]!.id;
  const first = await admitted(concert);
  const second = await admitted(concert);
  t.equal((await book(app, first.token, bySeat(concert.id, [seatId(classId, 1)]), withPass(first.pass))).statusCode, 201);
  const taken = await book(app, second.token, bySeat(concert.id, [seatId(classId, 1)]), withPass(second.pass));
  t.equal(taken.statusCode, 409);
  t.equal(taken.json<{ code: string }>().code, 'SEAT_UNAVAILABLE');
  t.equal((await events(queueStream(concert.id))).filter((event) => event.type === 'PassUsed').length, 1, 'the refused hold spent nothing');
  const other = await book(app, second.token, bySeat(concert.id, [seatId(classId, 2)]), withPass(second.pass));
  t.equal(other.statusCode, 201, 'the same pass books another seat');

  const plain = await createConcert(app, admin);
  const fan = await customer(app);
  t.equal((await book(app, fan.token, byClass(plain.id, plain.ticket_classes[0]!.id, 1))).statusCode, 201, 'no room: no header needed');
});

t.test('the race: one pass, two bookings at once with different keys: one 201, one PassUsed, no active booking without one', async (t) => {
  const { app, admin, events, admitted } = await rig(t);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 100, total_seats_in_class: 10 }], { waiting_room: true });
  const classId = concert.ticket_classes[0]!.id;
  const fan = await admitted(concert);
  const answers = await Promise.all(['a', 'b', 'c'].map((key) => book(app, fan.token, byClass(concert.id, classId, 1), withPass(fan.pass, key))));
  t.equal(answers.filter((answer) => answer.statusCode === 201).length, 1, answers.map((answer) => `${answer.statusCode} ${answer.body.slice(0, 80)}`).join('; '));
  for (const answer of answers.filter((a) => a.statusCode !== 201)) t.ok(answer.statusCode === 403 || answer.statusCode === 409, `refused: ${answer.statusCode}`);
  const used = (await events(queueStream(concert.id))).filter((event) => event.type === 'PassUsed');
  t.equal(used.length, 1, 'one PassUsed');
  const concertEvents = await events(`concert-${concert.id}`);
  const released = new Set(concertEvents.filter((event) => event.type === 'HoldReleased').map((event) => event.data.booking_id));
  const active = concertEvents.filter((event) => event.type === 'SeatsHeld' && !released.has(event.data.booking_id)).map((event) => event.data.booking_id);
  t.same(active, used.map((event) => event.data.booking_id), 'the one active booking is the one that spent the pass');
});

t.test('two command instances: a pass the other one admitted books here; a pass spent there on a booking since cancelled buys nothing here', async (t) => {
  // What every instance of a deployment shares.
  const shared = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'),
  };
  const { made, app, admin, events, join, admit, passOf } = await rig(t, shared);
  const mysqlUrl = made.services.shared.config.mysqlUrl;
  if (mysqlUrl === null) throw new Error('the spec app runs on MySQL');
  const other = await roleApp(t, { BOXOFFICE_ROLE: 'command', MYSQL_URL: mysqlUrl, ...shared, REQUIRE_EMAIL_VERIFICATION: 'false' });
  const there = other.wired.command;
  if (there === undefined) throw new Error('the second process plays the command role');
  // Switched on through this instance while the other has the concert in memory: a join there is not refused on its stale state.
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 100, total_seats_in_class: 10 }]);
  const classId = concert.ticket_classes[0]!.id;
  const [x, y] = [await customer(app), await customer(app)];
  const early = await other.app.inject({ method: 'POST', url: `/api/v1/concerts/${concert.id}/queue`, headers: bearer(x.token) });
  t.equal(early.statusCode, 404, 'no room yet');
  t.equal((await app.inject({ method: 'PATCH', url: `/api/v1/admin/concerts/${concert.id}`, headers: bearer(admin), payload: { waiting_room: true } })).statusCode, 200);
  const onThere = await other.app.inject({ method: 'POST', url: `/api/v1/concerts/${concert.id}/queue`, headers: bearer(y.token) });
  t.equal(onThere.statusCode, 201, `switched on elsewhere, joined here: ${onThere.body.slice(0, 120)}`);
  const places = [await join(x.token, concert.id), await join(y.token, concert.id)].map((joined) => joined.json<{ token: string }>().token);
  // The other instance loads the queue now: it knows both places, and no pass.
  t.equal(await there.queues.read(concert.id, (state) => state.placeByPass.size), 0);
  await admit(concert.id, 2);
  const [xPass, yPass] = [await passOf(concert.id, places[0]!), await passOf(concert.id, places[1]!)];

  const found = await book(other.app, x.token, byClass(concert.id, classId, 1), withPass(xPass));
  t.equal(found.statusCode, 201, `a pass unknown to a stale state is looked up again: ${found.body.slice(0, 120)}`);

  const first = await book(app, y.token, byClass(concert.id, classId, 1), withPass(yPass, 'k1'));
  t.equal(first.statusCode, 201);
  const firstId = first.json<{ id: string }>().id;
  t.equal((await app.inject({ method: 'PUT', url: `/api/v1/bookings/${firstId}/cancel`, headers: bearer(y.token) })).statusCode, 200);
  // The other instance's concert state is behind (it never saw y's booking): the pass is refused
  // by the concert itself once it caught up, with the hold, not after it.
  const late = await book(other.app, y.token, byClass(concert.id, classId, 1), withPass(yPass, 'k2'));
  t.equal(late.statusCode, 403);
  t.equal(late.json<{ code: string }>().code, 'INVALID_PASS');
  const used = (await events(queueStream(concert.id))).filter((event) => event.type === 'PassUsed');
  t.same(used.map((event) => event.data.user_id).sort(), [x.id, y.id].sort(), 'one PassUsed each');
  const concertEvents = await events(`concert-${concert.id}`);
  t.same(concertEvents.filter((event) => event.type === 'SeatsHeld' && event.data.user_id === y.id).map((event) => event.data.booking_id), [firstId], 'the late request held nothing');
  const released = new Set(concertEvents.filter((event) => event.type === 'HoldReleased').map((event) => event.data.booking_id));
  const active = concertEvents.filter((event) => event.type === 'SeatsHeld' && !released.has(event.data.booking_id)).map((event) => event.data.booking_id);
  t.same(active.sort(), used.filter((event) => event.data.user_id === x.id).map((event) => event.data.booking_id), 'every active booking spent its own pass');
});

t.test('a request that failed between its hold and UsePass: the bookings reactor spends the pass; a pass recorded expired before it could cancels the booking', async (t) => {
  const { made, app, admin, events, admitted, queues } = await rig(t);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 100, total_seats_in_class: 10 }], { waiting_room: true });
  const classId = concert.ticket_classes[0]!.id;
  // The store fails the request's UsePass, once: what a crash right after the hold leaves behind.
  const submit = queues.submit.bind(queues);
  let failNextUse = false;
  queues.submit = (id, command, context) => {
    if (command.type === 'UsePass' && failNextUse) {
      failNextUse = false;
      return Promise.reject(new Error('the event store went away'));
    }
    return submit(id, command, context);
  };
  t.teardown(() => {
    queues.submit = submit;
  });
  const used = async () => (await events(queueStream(concert.id))).filter((event) => event.type === 'PassUsed');
  const heldWith = async (fan: { token: string }, pass: string) => {
    failNextUse = true;
    const answer = await book(app, fan.token, byClass(concert.id, classId, 1), withPass(pass));
    t.equal(answer.statusCode, 500, 'the request failed after its hold');
    const held = (await events(`concert-${concert.id}`)).filter((event) => event.type === 'SeatsHeld').at(-1)!;
    t.equal(held.data.pass_id, made.services.command.passes.read(pass)?.passId, 'the hold names its pass');
    return String(held.data.booking_id);
  };

  const fan = await admitted(concert);
  const orphan = await heldWith(fan, fan.pass);
  const spent = await eventually(async () => (await used()).find((event) => event.data.booking_id === orphan), 'the reactor spends the pass', 15_000);
  t.match(spent, { data: { user_id: fan.id } });

  const late = await admitted(concert);
  const unspent = await heldWith(late, late.pass);
  // Before the reactor comes round, the pass is recorded expired (as the keeper does in its time).
  await queues.submit(concert.id, { type: 'ExpirePasses', now: new Date(Date.now() + 3_600_000).toISOString() }, system);
  await eventually(async () => (await events(`concert-${concert.id}`)).some((event) => event.type === 'HoldReleased' && event.data.booking_id === unspent && event.data.reason === 'cancelled'),
    'the hold whose pass can no longer be spent on it is released', 15_000);
  await eventually(async () => (await events(`booking-${unspent}`)).some((event) => event.type === 'BookingCancelled'), 'and its booking cancelled');
  t.notOk((await used()).some((event) => event.data.booking_id === unspent), 'no PassUsed for it');

  // Found as an attacker would: the request failed before UsePass, its booking was cancelled at
  // once, and the same pass was tried again for a new booking. The concert remembers which
  // booking the pass bought: nothing more.
  const again = await admitted(concert);
  const first = await heldWith(again, again.pass);
  t.equal((await app.inject({ method: 'PUT', url: `/api/v1/bookings/${first}/cancel`, headers: bearer(again.token) })).statusCode, 200);
  const second = await book(app, again.token, byClass(concert.id, classId, 1), withPass(again.pass, 'again'));
  t.equal(second.statusCode, 403, 'a pass that bought a booking buys no second one');
  t.equal(second.json<{ code: string }>().code, 'INVALID_PASS');
  t.same((await events(`concert-${concert.id}`)).filter((event) => event.type === 'SeatsHeld' && event.data.user_id === again.id).map((event) => event.data.booking_id), [first], 'one hold with it');
});
