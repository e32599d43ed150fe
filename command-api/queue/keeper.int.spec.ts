/**
 * The waiting rooms' keeper on the wired command role: MariaDB event store, the expiring keys in
 * Redis (where each instance publishes its write-queue depth), a clock the spec moves. Ticks are
 * driven by the spec (keeper.tick()), so each step's outcome is read from the queue's events.
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { queueDecider, queueEvents, queueStream, lotteryOrder, type QueueCommand, type QueueEvent } from '../../domain/queue/index.ts';
import type { CommandContext } from '../../domain/index.ts';
import type { ScheduleConcert } from '../../domain/concert/index.ts';
import { fold } from '../../domain/shared/decider.ts';
import { decode } from '../../eventstore/decode.ts';
import type { AppendResult, EventStore, EventToAppend, ExpectedRevision } from '../../eventstore/port.ts';
import type { Principal } from '../../lib/http/auth.ts';
import { RedisExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { testApp } from '../../test/support/app.ts';
import { T0, holdByClass, minutesAfter, scheduleConcert, sell } from '../../test/support/concert-fixtures.ts';
import { eventually } from '../../test/support/eventually.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';
import { EnteringJoins } from './entering-joins.ts';
import { DRAW_GRACE_MS, DRAW_WAIT_MAX_MS, WaitingRoomKeeper, type WaitingRoomKeeperDeps } from './keeper.ts';
import { QueueLoad } from './queue-load.ts';
import { overriding } from '../../test/support/overriding.ts';
import { QueueWriter } from './queue-writer.ts';
import { WaitingRoomService } from './waiting-room.ts';

const LIMIT = 40; // COMMAND_QUEUE_LIMIT: the window shrinks at a depth of 10 (L/4), grows below 5 (L/8), never above 20 (L/2)
const TTL_SECONDS = 60;
const OPENS = minutesAfter(T0, 10);
const context = (at: string): CommandContext => ({ correlationId: 'spec', causationId: 'spec', actorId: null, occurredAt: at });

async function rig(t: Test, seats = 30, started = false, concert: Partial<Pick<ScheduleConcert, 'sales_open_at' | 'sales_close_at' | 'waiting_room'>> = {}) {
  let clock = Date.parse(T0);
  const made = await testApp(t, {
    REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: uniqueName('keeper'), COMMAND_QUEUE_LIMIT: String(LIMIT), BOOKING_PASS_TTL_SECONDS: String(TTL_SECONDS),
    WAITING_ROOM_TICK_MS: '50',
  }, { reactors: started, wire: { now: () => new Date(clock) } });
  const { command, shared } = made.services;
  const concertId = randomUUID();
  const classId = randomUUID();
  await command.writer.submit(concertId, scheduleConcert({
    concert_id: concertId,
    ticket_classes: [{ ticket_class_id: classId, name: 'Festival', price: 500_000, seat_count: seats }],
    ...concert,
  }), context(T0));
  const at = () => new Date(clock).toISOString();
  const submit = (command_: QueueCommand, queues: QueueWriter = command.queues) => queues.submit(concertId, command_, context(at()));
  await submit({ type: 'OpenWaitingRoom', concert_id: concertId, opens_at: OPENS, now: at() });
  /** Joins `count` accounts now; returns their place ids in join order. */
  const join = async (count: number): Promise<string[]> => {
    const places: string[] = [];
    for (let k = 0; k < count; k++) {
      const place = randomUUID();
      await submit({ type: 'JoinQueue', user_id: randomUUID(), place_id: place, now: at() });
      places.push(place);
    }
    return places;
  };
  const events = async (): Promise<QueueEvent[]> => (await shared.store.readStream(queueStream(concertId))).map((recorded) => decode(recorded, queueEvents));
  const admittedPlaces = async () => (await events()).flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions.map((a) => a.place_id) : []));
  const outstanding = async () => fold(queueDecider, await events()).outstanding.size;
  const redis = shared.redis;
  if (redis === undefined) throw new Error('the spec runs with Redis');
  /** The shared storage as another instance sees it. */
  const otherInstance = new QueueLoad(new RedisExpiringKeys(redis, `${shared.config.redisKeyPrefix}:`), LIMIT, { freshMs: 60_000 });
  /** A keeper as another command instance runs it: its own writers on the same store. */
  const keeperOf = (overrides: Partial<WaitingRoomKeeperDeps> = {}, queues = command.queues, concerts = command.writer): WaitingRoomKeeper => new WaitingRoomKeeper({
    store: shared.store,
    queues,
    concerts,
    load: new QueueLoad(new RedisExpiringKeys(redis, `${shared.config.redisKeyPrefix}:`), LIMIT, { freshMs: 60_000 }),
    now: () => new Date(clock),
    tickMs: 250,
    queueLimit: LIMIT,
    passTtlSeconds: TTL_SECONDS,
    onError: (error) => t.fail(String(error)),
    drawGraceMs: 0,
    ...overrides,
  });
  const secondInstance = () => {
    const options = { queueLimit: LIMIT, maxBatch: 500, onBackgroundError: (error: unknown) => t.fail(String(error)) };
    return { queues: new QueueWriter(shared.store, options), concerts: new ConcertWriter(shared.store, { ...options, snapshotEvery: 1_000 }) };
  };
  return {
    made, concertId, classId, join, events, admittedPlaces, outstanding, otherInstance, keeperOf, secondInstance, submit,
    setClock: (iso: string) => void (clock = Date.parse(iso)),
    at,
    now: () => new Date(clock),
  };
}

t.test('the lottery is drawn at the opening, not before; admissions follow lottery-then-arrival order and never exceed the window', async (t) => {
  const r = await rig(t);
  const keeper = r.made.services.command.keeper;
  r.setClock(minutesAfter(T0, 1));
  const early = await r.join(6);
  r.setClock(minutesAfter(OPENS, -0.01));
  await keeper.tick();
  t.strictSame(keeper.open(), [r.concertId], 'the room is found from $all');
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn' || e.type === 'VisitorsAdmitted'), 'nothing drawn or admitted before the opening');

  r.setClock(OPENS);
  const arrivedBeforeDraw = await r.join(1);
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'not at the opening itself: joins received before it may still be on their way');
  // A join received a moment before the opening, decided a moment after it: still a lottery entrant.
  const lateDecided = randomUUID();
  await r.submit({ type: 'JoinQueue', user_id: randomUUID(), place_id: lateDecided, now: minutesAfter(OPENS, -0.001) });
  r.setClock(new Date(Date.parse(OPENS) + DRAW_GRACE_MS).toISOString());
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'an entrant was just recorded: more may still be in the lanes');
  const drawnAt = new Date(Date.parse(OPENS) + 2 * DRAW_GRACE_MS).toISOString();
  r.setClock(drawnAt);
  await keeper.tick();
  const drawn = (await r.events()).find((e) => e.type === 'LotteryDrawn');
  if (drawn?.type !== 'LotteryDrawn') throw new Error('no lottery after the opening');
  t.match(drawn.data, { entrants: 7, drawn_at: drawnAt, seed: /^[0-9a-f]{64}$/ }, `drawn once no entrant came for ${DRAW_GRACE_MS} ms, over the six early joiners and the one received before the opening`);
  t.match((await r.events()).find((e) => e.type === 'QueueJoined' && e.data.place_id === lateDecided), { data: { entry: 'lottery' } });
  const arrivedAfterDraw = await r.join(1);

  const windows: number[] = [];
  for (let k = 1; k <= 10 && (await r.admittedPlaces()).length < 9; k++) {
    r.setClock(minutesAfter(drawnAt, k / 60));
    await keeper.tick();
    const window = keeper.windowOf(r.concertId) ?? 0;
    windows.push(window);
    t.ok((await r.outstanding()) <= window, `tick ${k}: ${await r.outstanding()} passes out, window ${window}`);
  }
  t.ok(windows.at(-1)! > windows[0]!, `the window grows while it is full and the queue is short (${windows.join(', ')})`);
  const entrants = [...early, lateDecided];
  const expected = [...Array.from(lotteryOrder(drawn.data.seed, 7), (rank) => entrants[rank]!), ...arrivedBeforeDraw, ...arrivedAfterDraw];
  t.strictSame(await r.admittedPlaces(), expected, 'lottery order, then arrivals');
  t.equal((await r.events()).filter((e) => e.type === 'LotteryDrawn').length, 1, 'drawn once');
});

/**
 * The store as an instance with slow appends to one stream sees it: each append to `stream` waits
 * until `open()` (decided, not yet committed), so the spec knows when the joins are stuck, not guesses.
 */
function appendsHeldBack(store: EventStore, stream: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => void (open = resolve));
  let stuck!: () => void;
  const held = new Promise<void>((resolve) => void (stuck = resolve));
  const view = overriding<EventStore>(store, {
    async append(name: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      if (name === stream) {
        stuck();
        await opened;
      }
      return store.append(name, events, expected);
    },
  });
  return { store: view, held, open: () => open() };
}

const customer = (): Principal => ({ userId: randomUUID(), role: 'customer', tokenId: randomUUID(), expiresAt: Number.MAX_SAFE_INTEGER, via: 'header', emailVerified: true });

/**
 * The lottery as drawn once the entrants recorded by 3 graces after the opening have stood still
 * for a grace and no instance reports joins on their way (ticked until then).
 */
async function drawnOnceQuiet(r: Awaited<ReturnType<typeof rig>>, keeper: WaitingRoomKeeper, what: string) {
  r.setClock(new Date(Date.parse(OPENS) + 3 * DRAW_GRACE_MS).toISOString());
  await keeper.tick(); // sees the entrants recorded since
  r.setClock(new Date(Date.parse(OPENS) + 4 * DRAW_GRACE_MS).toISOString());
  return eventually(async () => {
    await keeper.tick();
    const found = (await r.events()).find((e) => e.type === 'LotteryDrawn');
    return found?.type === 'LotteryDrawn' && found;
  }, what);
}

t.test('joins received before the opening, still queued on another instance after the grace: the lottery waits for them, and they enter it', async (t) => {
  const r = await rig(t, 30, false, { sales_open_at: OPENS, waiting_room: true });
  const { shared } = r.made.services;
  const redis = shared.redis!;
  r.setClock(minutesAfter(OPENS, -1));
  const here = await r.join(2);

  // Another command instance whose appends to the queue stream are slow: its joins wait in its lane.
  const slow = appendsHeldBack(shared.store, queueStream(r.concertId));
  const options = { queueLimit: LIMIT, maxBatch: 500, onBackgroundError: (error: unknown) => t.fail(String(error)) };
  const there = new QueueLoad(new RedisExpiringKeys(redis, `${shared.config.redisKeyPrefix}:`), LIMIT, { freshMs: 60_000, enteringFreshMs: 400 });
  const entering = new EnteringJoins(there, (error) => t.fail(String(error)), { drawWaitMaxMs: DRAW_WAIT_MAX_MS, now: () => r.now().getTime() });
  t.teardown(() => entering.close());
  const service = new WaitingRoomService({
    writer: new ConcertWriter(shared.store, { ...options, snapshotEvery: 1_000 }),
    queues: new QueueWriter(slow.store, options),
    requireVerified: async () => {},
    now: r.now,
    entering,
  });
  const joining = Array.from({ length: 3 }, () => service.join(customer(), r.concertId, { correlationId: 'spec', causationId: 'spec' }));
  await slow.held;
  t.equal(entering.waiting(r.concertId), 3, 'the other instance holds three joins received before the opening, not yet recorded');

  // The grace has passed and no entrant has been recorded since: the keeper here would draw.
  const keeper = r.keeperOf({ drawGraceMs: DRAW_GRACE_MS });
  r.setClock(new Date(Date.parse(OPENS) + 2 * DRAW_GRACE_MS).toISOString());
  await keeper.tick();
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'no lottery while another instance reports joins received before the opening');

  slow.open();
  const joined = await Promise.all(joining);
  t.ok(joined.every((answer) => answer.joined), 'the three joins recorded');
  const entries = (await r.events()).flatMap((e) => (e.type === 'QueueJoined' ? [[e.data.place_id, e.data.entry] as const] : []));
  const thereJoined = joined.map((answer) => answer.place.token);
  t.strictSame(entries.filter(([place]) => thereJoined.includes(place)).map(([, entry]) => entry), ['lottery', 'lottery', 'lottery'], 'recorded as lottery entrants');
  t.equal(entering.waiting(r.concertId), 0);

  // Once the report has expired (nobody renews it) and the grace has passed since the last entrant: drawn, over all five.
  const drawn = await drawnOnceQuiet(r, keeper, 'the lottery once no instance reports joins on their way');
  t.equal(drawn.data.entrants, 5, 'the two joins here and the three from the other instance');
  const order = await r.made.services.command.queues.readCurrent(r.concertId, (state) => state.order.slice(0, state.lottery?.entrants ?? 0));
  t.strictSame(new Set(order), new Set([...here, ...thereJoined]), 'everyone who joined before the opening is ordered by the lottery');
});

t.test('a join received before the opening is counted while its account is still being checked: the lottery waits for it', async (t) => {
  const r = await rig(t, 30, false, { sales_open_at: OPENS, waiting_room: true });
  const { shared } = r.made.services;
  const redis = shared.redis!;
  r.setClock(minutesAfter(OPENS, -1));
  const options = { queueLimit: LIMIT, maxBatch: 500, onBackgroundError: (error: unknown) => t.fail(String(error)) };
  const there = new QueueLoad(new RedisExpiringKeys(redis, `${shared.config.redisKeyPrefix}:`), LIMIT, { freshMs: 60_000, enteringFreshMs: 400 });
  const entering = new EnteringJoins(there, (error) => t.fail(String(error)), { drawWaitMaxMs: DRAW_WAIT_MAX_MS, now: () => r.now().getTime() });
  t.teardown(() => entering.close());
  let verified: () => void = () => {};
  let slowChecks = false;
  let checking = false;
  const service = new WaitingRoomService({
    writer: new ConcertWriter(shared.store, { ...options, snapshotEvery: 1_000 }),
    queues: new QueueWriter(shared.store, options),
    // The account's check reads its stream when the token does not say it is verified: here it hangs until released.
    requireVerified: () => (slowChecks ? new Promise<void>((resolve) => {
      checking = true;
      verified = resolve;
    }) : Promise.resolve()),
    now: r.now,
    entering,
  });
  const first = await service.join(customer(), r.concertId, { correlationId: 'spec', causationId: 'spec' });
  slowChecks = true;
  const checked = service.join(customer(), r.concertId, { correlationId: 'spec', causationId: 'spec' });
  await eventually(async () => checking, 'the second join is being checked');
  t.equal(entering.waiting(r.concertId), 1, 'and counted meanwhile');
  // The first join's report outlives it by up to its 400 ms: only the join being checked may hold the draw now.
  await new Promise((resolve) => setTimeout(resolve, 600));

  const keeper = r.keeperOf({ drawGraceMs: DRAW_GRACE_MS });
  r.setClock(new Date(Date.parse(OPENS) + 2 * DRAW_GRACE_MS).toISOString());
  await keeper.tick();
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'no lottery while a join received before the opening is still being checked');

  verified();
  const second = await checked;
  const entries = new Map((await r.events()).flatMap((e) => (e.type === 'QueueJoined' ? [[e.data.place_id, e.data.entry] as const] : [])));
  t.strictSame([entries.get(first.place.token), entries.get(second.place.token)], ['lottery', 'lottery'], 'both are lottery entrants');
  const drawn = await drawnOnceQuiet(r, keeper, 'the lottery once the report has expired');
  t.equal(drawn.data.entrants, 2);
});

t.test('a report of joins on their way that nobody takes back holds the lottery up to its latest bound, not longer', async (t) => {
  const r = await rig(t);
  await r.join(3);
  await r.otherInstance.reportEntering(r.concertId); // an instance that reported, then died
  const keeper = r.keeperOf({ drawGraceMs: DRAW_GRACE_MS });
  r.setClock(new Date(Date.parse(OPENS) + DRAW_WAIT_MAX_MS - 1).toISOString());
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'held back while the report stands');
  const drawnAt = new Date(Date.parse(OPENS) + DRAW_WAIT_MAX_MS).toISOString();
  r.setClock(drawnAt);
  await keeper.tick();
  t.match((await r.events()).filter((e) => e.type === 'LotteryDrawn'), [{ data: { entrants: 3, drawn_at: drawnAt } }], `drawn ${DRAW_WAIT_MAX_MS} ms after the opening at the latest`);
});

t.test('the window shrinks when another instance measures a deep write queue; expired passes free it', async (t) => {
  const r = await rig(t);
  const keeper = r.keeperOf({ window: { initial: 8, grow: 4 } });
  await r.join(20);
  r.setClock(OPENS);
  await keeper.tick();
  t.equal((await r.admittedPlaces()).length, 8, 'the first window let in');
  t.equal(keeper.windowOf(r.concertId), 8);

  await r.otherInstance.publish(r.concertId, LIMIT / 4); // a queue of 10 on another instance
  r.setClock(minutesAfter(OPENS, 0.1));
  await keeper.tick();
  t.equal(keeper.windowOf(r.concertId), 4, 'halved');
  await keeper.tick();
  t.equal(keeper.windowOf(r.concertId), 2, 'halved again while it stays deep');
  t.equal((await r.admittedPlaces()).length, 8, 'nobody more while the passes out exceed the window');

  r.setClock(minutesAfter(OPENS, TTL_SECONDS / 60 + 0.2));
  await keeper.tick();
  const expired = (await r.events()).filter((e) => e.type === 'PassExpired');
  t.equal(expired.length, 8, 'every pass past its time recorded expired');
  t.equal(keeper.windowOf(r.concertId), 1);
  t.equal(await r.outstanding(), 1, 'the freed window refilled, to its new size only');
  t.equal((await r.admittedPlaces()).length, 9);

});

t.test('two keepers on two instances never let more passes out than the window', async (t) => {
  const r = await rig(t);
  await r.join(40);
  const other = r.secondInstance();
  r.setClock(OPENS);
  // The writers' level, deterministic: the second instance decides on a state from before the
  // first one's admission (its lane loaded earlier); the conflict makes it decide again, and the
  // window of 5 is full: 5 passes out, not 10.
  await r.submit({ type: 'DrawLottery', seed: '5eed'.repeat(16), now: r.at() });
  t.equal(await other.queues.read(r.concertId, (state) => state.outstanding.size), 0, 'the second instance has the drawn queue in memory');
  const admit = (n: number): QueueCommand => ({ type: 'AdmitVisitors', pass_ids: Array.from({ length: n }, () => randomUUID()), pass_ttl_seconds: TTL_SECONDS, max_outstanding: 5, now: r.at() });
  await r.submit(admit(5));
  const late = await r.submit(admit(5), other.queues);
  t.strictSame(late.events, [], 'decided again after the conflict: the window is full');
  t.equal((await r.admittedPlaces()).length, 5);

  // The keepers, ticking together: whatever each one's window, the passes out never exceed the wider.
  const first = r.keeperOf({ window: { initial: 5, grow: 5 } });
  const second = r.keeperOf({ window: { initial: 5, grow: 5 } }, other.queues, other.concerts);
  for (let k = 1; k <= 5; k++) {
    r.setClock(minutesAfter(OPENS, k / 60));
    await Promise.all([first.tick(), second.tick()]);
    const window = Math.max(first.windowOf(r.concertId) ?? 0, second.windowOf(r.concertId) ?? 0);
    t.ok((await r.outstanding()) <= window, `round ${k}: ${await r.outstanding()} passes out, the wider window ${window}`);
  }
  const admitted = await r.admittedPlaces();
  t.ok(admitted.length > 5, `the keepers admitted more as their windows grew (${admitted.length})`);
  t.equal(new Set(admitted).size, admitted.length, 'nobody admitted twice');
  t.equal((await r.events()).filter((e) => e.type === 'LotteryDrawn').length, 1, 'one lottery');
});

t.test('sold out, seen from another instance: paused while the last seats are only held, then QueueSoldOut once with the places still waiting', async (t) => {
  const r = await rig(t, 2);
  // The keeper of another instance: the holds and sales go through this one's concert writer, not its own.
  const other = r.secondInstance();
  const keeper = r.keeperOf({ window: { initial: 1, grow: 1 } }, other.queues, other.concerts);
  await r.join(5);
  r.setClock(OPENS);
  await keeper.tick();
  t.equal((await r.admittedPlaces()).length, 1);
  const writer = r.made.services.command.writer;
  const hold = (booking: string) => writer.submit(r.concertId, holdByClass(booking, randomUUID(), [{ ticket_class_id: r.classId, quantity: 1 }], { now: r.at(), expires_at: minutesAfter(r.at(), 15) }), context(r.at()));
  await hold('b1');
  await hold('b2');
  r.setClock(minutesAfter(OPENS, 0.5));
  await keeper.tick();
  await keeper.tick();
  t.equal((await r.admittedPlaces()).length, 1, 'no seat available: nobody more admitted');
  t.notOk((await r.events()).some((e) => e.type === 'QueueSoldOut'), 'held is not sold: no sold out yet');

  await writer.submit(r.concertId, sell('b1', 'tx-1', r.at()), context(r.at()));
  await writer.submit(r.concertId, sell('b2', 'tx-2', r.at()), context(r.at()));
  await keeper.tick();
  const soldOut = (await r.events()).filter((e) => e.type === 'QueueSoldOut');
  t.match(soldOut, [{ data: { concert_id: r.concertId, waiting: 4, sold_out_at: r.at() } }], 'every seat sold: QueueSoldOut, with the 4 still waiting');
  t.strictSame(keeper.open(), [r.concertId], 'the pass still out keeps the room open for the keeper');
  await keeper.tick();
  t.notOk((await r.events()).some((e) => e.type === 'PassExpired'), 'not before its time');
  r.setClock(minutesAfter(OPENS, TTL_SECONDS / 60 + 1));
  await keeper.tick();
  t.equal((await r.events()).filter((e) => e.type === 'PassExpired').length, 1, 'the pass out at the sell-out is recorded expired in its time');
  t.strictSame(keeper.open(), [], 'then the room is closed for the keeper');
  await keeper.tick();
  const again = r.keeperOf(); // another instance, or this one after a restart, reads it sold out from $all
  await again.tick();
  t.strictSame(again.open(), []);
  t.equal((await r.events()).filter((e) => e.type === 'QueueSoldOut').length, 1, 'recorded once');
  t.equal((await r.admittedPlaces()).length, 1, 'no admissions after');
});

t.test('a cancelled concert closes its waiting room: QueueSoldOut', async (t) => {
  const r = await rig(t);
  const keeper = r.keeperOf();
  await r.join(3);
  r.setClock(OPENS);
  await r.made.services.command.writer.submit(r.concertId, { type: 'CancelConcert', reason: 'storm', now: r.at() }, context(r.at()));
  await keeper.tick();
  t.match((await r.events()).filter((e) => e.type === 'QueueSoldOut'), [{ data: { waiting: 3 } }]);
});

t.test('sales closed: the waiting room closes with QueueSoldOut, telling who still waits', async (t) => {
  const closes = minutesAfter(OPENS, 30);
  const r = await rig(t, 30, false, { sales_close_at: closes });
  const keeper = r.keeperOf({ window: { initial: 2, grow: 1 } });
  await r.join(5);
  r.setClock(minutesAfter(closes, -1));
  await keeper.tick();
  t.equal((await r.admittedPlaces()).length, 2, 'admitting while the sale is open');
  t.notOk((await r.events()).some((e) => e.type === 'QueueSoldOut'));
  r.setClock(closes);
  await keeper.tick();
  t.match((await r.events()).filter((e) => e.type === 'QueueSoldOut'), [{ data: { waiting: 3, sold_out_at: closes } }]);
  t.equal((await r.admittedPlaces()).length, 2);
});

t.test('started with the command role, the keeper ticks by itself: the lottery at the opening, then admissions', async (t) => {
  const r = await rig(t, 30, true);
  await r.join(3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk((await r.events()).some((e) => e.type === 'LotteryDrawn'), 'a few ticks before the opening: no lottery');
  const drawnAt = new Date(Date.parse(OPENS) + DRAW_GRACE_MS).toISOString();
  r.setClock(drawnAt);
  const admitted = await eventually(async () => (await r.admittedPlaces()).length > 0 && r.admittedPlaces(), 'admissions after the opening');
  t.ok(admitted.length >= 1 && admitted.length <= 3, `${admitted.length} admitted`);
  t.match((await r.events()).filter((e) => e.type === 'LotteryDrawn'), [{ data: { entrants: 3, drawn_at: drawnAt } }]);
});

t.test('/metrics: waiting, admitted, passes used and expired, the estimated wait, per concert', async (t) => {
  const r = await rig(t);
  const keeper = r.made.services.command.keeper;
  await r.join(12);
  const drawnAt = new Date(Date.parse(OPENS) + DRAW_GRACE_MS).toISOString();
  r.setClock(drawnAt);
  await keeper.tick(); // the window of 1 (L/200, at least 1): one admitted
  for (let k = 1; k <= 3; k++) {
    r.setClock(minutesAfter(drawnAt, k / 60));
    await keeper.tick();
  }
  const admitted = (await r.admittedPlaces()).length;
  t.ok(admitted >= 3, `${admitted} admitted`);
  r.setClock(minutesAfter(OPENS, 0.5));
  const [first] = (await r.events()).flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions : []));
  await r.submit({ type: 'UsePass', pass_id: first!.pass_id, user_id: first!.user_id, booking_id: randomUUID(), now: r.at() });
  r.setClock(minutesAfter(OPENS, TTL_SECONDS / 60 + 0.5));
  await keeper.tick();
  const expired = (await r.events()).filter((e) => e.type === 'PassExpired').length;
  t.ok(expired >= 1, `${expired} expired`);
  const all = (await r.admittedPlaces()).length;

  const response = await r.made.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(response.statusCode, 200);
  const value = (name: string): number | undefined => {
    const line = response.body.split('\n').find((l) => l.startsWith(`${name}{concert_id="${r.concertId}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  t.equal(value('boxoffice_waiting_room_waiting'), 12 - all);
  t.equal(value('boxoffice_waiting_room_admitted_total'), all, 'this instance admitted them all');
  t.equal(value('boxoffice_waiting_room_passes_used'), 1);
  t.equal(value('boxoffice_waiting_room_passes_expired'), expired);
  // the last minute's admissions: those since the sample a minute before the last tick
  const lastMinute = value('boxoffice_waiting_room_admitted_last_minute');
  t.ok(lastMinute !== undefined && lastMinute >= 1 && lastMinute <= all, `admitted in the last minute: ${lastMinute}`);
  t.equal(value('boxoffice_waiting_room_estimated_wait_seconds'), ((12 - all) * 60) / lastMinute!, 'waiting / (admitted per minute / 60)');
});
