/** ImportSale: the older system's sales taken over by import:legacy, its late payments included. */
import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { CONCERT, HOLD_END, T0, held, holdBySeat, minutesAfter, onSale, release, vipSeat } from '../../test/support/concert-fixtures.ts';
import type { ImportSale } from './commands.ts';
import { concertDecider, type ConcertEvent } from './index.ts';

const concert = (history: ConcertEvent[]) => given(concertDecider, history);
const importSale = (booking: string, transaction = 'TXN-1', now = minutesAfter(T0, 20)): ImportSale => ({ type: 'ImportSale', booking_id: booking, transaction_id: transaction, now });

t.test('a sale the older system made after the hold\'s time is taken: its seats are sold to that booking', async (t) => {
  const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1), vipSeat(2)]))];
  concert(history).when(importSale('b1', 'TXN-1', minutesAfter(HOLD_END, 5))).then(t, [{
    type: 'SeatsSold',
    data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: [vipSeat(1), vipSeat(2)], transaction_id: 'TXN-1', sold_at: minutesAfter(HOLD_END, 5) },
  }]);
});

t.test('taken again with the same payment it decides nothing; another payment cannot buy sold seats', async (t) => {
  const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1)]))];
  const sold = concert(history).when(importSale('b1')).events();
  concert([...history, ...sold]).when(importSale('b1')).then(t, []);
  concert([...history, ...sold]).when(importSale('b1', 'TXN-2')).thenThrows(t, 'HOLD_ALREADY_SOLD');
});

t.test('a released hold, an unknown booking or a cancelled concert sells nothing', async (t) => {
  const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1)]))];
  const released = concertDecider.decide(release('b1', 'cancelled'), history.reduce(concertDecider.evolve, concertDecider.initialState()));
  concert([...history, ...released]).when(importSale('b1')).thenThrows(t, 'HOLD_RELEASED');
  concert(history).when(importSale('b2')).thenThrows(t, 'HOLD_NOT_FOUND');
  const cancelled = concertDecider.decide({ type: 'CancelConcert', reason: 'storm', now: T0 }, history.reduce(concertDecider.evolve, concertDecider.initialState()));
  concert([...history, ...cancelled]).when(importSale('b1')).thenThrows(t, 'CONCERT_CANCELLED');
});
