import fc from 'fast-check';
import t from 'tap';
import { T0, minutesAfter } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { lotteryOrder, queueDecider, type QueueCommand, type QueueEvent } from './index.ts';

/**
 * Whatever commands arrive in whatever order, checked from the events alone (an auditor's replay):
 * no account holds two places; the lottery orders exactly the joins recorded before the opening,
 * as its seed says; passes go out in lottery-then-arrival order, never after sold out; a pass is
 * used at most once, by its own account, before its expiry; an expired one is never used; never
 * more than WINDOW passes are out (admitted, neither used nor expired) at once.
 */
const OPENS_MINUTE = 10;
/** Every admission of these sequences asks for this window (max_outstanding). */
const WINDOW = 3;
const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];

/** Makes a command at the command's number `n` and minute `now`, knowing the passes issued so far. */
type Make = (n: number, now: string, issued: readonly { pass_id: string; user_id: string }[]) => QueueCommand;
/** Each step moves the clock 0–4 minutes on; a few commands come in with a clock up to 5 minutes behind (another instance). */
const step = fc.record({ advance: fc.integer({ min: 0, max: 4 }), skew: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) }) });
const make: fc.Arbitrary<Make> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...users).map((user): Make => (n, now) => ({ type: 'JoinQueue', user_id: user, place_id: `place-${n}`, now })) },
  { weight: 2, arbitrary: fc.constantFrom('00'.repeat(32), '5eed'.repeat(16), 'ab'.repeat(32)).map((seed): Make => (_n, now) => ({ type: 'DrawLottery', seed, now })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((count): Make => (n, now) => ({
    type: 'AdmitVisitors', pass_ids: Array.from({ length: count }, (_, k) => `pass-${n}-${k}`), pass_ttl_seconds: 300, max_outstanding: WINDOW, now,
  })) },
  { weight: 4, arbitrary: fc.record({ pick: fc.nat(), own: fc.boolean(), user: fc.constantFrom(...users) }).map(({ pick, own, user }): Make => (_n, now, issued) => {
    const pass = issued.length === 0 ? { pass_id: 'pass-none', user_id: user } : issued[pick % issued.length]!;
    return { type: 'UsePass', pass_id: pass.pass_id, user_id: own ? pass.user_id : user, booking_id: `b-${pick % 2}`, now };
  }) },
  { weight: 2, arbitrary: fc.constant((_n: number, now: string): QueueCommand => ({ type: 'ExpirePasses', now })) },
  { weight: 1, arbitrary: fc.constant((_n: number, now: string): QueueCommand => ({ type: 'MarkSoldOut', now })) },
);
const command = fc.tuple(make, step);
const commands = fc.array(command, { minLength: 1, maxLength: 60, size: 'medium' });

function run(sequence: readonly (readonly [Make, { advance: number; skew: number }])[]): QueueEvent[] {
  let events: QueueEvent[] = queueDecider.decide({ type: 'OpenWaitingRoom', concert_id: 'c1', opens_at: minutesAfter(T0, OPENS_MINUTE), now: T0 }, queueDecider.initialState());
  let clock = 0;
  for (const [n, [makeCommand, { advance, skew }]] of sequence.entries()) {
    clock += advance;
    const issued = events.flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions : []));
    try {
      events = [...events, ...queueDecider.decide(makeCommand(n, minutesAfter(T0, clock - skew), issued), fold(queueDecider, events))];
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return events;
}

/** What an auditor derives from the events alone, with no decider: the violations it finds. */
function audit(events: readonly QueueEvent[]): string[] {
  const problems: string[] = [];
  const opensAt = Date.parse(minutesAfter(T0, OPENS_MINUTE));
  const placeOf = new Map<string, string>();
  const lotteryJoins: string[] = [];
  const arrivals: string[] = [];
  let order: string[] | null = null;
  let admitted = 0;
  let soldOut = false;
  let out = 0;
  const passes = new Map<string, { user: string; expires: number; used: boolean; expired: boolean }>();
  for (const event of events) {
    switch (event.type) {
      case 'QueueJoined': {
        const { user_id, place_id, entry, joined_at } = event.data;
        if (placeOf.has(user_id)) problems.push(`${user_id} holds two places`);
        placeOf.set(user_id, place_id);
        if (entry === 'lottery' && (order !== null || Date.parse(joined_at) >= opensAt)) problems.push(`${place_id} entered the lottery after the opening or the draw`);
        if (order !== null) order.push(place_id);
        else (entry === 'lottery' ? lotteryJoins : arrivals).push(place_id);
        break;
      }
      case 'LotteryDrawn':
        if (order !== null) problems.push('drawn twice');
        if (Date.parse(event.data.drawn_at) < opensAt) problems.push('drawn before the opening');
        if (event.data.entrants !== lotteryJoins.length) problems.push('the draw does not cover the lottery joins');
        order = [...Array.from(lotteryOrder(event.data.seed, event.data.entrants), (rank) => lotteryJoins[rank]!), ...arrivals];
        break;
      case 'VisitorsAdmitted':
        if (soldOut) problems.push('admitted after sold out');
        for (const { place_id, user_id, pass_id, expires_at } of event.data.admissions) {
          if (order?.[admitted] !== place_id) problems.push(`${place_id} admitted out of order`);
          if (placeOf.get(user_id) !== place_id) problems.push(`${pass_id} issued to an account that is not the place's`);
          admitted++;
          out++;
          passes.set(pass_id, { user: user_id, expires: Date.parse(expires_at), used: false, expired: false });
        }
        if (out > WINDOW) problems.push(`${out} passes out, more than the window of ${WINDOW}`);
        break;
      case 'PassUsed': {
        const pass = passes.get(event.data.pass_id);
        if (pass === undefined) problems.push('an unknown pass was used');
        else {
          if (pass.used || pass.expired) problems.push(`${event.data.pass_id} used after it was used or expired`);
          if (pass.user !== event.data.user_id) problems.push(`${event.data.pass_id} used by another account`);
          if (Date.parse(event.data.used_at) >= pass.expires) problems.push(`${event.data.pass_id} used after its expiry`);
          if (!pass.used && !pass.expired) out--;
          pass.used = true;
        }
        break;
      }
      case 'PassExpired': {
        const pass = passes.get(event.data.pass_id);
        if (pass === undefined || pass.used || pass.expired || Date.parse(event.data.expired_at) < pass.expires) problems.push(`${event.data.pass_id} expired wrongly`);
        else {
          pass.expired = true;
          out--;
        }
        break;
      }
      case 'QueueSoldOut':
        if (soldOut) problems.push('sold out twice');
        soldOut = true;
        break;
      case 'WaitingRoomOpened':
        break;
    }
  }
  return problems;
}

t.test('any sequence of commands keeps the waiting room fair, as an auditor replays it from the events', async (t) => {
  fc.assert(
    fc.property(commands, (sequence) => {
      const events = run(sequence);
      const problems = audit(events);
      if (problems.length > 0) throw new Error(problems.join('; '));
      // the state agrees with the auditor: the admitted are exactly the first of the order
      const state = fold(queueDecider, events);
      const admittedPlaces = events.flatMap((e) => (e.type === 'VisitorsAdmitted' ? e.data.admissions.map((a) => a.place_id) : []));
      if (state.order.slice(0, state.admitted).join() !== admittedPlaces.join()) throw new Error('the state admits others than the events say');
      // a JSON round trip (what the store keeps) replays to the same order
      const replayed = fold(queueDecider, JSON.parse(JSON.stringify(events)) as QueueEvent[]);
      if (replayed.order.join() !== state.order.join()) throw new Error('the replay orders differently');
    }),
    { numRuns: 300, seed: 23 },
  );
  t.pass('300 sequences audited');
  // the sequences reach every decision: count the event types they produced
  const seen = new Map<string, number>();
  for (const sequence of fc.sample(commands, { numRuns: 300, seed: 23 })) {
    for (const event of run(sequence)) seen.set(event.type, (seen.get(event.type) ?? 0) + 1);
  }
  t.comment(JSON.stringify(Object.fromEntries(seen)));
  t.strictSame([...seen.keys()].sort(), ['LotteryDrawn', 'PassExpired', 'PassUsed', 'QueueJoined', 'QueueSoldOut', 'VisitorsAdmitted', 'WaitingRoomOpened'], 'every event type occurs');
});

t.test('the auditor finds what is wrong (so the property can fail)', async (t) => {
  const at = (minute: number) => minutesAfter(T0, minute);
  const events = [
    { type: 'JoinQueue', user_id: 'u1', place_id: 'a', now: at(1) },
    { type: 'JoinQueue', user_id: 'u2', place_id: 'b', now: at(2) },
    { type: 'DrawLottery', seed: '5eed'.repeat(16), now: at(OPENS_MINUTE) },
    { type: 'AdmitVisitors', pass_ids: ['p1'], pass_ttl_seconds: 60, max_outstanding: WINDOW, now: at(OPENS_MINUTE) },
  ].reduce<QueueEvent[]>(
    (history, next) => [...history, ...queueDecider.decide(next as QueueCommand, fold(queueDecider, history))],
    queueDecider.decide({ type: 'OpenWaitingRoom', concert_id: 'c1', opens_at: at(OPENS_MINUTE), now: T0 }, queueDecider.initialState()),
  );
  t.strictSame(audit(events), []);
  const admission = events.at(-1);
  if (admission?.type !== 'VisitorsAdmitted') throw new Error('expected an admission');
  const [first] = admission.data.admissions;
  const other = first?.place_id === 'a' ? { place_id: 'b', user_id: 'u2' } : { place_id: 'a', user_id: 'u1' };
  const outOfOrder: QueueEvent = { ...admission, data: { ...admission.data, admissions: [{ ...first!, ...other }] } };
  t.match(audit([...events.slice(0, -1), outOfOrder]), [/admitted out of order/]);
  const used: QueueEvent = { type: 'PassUsed', data: { concert_id: 'c1', place_id: first!.place_id, pass_id: 'p1', user_id: 'u9', booking_id: 'b', used_at: minutesAfter(T0, OPENS_MINUTE + 5) } };
  t.match(audit([...events, used]), [/used by another account/, /used after its expiry/]);
  const wide: QueueEvent = { ...admission, data: { ...admission.data, admissions: Array.from({ length: WINDOW + 1 }, (_, k) => ({ ...first!, pass_id: `w${k}` })) } };
  t.match(audit([...events.slice(0, -1), wide]), [/admitted out of order/, /admitted out of order/, /admitted out of order/, /more than the window/]);
});
