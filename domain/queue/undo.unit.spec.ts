import t, { type Test } from 'tap';
import { fold } from '../shared/decider.ts';
import { queueDecider, undoQueueEvents, type QueueEvent, type QueueState } from './index.ts';

const C = 'c1';
const at = (minute: number): string => new Date(Date.UTC(2026, 11, 5, 10, minute)).toISOString();
const opened: QueueEvent = { type: 'WaitingRoomOpened', data: { concert_id: C, opens_at: at(10), opened_at: at(0) } };
const join = (n: number, entry: 'lottery' | 'arrival' = 'lottery'): QueueEvent => ({ type: 'QueueJoined', data: { concert_id: C, place_id: `p${n}`, user_id: `u${n}`, entry, joined_at: at(1) } });
const drawn: QueueEvent = { type: 'LotteryDrawn', data: { concert_id: C, seed: 'ab'.repeat(32), algorithm: 'xoshiro128**/fisher-yates/v1', entrants: 3, drawn_at: at(10) } };
const admitted: QueueEvent = {
  type: 'VisitorsAdmitted',
  data: { concert_id: C, admissions: [0, 1, 2].map((n) => ({ place_id: `p${n}`, user_id: `u${n}`, pass_id: `pass${n}`, expires_at: at(20) })), admitted_at: at(11) },
};
const used = (n: number): QueueEvent => ({ type: 'PassUsed', data: { concert_id: C, place_id: `p${n}`, pass_id: `pass${n}`, user_id: `u${n}`, booking_id: `b${n}`, used_at: at(12) } });
const expired = (n: number): QueueEvent => ({ type: 'PassExpired', data: { concert_id: C, place_id: `p${n}`, pass_id: `pass${n}`, user_id: `u${n}`, expires_at: at(20), expired_at: at(21) } });

/** Everything the state holds, in a form `same` compares (maps and sets as sorted entries). */
function dump(state: QueueState): unknown {
  return JSON.parse(JSON.stringify(state, (_key, value: unknown) => (value instanceof Map ? [...value.entries()].sort() : value instanceof Set ? [...value].sort() : value)));
}

function undoneEquals(t: Test, before: readonly QueueEvent[], batch: readonly QueueEvent[]): void {
  let state = fold(queueDecider, before);
  for (const event of batch) state = queueDecider.evolve(state, event);
  t.equal(undoQueueEvents(state, batch), true);
  t.same(dump(state), dump(fold(queueDecider, before)));
}

t.test('joins before the draw, lottery entrants and early arrivals, come back out', async (t) => {
  undoneEquals(t, [opened, join(0)], [join(1), join(2, 'arrival'), join(3)]);
});

t.test('joins after the draw come back off the order', async (t) => {
  undoneEquals(t, [opened, join(0), join(1), join(2), drawn], [join(3, 'arrival'), join(4, 'arrival')]);
});

t.test('passes used or expired are outstanding again', async (t) => {
  undoneEquals(t, [opened, join(0), join(1), join(2), drawn, admitted], [used(0), expired(1), used(2)]);
});

t.test('a batch with anything else is not taken back, and the state is left as it was', async (t) => {
  let state = fold(queueDecider, [opened, join(0), join(1)]);
  for (const event of [join(2), drawn]) state = queueDecider.evolve(state, event);
  const before = dump(state);
  t.equal(undoQueueEvents(state, [join(2), drawn]), false);
  t.same(dump(state), before);
});
