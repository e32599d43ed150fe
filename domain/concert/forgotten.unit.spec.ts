/**
 * Released holds are remembered for a bounded window (the most recent `releasedLimit`, in release
 * order); older ones are forgotten, and each decision that asked about them either needs no
 * memory (a release again) or says it cannot tell (HOLD_FORGOTTEN), so its caller asks the
 * booking's stream. A small limit here stands for RELEASED_HOLDS_KEPT.
 */
import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { HOLD_END, holdByClass, onSale, REGULAR, release, sell } from '../../test/support/concert-fixtures.ts';
import { fold, type Owned } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { concertDecider, fromSnapshot, initialState, RELEASED_HOLDS_KEPT, toSnapshot, type ConcertCommand, type ConcertEvent, type ConcertSnapshot, type ConcertState } from './index.ts';

const LIMIT = 2;
const forgetful = { ...concertDecider, initialState: () => initialState(LIMIT) };
const concert = (history: ConcertEvent[]) => given(forgetful, history);
const one = [{ ticket_class_id: REGULAR, quantity: 1 }];

/** Decides `commands` one after another from `history`, returning every event. */
function decided(history: ConcertEvent[], commands: ConcertCommand[]): ConcertEvent[] {
  let state = fold(forgetful, history);
  const events = [...history];
  for (const command of commands) {
    for (const event of forgetful.decide(command, state)) {
      state = forgetful.evolve(state, event);
      events.push(event);
    }
  }
  return events;
}

/** b1, b2, b3 held then released (b1 first, so forgotten), b4 held. */
const history = (): ConcertEvent[] => decided(onSale(), [
  holdByClass('b1', 'u1', one), holdByClass('b2', 'u2', one), holdByClass('b3', 'u3', one), holdByClass('b4', 'u4', one),
  release('b1', 'expired', HOLD_END), release('b2', 'cancelled'), release('b3', 'payment_failed'),
]);

t.test('the state remembers the most recent released holds, in release order, and counts the others', async (t) => {
  const state = fold(forgetful, history());
  t.same([...state.released], [['b2', 'cancelled'], ['b3', 'payment_failed']]);
  t.equal(state.forgotten, 1);
  t.same([...state.holds.keys()], ['b4'], 'a released hold leaves the holds');
  t.equal(initialState().releasedLimit, RELEASED_HOLDS_KEPT, 'the production window');
  t.equal(RELEASED_HOLDS_KEPT, 1_000);
});

t.test('a hold for a booking id the concert may have forgotten is refused until the caller says the id never held seats', async (t) => {
  concert(history()).when(holdByClass('b1', 'u9', one)).thenThrows(t, 'HOLD_FORGOTTEN');
  concert(history()).when(holdByClass('b5', 'u9', one)).thenThrows(t, 'HOLD_FORGOTTEN');
  concert(history()).when(holdByClass('b2', 'u9', one, { never_held: true })).thenThrows(t, 'BOOKING_ALREADY_EXISTS');
  const [held] = concert(history()).when(holdByClass('b5', 'u9', one, { never_held: true })).events();
  t.equal(held?.type, 'SeatsHeld');
  // Before anything is forgotten, no caller needs to say so.
  const [first] = given(concertDecider, history()).when(holdByClass('b5', 'u9', one)).events();
  t.equal(first?.type, 'SeatsHeld');
});

t.test('releasing a forgotten hold again is a no-op, as releasing a remembered one is', async (t) => {
  concert(history()).when(release('b1', 'expired', HOLD_END)).then(t, []);
  concert(history()).when(release('b2', 'cancelled')).then(t, []);
  // Never held here, on a concert that forgot nothing: not found, as before.
  given(concertDecider, onSale()).when(release('b9', 'cancelled')).thenThrows(t, 'HOLD_NOT_FOUND');
});

t.test('a payment for a forgotten hold is refused (HOLD_FORGOTTEN: no seats sold), for a remembered one with its reason', async (t) => {
  concert(history()).when(sell('b1', 'tx-late')).thenThrows(t, 'HOLD_FORGOTTEN');
  concert(history()).when({ type: 'ImportSale', booking_id: 'b1', transaction_id: 'tx-late', now: '2026-12-01T10:05:00.000Z' }).thenThrows(t, 'HOLD_FORGOTTEN');
  concert(history()).when(sell('b2', 'tx-late')).thenThrows(t, 'HOLD_RELEASED');
  const cancelled = decided(history(), [{ type: 'CancelConcert', reason: 'storm', now: '2026-12-01T10:05:00.000Z' }]);
  concert(cancelled).when(sell('b1', 'tx-late')).thenThrows(t, 'CONCERT_CANCELLED');
});

function outcome(state: Owned<ConcertState>, command: ConcertCommand): string {
  try {
    return forgetful.decide(command, state).map((event) => event.type).join(',') || 'nothing';
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

t.test('a fold from the first event and one from a snapshot taken anywhere remember the same released holds and decide alike', async (t) => {
  const commands: ConcertCommand[] = [];
  for (let i = 1; i <= 8; i++) {
    commands.push(holdByClass(`b${i}`, `u${i}`, one, { never_held: true }));
    if (i % 3 !== 0) commands.push(release(`b${i}`, i % 2 === 0 ? 'cancelled' : 'expired', HOLD_END));
  }
  const probes = (): ConcertCommand[] => [1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => [holdByClass(`b${i}`, 'u99', one), sell(`b${i}`, 'tx'), release(`b${i}`, 'cancelled')]);
  let whole = fold(forgetful, onSale());
  let restored = whole;
  for (const command of commands) {
    const events = forgetful.decide(command, whole);
    for (const event of events) whole = forgetful.evolve(whole, event);
    // From a snapshot of the last state, then the same events.
    restored = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(restored))) as ConcertSnapshot, LIMIT);
    for (const event of events) restored = forgetful.evolve(restored, event);
    t.equal(JSON.stringify(toSnapshot(restored)), JSON.stringify(toSnapshot(whole)), `after ${command.type} ${'booking_id' in command ? command.booking_id : ''}`);
    for (const probe of probes()) if (outcome(restored, probe) !== outcome(whole, probe)) t.fail(`${probe.type} ${'booking_id' in probe ? probe.booking_id : ''} decided differently`);
  }
  t.equal(whole.forgotten, 4, 'b1, b2, b4, b5 forgotten');
});

t.test('the snapshot carries only the window, however many holds were released', async (t) => {
  const commands: ConcertCommand[] = [];
  for (let i = 0; i < 500; i++) commands.push(holdByClass(`b${i}`, `u${i}`, one, { never_held: true }), release(`b${i}`, 'cancelled'));
  const snapshot = toSnapshot(fold(forgetful, decided(onSale(), commands)));
  t.same(snapshot.released, ['b498', 'cancelled', 'b499', 'cancelled']);
  t.equal(snapshot.forgotten, 498);
  t.same(snapshot.holds, []);
  // A snapshot from a wider window is narrowed on restore, in release order.
  const narrowed = fromSnapshot({ ...snapshot, released: ['b1', 'cancelled', 'b2', 'expired', 'b3', 'cancelled'], forgotten: 5 }, LIMIT);
  t.same([...narrowed.released.keys()], ['b2', 'b3']);
  t.equal(narrowed.forgotten, 6);
});
