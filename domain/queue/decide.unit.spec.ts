import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0, minutesAfter } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { lotteryOrder, placeView, queueDecider, type JoinQueue, type QueueCommand, type QueueEvent } from './index.ts';

const queue = (history: QueueEvent[]) => given(queueDecider, history);
const after = (history: QueueEvent[], ...commands: QueueCommand[]): QueueEvent[] =>
  commands.reduce((events, command) => [...events, ...queueDecider.decide(command, fold(queueDecider, events))], history);
const view = (history: QueueEvent[], place: string, now = OPENS) => placeView(fold(queueDecider, history), place, now);

const C = 'c1';
const OPENS = minutesAfter(T0, 60);
const SEED = '5eed'.repeat(16);
const open: QueueCommand = { type: 'OpenWaitingRoom', concert_id: C, opens_at: OPENS, now: T0 };
const join = (user: string, now = minutesAfter(T0, 1)): JoinQueue => ({ type: 'JoinQueue', user_id: user, place_id: `p-${user}`, now });
const draw = (seed = SEED, now = OPENS): QueueCommand => ({ type: 'DrawLottery', seed, now });
const admit = (passIds: string[], now = minutesAfter(OPENS, 1), ttl = 300, max = 100): QueueCommand => ({ type: 'AdmitVisitors', pass_ids: passIds, pass_ttl_seconds: ttl, max_outstanding: max, now });
const use = (pass: string, user: string, booking = `b-${user}`, now = minutesAfter(OPENS, 2)): QueueCommand => ({ type: 'UsePass', pass_id: pass, user_id: user, booking_id: booking, now });

const opened = after([], open);
/** u1…u4 joined before the opening, in that order; drawn with SEED. */
const early = after(opened, join('u1'), join('u2'), join('u3'), join('u4'));
const drawn = after(early, draw());
/** Who stands where after the draw: lotteryOrder(SEED, 4) over the join ranks. */
const lotteryUsers = Array.from(lotteryOrder(SEED, 4), (rank) => `u${rank + 1}`);

t.test('the waiting room opens at the sale\'s opening, or now when the sale is already open', async (t) => {
  queue([]).when(open).then(t, [{ type: 'WaitingRoomOpened', data: { concert_id: C, opens_at: OPENS, opened_at: T0 } }]);
  queue([]).when({ ...open, opens_at: minutesAfter(T0, -5) }).then(t, [
    { type: 'WaitingRoomOpened', data: { concert_id: C, opens_at: T0, opened_at: T0 } },
  ]);
  queue(opened).when(open).then(t, []); // switched on again: nothing new
  const later = minutesAfter(OPENS, 30);
  queue(opened).when({ ...open, opens_at: later, now: minutesAfter(T0, 5) }).then(t, [
    { type: 'WaitingRoomOpened', data: { concert_id: C, opens_at: later, opened_at: minutesAfter(T0, 5) } },
  ]);
  queue(opened).when({ ...open, opens_at: later, now: minutesAfter(OPENS, 1) }).then(t, []); // once opened, who entered the lottery is settled
  queue(drawn).when({ ...open, now: minutesAfter(OPENS, 5) }).then(t, []);
  queue(opened).when({ ...open, concert_id: 'c2' }).thenThrows(t, 'WRONG_CONCERT');
});

t.test('one place per account: before the opening it enters the lottery, with no position yet', async (t) => {
  queue([]).when(join('u1')).thenThrows(t, 'NO_WAITING_ROOM');
  queue(opened).when(join('u1')).then(t, [
    { type: 'QueueJoined', data: { concert_id: C, place_id: 'p-u1', user_id: 'u1', entry: 'lottery', joined_at: minutesAfter(T0, 1) } },
  ]);
  queue(early).when({ ...join('u1', minutesAfter(T0, 9)), place_id: 'another-token' }).then(t, []); // the same account keeps its place
  t.strictSame(view(early, 'p-u1', minutesAfter(T0, 2)), { place_id: 'p-u1', user_id: 'u1', status: 'waiting', position: null, ahead: null, pass: null });
  t.equal(view(early, 'nobody'), undefined);
});

t.test('the lottery at the opening orders every early joiner by the seed, recorded in the event', async (t) => {
  queue(early).when(draw(SEED, minutesAfter(OPENS, -1))).thenThrows(t, 'LOTTERY_NOT_DUE');
  queue([]).when(draw()).thenThrows(t, 'NO_WAITING_ROOM');
  queue(early).when(draw()).then(t, [
    { type: 'LotteryDrawn', data: { concert_id: C, seed: SEED, algorithm: 'xoshiro128**/fisher-yates/v1', entrants: 4, drawn_at: OPENS } },
  ]);
  queue(drawn).when(draw('ab'.repeat(32), minutesAfter(OPENS, 1))).then(t, []); // drawn once: another seed changes nothing
  const positions = lotteryUsers.map((user) => view(drawn, `p-${user}`)?.position);
  t.strictSame(positions, [1, 2, 3, 4], 'each stands where the seed put them');
  t.strictSame(lotteryUsers.map((user) => view(drawn, `p-${user}`)?.ahead), [0, 1, 2, 3]);
  t.notSame(lotteryUsers, ['u1', 'u2', 'u3', 'u4'], 'this seed does not keep the join order (it is not what decides)');
  // a replay of the same history gives the same order
  t.strictSame(lotteryUsers.map((user) => fold(queueDecider, drawn).places.get(`p-${user}`)?.index), [0, 1, 2, 3]);
});

t.test('who joins after the opening queues behind every lottery entrant, in arrival order', async (t) => {
  // u5 joins after the opening, before the draw; u6 after the draw; u0 before the opening but (clock skew) recorded after the draw
  t.match(queue(early).when(join('u5', OPENS)).events(), [{ data: { entry: 'arrival' } }], 'at the opening instant itself: an arrival');
  t.match(queue(early).when(join('u5', minutesAfter(OPENS, -0.001))).events(), [{ data: { entry: 'lottery' } }], 'a moment before: in the lottery');
  const late = after(early, join('u5', minutesAfter(OPENS, 0.1)));
  t.match(late.at(-1), { type: 'QueueJoined', data: { user_id: 'u5', entry: 'arrival' } });
  const history = after(late, draw(SEED, minutesAfter(OPENS, 0.2)), join('u6', minutesAfter(OPENS, 0.3)), join('u0', minutesAfter(OPENS, -1)));
  t.match(history.at(-2), { type: 'QueueJoined', data: { user_id: 'u6', entry: 'arrival' } });
  t.match(history.at(-1), { type: 'QueueJoined', data: { user_id: 'u0', entry: 'arrival' } }, 'after the draw, nobody enters the lottery');
  t.match(history.find((e) => e.type === 'LotteryDrawn'), { data: { entrants: 4 } }, 'the draw covers the four early joiners only');
  t.strictSame(['u5', 'u6', 'u0'].map((user) => view(history, `p-${user}`)?.position), [5, 6, 7]);
  t.strictSame(lotteryUsers.map((user) => view(history, `p-${user}`)?.position), [1, 2, 3, 4], 'the order of the lottery is the same');
});

t.test('admission lets in the next places in lottery-then-arrival order, each with its own pass', async (t) => {
  queue(early).when(admit(['pass-1'])).thenThrows(t, 'LOTTERY_NOT_DRAWN');
  const expires = minutesAfter(minutesAfter(OPENS, 1), 5);
  queue(drawn).when(admit(['pass-1', 'pass-2'])).then(t, [{
    type: 'VisitorsAdmitted',
    data: {
      concert_id: C,
      admissions: [
        { place_id: `p-${lotteryUsers[0]}`, user_id: lotteryUsers[0]!, pass_id: 'pass-1', expires_at: expires },
        { place_id: `p-${lotteryUsers[1]}`, user_id: lotteryUsers[1]!, pass_id: 'pass-2', expires_at: expires },
      ],
      admitted_at: minutesAfter(OPENS, 1),
    },
  }]);
  const two = after(drawn, admit(['pass-1', 'pass-2']));
  t.strictSame(view(two, `p-${lotteryUsers[0]}`, minutesAfter(OPENS, 2)), {
    place_id: `p-${lotteryUsers[0]}`, user_id: lotteryUsers[0], status: 'admitted', position: 1, ahead: null, pass: { pass_id: 'pass-1', expires_at: expires },
  });
  t.strictSame(lotteryUsers.slice(2).map((user) => view(two, `p-${user}`)?.ahead), [0, 1], 'the people ahead went in');
  // more passes than waiting: only the waiting are admitted; then none wait, and nothing is decided
  const all = queue(two).when(admit(['pass-3', 'pass-4', 'pass-5'])).events();
  t.strictSame(all.flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions.map((a) => a.user_id) : [])), lotteryUsers.slice(2));
  queue(after(two, admit(['pass-3', 'pass-4']))).when(admit(['pass-5'])).then(t, []);
  queue(drawn).when(admit([])).then(t, []);
});

t.test('admission keeps at most max_outstanding passes out: used and expired passes free the window', async (t) => {
  const [first, second, third, fourth] = lotteryUsers as [string, string, string, string];
  const admitted = (events: QueueEvent[]) => events.flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions.map((a) => a.user_id) : []));
  // a window of two: three passes asked for, two given
  t.strictSame(admitted(queue(drawn).when(admit(['pass-1', 'pass-2', 'pass-3'], minutesAfter(OPENS, 1), 300, 2)).events()), [first, second]);
  const two = after(drawn, admit(['pass-1', 'pass-2'], minutesAfter(OPENS, 1), 300, 2));
  // the window is full: another keeper, deciding on the same committed stream with the same window, admits nobody
  queue(two).when(admit(['pass-3'], minutesAfter(OPENS, 1), 300, 2)).then(t, []);
  // a smaller window than is out (it shrank): nobody until enough passes are spent
  queue(two).when(admit(['pass-3'], minutesAfter(OPENS, 1), 300, 1)).then(t, []);
  // one pass used: one place in the window
  const used = after(two, use('pass-1', first));
  t.strictSame(admitted(queue(used).when(admit(['pass-3', 'pass-4'], minutesAfter(OPENS, 2), 300, 2)).events()), [third]);
  // a pass past its time holds its place until ExpirePasses records it
  const late = minutesAfter(OPENS, 6);
  queue(used).when(admit(['pass-3'], late, 300, 1)).then(t, []);
  const expired = after(used, { type: 'ExpirePasses', now: late });
  t.strictSame(admitted(queue(expired).when(admit(['pass-3', 'pass-4'], late, 300, 2)).events()), [third, fourth]);
  queue(drawn).when(admit(['pass-1'], minutesAfter(OPENS, 1), 300, 0)).then(t, []); // a window of nothing: paused
  t.throws(() => queue(drawn).when(admit(['pass-1'], minutesAfter(OPENS, 1), 300, -1)).events(), RangeError);
});

t.test('a pass is good once, for its own account, before it expires', async (t) => {
  const [first, second] = lotteryUsers as [string, string];
  const admitted = after(drawn, admit(['pass-1', 'pass-2']));
  queue(admitted).when(use('pass-1', first)).then(t, [
    { type: 'PassUsed', data: { concert_id: C, place_id: `p-${first}`, pass_id: 'pass-1', user_id: first, booking_id: `b-${first}`, used_at: minutesAfter(OPENS, 2) } },
  ]);
  queue(admitted).when(use('pass-1', second)).thenThrows(t, 'INVALID_PASS');
  queue(admitted).when(use('no-such-pass', first)).thenThrows(t, 'INVALID_PASS');
  queue([]).when(use('pass-1', first)).thenThrows(t, 'INVALID_PASS');
  const used = after(admitted, use('pass-1', first));
  queue(used).when(use('pass-1', first, 'another-booking')).thenThrows(t, 'INVALID_PASS');
  queue(used).when(use('pass-1', first)).then(t, []); // the same booking asking again (a retry) decides nothing
  t.equal(view(used, `p-${first}`)?.status, 'used');
  // expired: by its time, before and after PassExpired is recorded
  const late = minutesAfter(OPENS, 6);
  queue(admitted).when(use('pass-2', second, `b-${second}`, late)).thenThrows(t, 'INVALID_PASS');
  t.equal(view(admitted, `p-${second}`, late)?.status, 'expired', 'a pass past its time reads expired at once');
  const expired = after(admitted, { type: 'ExpirePasses', now: late });
  queue(expired).when(use('pass-2', second, `b-${second}`, minutesAfter(OPENS, 3))).thenThrows(t, 'INVALID_PASS');
});

t.test('passes past their time expire once; used and current ones do not', async (t) => {
  const [first, second, third] = lotteryUsers as [string, string, string];
  const history = after(drawn, admit(['pass-1', 'pass-2']), use('pass-1', first), admit(['pass-3'], minutesAfter(OPENS, 4)));
  const now = minutesAfter(OPENS, 6); // pass-2 expired at OPENS+6, pass-3 lasts till OPENS+9
  queue(history).when({ type: 'ExpirePasses', now }).then(t, [
    { type: 'PassExpired', data: { concert_id: C, place_id: `p-${second}`, pass_id: 'pass-2', user_id: second, expires_at: now, expired_at: now } },
  ]);
  const swept = after(history, { type: 'ExpirePasses', now });
  queue(swept).when({ type: 'ExpirePasses', now: minutesAfter(OPENS, 7) }).then(t, []); // recorded once
  t.equal(view(swept, `p-${second}`, now)?.status, 'expired');
  t.equal(view(swept, `p-${third}`, now)?.status, 'admitted');
  t.equal(view(swept, `p-${first}`, now)?.status, 'used');
});

t.test('sold out: no admissions or joins after, and everyone still waiting is told', async (t) => {
  const [first, , third] = lotteryUsers as [string, string, string];
  const oneIn = after(drawn, admit(['pass-1']));
  queue(oneIn).when({ type: 'MarkSoldOut', now: minutesAfter(OPENS, 3) }).then(t, [
    { type: 'QueueSoldOut', data: { concert_id: C, waiting: 3, sold_out_at: minutesAfter(OPENS, 3) } },
  ]);
  const soldOut = after(oneIn, { type: 'MarkSoldOut', now: minutesAfter(OPENS, 3) });
  t.strictSame(view(soldOut, `p-${third}`, minutesAfter(OPENS, 3)), { place_id: `p-${third}`, user_id: third, status: 'sold_out', position: 3, ahead: null, pass: null });
  t.equal(view(soldOut, `p-${first}`, minutesAfter(OPENS, 3))?.status, 'admitted', 'a pass already given may still be tried');
  queue(soldOut).when(admit(['pass-2'])).then(t, []);
  queue(soldOut).when(join('u9', minutesAfter(OPENS, 4))).thenThrows(t, 'SOLD_OUT');
  queue(soldOut).when(join(third, minutesAfter(OPENS, 4))).then(t, []); // who has a place keeps it, and is told
  queue(soldOut).when({ type: 'MarkSoldOut', now: minutesAfter(OPENS, 5) }).then(t, []);
  queue([]).when({ type: 'MarkSoldOut', now: T0 }).thenThrows(t, 'NO_WAITING_ROOM');
});

t.test('100,000 places: joins, the draw, admissions and lookups stay fast (no work per place per event)', async (t) => {
  const PLACES = 100_000;
  const started = performance.now();
  let state = queueDecider.initialState();
  const apply = (command: QueueCommand): void => {
    for (const event of queueDecider.decide(command, state)) state = queueDecider.evolve(state, event);
  };
  apply(open);
  for (let i = 0; i < PLACES; i++) apply(join(`u${i}`, minutesAfter(T0, 1 + i / PLACES)));
  apply(draw());
  for (let batch = 0; batch < 200; batch++) apply(admit(Array.from({ length: 250 }, (_, k) => `pass-${batch}-${k}`), minutesAfter(OPENS, 1 + batch / 100), 300, 50_000));
  const elapsed = performance.now() - started;
  t.comment(`100,000 joins, one draw, 200 admissions of 250: ${elapsed.toFixed(0)} ms`);
  t.equal(state.admitted, 50_000);
  const last = state.order.at(-1)!;
  t.strictSame(placeView(state, last, minutesAfter(OPENS, 3)), { place_id: last, user_id: state.places.get(last)?.userId, status: 'waiting', position: PLACES, ahead: 49_999, pass: null });
  t.ok(elapsed < 15_000, 'far below what an O(n) step per event would take');
});
