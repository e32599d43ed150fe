/** The concert's waiting room flag: switched on and off as a detail, and what it asks of a hold. */
import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { T0, VIP, holdByClass, onSale } from '../../test/support/concert-fixtures.ts';
import { fold } from '../shared/decider.ts';
import { concertDecider, fromSnapshot, toSnapshot, type ChangeConcert, type ConcertCommand, type ConcertEvent } from './index.ts';

const concert = (history: ConcertEvent[]) => given(concertDecider, history);
const change = (changes: ChangeConcert['changes']): ChangeConcert => ({ type: 'ChangeConcert', changes, prices: [], now: T0 });
const after = (history: ConcertEvent[], command: ConcertCommand): ConcertEvent[] =>
  [...history, ...concertDecider.decide(command, fold(concertDecider, history))];
const hold = (passId?: string | null) => holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], passId === undefined ? {} : { pass_id: passId });

t.test('scheduled with a waiting room, the event says so and the state has it; without, it is off', async (t) => {
  const withRoom = onSale({ waiting_room: true });
  t.match(withRoom[0], { type: 'ConcertScheduled', data: { waiting_room: true } });
  t.equal(fold(concertDecider, withRoom).details?.waiting_room, true);
  const plain = onSale();
  t.notOk(plain[0]?.type === 'ConcertScheduled' && 'waiting_room' in plain[0].data, 'no flag recorded when off');
  t.equal(fold(concertDecider, plain).details?.waiting_room, false);
});

t.test('an edit switches it on, then off; repeating the current value appends nothing', async (t) => {
  const on = concert(onSale()).when(change({ waiting_room: true })).events();
  t.match(on, [{ type: 'ConcertDetailsChanged', data: { waiting_room: true } }]);
  const withRoom = [...onSale(), ...on];
  concert(withRoom).when(change({ waiting_room: true })).then(t, []);
  const off = concert(withRoom).when(change({ waiting_room: false })).events();
  t.match(off, [{ type: 'ConcertDetailsChanged', data: { waiting_room: false } }]);
  t.equal(fold(concertDecider, [...withRoom, ...off]).details?.waiting_room, false);
  concert(onSale()).when(change({ waiting_room: false })).then(t, []);
});

t.test('with the room on, a hold needs a pass; with it off (or switched off), none', async (t) => {
  const withRoom = onSale({ waiting_room: true });
  concert(withRoom).when(hold()).thenThrows(t, 'QUEUE_REQUIRED');
  concert(withRoom).when(hold(null)).thenThrows(t, 'QUEUE_REQUIRED');
  t.equal(concert(withRoom).when(hold('pass-1')).events()[0]?.type, 'SeatsHeld');
  t.equal(concert(onSale()).when(hold()).events()[0]?.type, 'SeatsHeld');
  const switchedOff = after(withRoom, change({ waiting_room: false }));
  t.equal(concert(switchedOff).when(hold()).events()[0]?.type, 'SeatsHeld');
  const switchedOn = after(onSale(), change({ waiting_room: true }));
  concert(switchedOn).when(hold()).thenThrows(t, 'QUEUE_REQUIRED');
});

t.test('one pass, one booking: the hold names its pass; the pass holds nothing for another booking, also once that one is released; the same booking again is its own retry', async (t) => {
  const withRoom = onSale({ waiting_room: true });
  const held = after(withRoom, hold('pass-1'));
  t.match(held.at(-1), { type: 'SeatsHeld', data: { booking_id: 'b1', pass_id: 'pass-1' } });
  const other = holdByClass('b2', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], { pass_id: 'pass-1' });
  const released = after(held, { type: 'ReleaseHold', booking_id: 'b1', reason: 'cancelled', now: T0 });
  concert(released).when(other).thenThrows(t, 'INVALID_PASS');
  concert(held).when(hold('pass-1')).thenThrows(t, 'BOOKING_ALREADY_EXISTS');
  t.equal(concert(released).when(holdByClass('b3', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], { pass_id: 'pass-2' })).events()[0]?.type, 'SeatsHeld', 'another pass holds');
  const snapshot = toSnapshot(fold(concertDecider, released));
  t.same(fromSnapshot(snapshot).passes, new Map([['pass-1', 'b1']]), 'a snapshot keeps which booking each pass bought');
});
