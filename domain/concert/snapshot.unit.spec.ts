import t from 'tap';
import { holdByClass, HOLD_END, minutesAfter, onSale, REGULAR, release, sell } from '../../test/support/concert-fixtures.ts';
import { fold, type Owned } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { concertDecider, fromSnapshot, isCurrentSnapshot, toSnapshot, type ConcertCommand, type ConcertSnapshot, type ConcertState } from './index.ts';

/** A concert whose commands are decided one after another, each against what the last one left. */
interface Concert { state: Owned<ConcertState> }

function run(concert: Concert, command: ConcertCommand): string {
  try {
    const events = concertDecider.decide(command, concert.state);
    for (const event of events) concert.state = concertDecider.evolve(concert.state, event);
    return events.map((event) => event.type).join(',') || 'nothing';
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

/** b1 expired, b2 cancelled, b3 held, b4 sold. */
function sale(): Concert {
  const concert = { state: fold(concertDecider, onSale()) };
  const tickets = [{ ticket_class_id: REGULAR, quantity: 2 }];
  for (const [booking, user] of [['b1', 'u1'], ['b2', 'u2'], ['b3', 'u3'], ['b4', 'u4']] as const) run(concert, holdByClass(booking, user, tickets));
  run(concert, release('b1', 'expired', minutesAfter(HOLD_END, 1)));
  run(concert, release('b2', 'cancelled'));
  run(concert, sell('b4', 'tx-4'));
  return concert;
}

const probes = (): ConcertCommand[] => [
  holdByClass('b1', 'u9', [{ ticket_class_id: REGULAR, quantity: 1 }]),
  sell('b1', 'tx-late'),
  sell('b2', 'tx-late'),
  release('b2', 'cancelled'),
  sell('b4', 'tx-4'),
  sell('b4', 'tx-other'),
  holdByClass('b5', 'u3', [{ ticket_class_id: REGULAR, quantity: 1 }]),
  holdByClass('b6', 'u2', [{ ticket_class_id: REGULAR, quantity: 1 }]),
  release('b3', 'cancelled'),
];

t.test('a restored snapshot decides every command as the state it was taken from, with released holds kept small', async (t) => {
  const snapshot = JSON.parse(JSON.stringify(toSnapshot(sale().state))) as ConcertSnapshot;
  t.equal(snapshot.version, 5);
  t.same(snapshot.released, ['b1', 'expired', 'b2', 'cancelled'], 'a released hold is its booking id and reason');
  t.equal(snapshot.forgotten, 0);
  t.same(snapshot.holds.map((hold) => hold[0]), ['b3', 'b4'], 'held and sold ones whole');
  const original = sale();
  const restored = { state: fromSnapshot(snapshot) };
  for (const command of probes()) t.equal(run(restored, command), run(original, command), `${command.type} ${'booking_id' in command ? command.booking_id : ''}`);
});

t.test('a snapshot of an older version is not restored: it knew nothing of the door, of when the concert starts or of its editable details, or kept every released hold', async (t) => {
  const current = toSnapshot(sale().state);
  t.equal(isCurrentSnapshot(current), true);
  for (const version of [1, 2, 3, 4]) {
    const old = { ...current, version } as unknown as ConcertSnapshot;
    t.equal(isCurrentSnapshot(old), false, `version ${version} is folded from the stream instead`);
    t.throws(() => fromSnapshot(old), /not understood/);
  }
});
