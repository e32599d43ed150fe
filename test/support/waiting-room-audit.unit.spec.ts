/**
 * The waiting room's auditor (waiting-room-audit.ts) finds nothing in a fair sale and a fault in
 * each kind of unfair one: the on-sale e2e relies on it, so it must be able to fail.
 */
import t from 'tap';
import { lotteryOrder, LOTTERY_ALGORITHM, type QueueEvent, type VisitorsAdmitted } from '../../domain/queue/index.ts';
import { auditQueue } from './waiting-room-audit.ts';

const concert_id = '00000000-0000-4000-8000-00000000c0c0';
const at = '2099-01-01T00:00:00.000Z';
const seed = 'ab'.repeat(32);
const id = (kind: number, n: number): string => `00000000-0000-4000-8000-${kind.toString(16).padStart(4, '0')}${n.toString(16).padStart(8, '0')}`;
const place = (n: number) => id(1, n);
const user = (n: number) => id(2, n);
const pass = (n: number) => id(3, n);
const booking = (n: number) => id(4, n);

/** 6 lottery joins, 3 arrivals; the first 5 of the order let in; 4 passes used, 1 expired; sold out. */
function fairSale(): { events: QueueEvent[]; bookings: Map<string, 'sold' | 'released'> } {
  const joins: QueueEvent[] = Array.from({ length: 9 }, (_, n) => ({
    type: 'QueueJoined', data: { concert_id, place_id: place(n), user_id: user(n), entry: n < 6 ? 'lottery' : 'arrival', joined_at: at },
  }));
  const order = [...Array.from(lotteryOrder(seed, 6)), 6, 7, 8];
  const admit = (ks: number[]): VisitorsAdmitted => ({
    type: 'VisitorsAdmitted',
    data: { concert_id, admitted_at: at, admissions: ks.map((k) => ({ place_id: place(order[k]!), user_id: user(order[k]!), pass_id: pass(k), expires_at: at })) },
  });
  const used = (k: number): QueueEvent => ({ type: 'PassUsed', data: { concert_id, place_id: place(order[k]!), pass_id: pass(k), user_id: user(order[k]!), booking_id: booking(k), used_at: at } });
  const events: QueueEvent[] = [
    { type: 'WaitingRoomOpened', data: { concert_id, opens_at: at, opened_at: at } },
    ...joins.slice(0, 6),
    { type: 'LotteryDrawn', data: { concert_id, seed, algorithm: LOTTERY_ALGORITHM, entrants: 6, drawn_at: at } },
    admit([0, 1, 2]), used(0), used(1),
    { type: 'PassExpired', data: { concert_id, place_id: place(order[2]!), pass_id: pass(2), user_id: user(order[2]!), expires_at: at, expired_at: at } },
    ...joins.slice(6),
    admit([3, 4]), used(3), used(4),
    { type: 'QueueSoldOut', data: { concert_id, waiting: 4, sold_out_at: at } },
  ];
  return { events, bookings: new Map([...[0, 1, 3, 4].map((k) => [booking(k), 'sold'] as const), [booking(70), 'released']]) };
}

t.test('a fair sale: no fault, and the figures it read', async (t) => {
  const { events, bookings } = fairSale();
  const audit = auditQueue(events, bookings);
  t.strictSame(audit.faults, []);
  t.strictSame([audit.places, audit.lotteryEntrants, audit.arrivals, audit.admitted.length, audit.used, audit.expired, audit.soldOutWaiting], [9, 6, 3, 5, 4, 1, 4]);
  t.strictSame(audit.heldWithoutPass, [booking(70)], 'a hold released without a pass spent is told apart, not a fault');
});

const mutants: [string, (sale: ReturnType<typeof fairSale>) => void, RegExp][] = [
  ['two admissions swapped', ({ events }) => {
    const admitted = events.find((event): event is VisitorsAdmitted => event.type === 'VisitorsAdmitted')!;
    admitted.data.admissions.reverse();
  }, /its turn was/],
  ['the lottery order ignored (joins admitted in recorded order)', ({ events }) => {
    const lottery = events.find((event) => event.type === 'LotteryDrawn');
    if (lottery?.type === 'LotteryDrawn') lottery.data.seed = 'cd'.repeat(32);
  }, /its turn was/],
  ['a booking sold without a pass', ({ bookings }) => void bookings.set(booking(99), 'sold'), /with 0 passes/],
  ['one pass used for two bookings', ({ events, bookings }) => {
    const first = events.find((event) => event.type === 'PassUsed')!;
    if (first.type === 'PassUsed') events.push({ type: 'PassUsed', data: { ...first.data, booking_id: booking(98) } });
    bookings.set(booking(98), 'sold');
  }, /was used after it was used/],
  ['an account with two places', ({ events }) => void events.splice(1, 0, { type: 'QueueJoined', data: { concert_id, place_id: place(50), user_id: user(0), entry: 'lottery', joined_at: at } }), /holds two places/],
  ['admitted after the sold out', ({ events }) => void events.push({ type: 'VisitorsAdmitted', data: { concert_id, admitted_at: at, admissions: [{ place_id: place(8), user_id: user(8), pass_id: pass(60), expires_at: at }] } }), /after the queue sold out/],
  ['sold out telling the wrong number waiting', ({ events }) => {
    const soldOut = events.at(-1)!;
    if (soldOut.type === 'QueueSoldOut') soldOut.data.waiting = 3;
  }, /QueueSoldOut told 3 waiting/],
];

for (const [name, mutate, fault] of mutants) {
  t.test(`found: ${name}`, async (t) => {
    const sale = fairSale();
    mutate(sale);
    const { faults } = auditQueue(sale.events, sale.bookings);
    t.ok(faults.some((line) => fault.test(line)), `a fault matching ${String(fault)} among ${JSON.stringify(faults)}`);
  });
}
