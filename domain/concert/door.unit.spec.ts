/** The door's rules on the concert stream: a ticket is admitted once, at its current revision, and transferred before the concert only. */
import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { CONCERT, REGULAR, T0, held, holdByClass, minutesAfter, onSale, regularSeat } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { concertDecider, fromSnapshot, toSnapshot, type AdmitTicket, type ConcertEvent, type ConcertSnapshot, type TransferTicket } from './index.ts';

const concert = (history: ConcertEvent[]) => given(concertDecider, history);
const STARTS = '2027-02-14T12:00:00.000Z';
const AT_THE_DOOR = minutesAfter(STARTS, -30);
const TICKET = regularSeat(1);

/** b1 (u1) bought regular seats 1 and 2 for ktp-of-u1; the concert allows 2 tickets per KTP. */
function sold(): ConcertEvent[] {
  const history = onSale({ max_tickets_per_ktp: 2 });
  const hold = held(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 2 }]), history);
  const sale: ConcertEvent = { type: 'SeatsSold', data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: hold.data.seats.map((s) => s.seat_id), transaction_id: 'tx-1', sold_at: T0 } };
  return [...history, hold, sale];
}

const admit = (overrides: Partial<AdmitTicket> = {}): AdmitTicket => ({
  type: 'AdmitTicket', ticket_id: TICKET, revision: 1, gate: 'north-1', scanned_at: AT_THE_DOOR, now: AT_THE_DOOR, ...overrides,
});
const transfer = (overrides: Partial<TransferTicket> = {}): TransferTicket => ({
  type: 'TransferTicket', ticket_id: TICKET, user_id: 'u1', holder: sealed('new holder'), ktp_fingerprint: 'ktp-of-friend', now: T0, ...overrides,
});
const admitted = (gate = 'north-1', at = AT_THE_DOOR): ConcertEvent => ({
  type: 'TicketAdmitted', data: { concert_id: CONCERT, booking_id: 'b1', ticket_id: TICKET, revision: 1, gate, scanned_at: at, admitted_at: at },
});

t.test('a sold ticket at its revision is admitted once; the second scan is told when and where', async (t) => {
  concert(sold()).when(admit()).then(t, [admitted()]);
  concert([...sold(), admitted('south-2')]).when(admit({ gate: 'north-1' })).thenThrows(t, 'ALREADY_ADMITTED');
  let error: unknown;
  try {
    concertDecider.decide(admit(), fold(concertDecider, [...sold(), admitted('south-2')]));
  } catch (caught) {
    error = caught;
  }
  t.match(error, { code: 'ALREADY_ADMITTED', details: { gate: 'south-2', admitted_at: AT_THE_DOOR } });
});

t.test('a seat that was never paid, and every ticket of a cancelled concert, are void', async (t) => {
  const history = onSale();
  const hold = held(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 1 }]), history);
  concert([...history, hold]).when(admit()).thenThrows(t, 'TICKET_VOID');
  concert(sold()).when(admit({ ticket_id: regularSeat(9) })).thenThrows(t, 'TICKET_VOID');
  const cancelled: ConcertEvent = { type: 'ConcertCancelled', data: { concert_id: CONCERT, reason: 'storm', cancelled_at: T0 } };
  concert([...sold(), cancelled]).when(admit()).thenThrows(t, 'TICKET_VOID');
  concert([...sold(), cancelled]).when(transfer()).thenThrows(t, 'TICKET_VOID');
});

t.test('a transfer moves the ticket to revision 2: the old QR is superseded, the new one gets in', async (t) => {
  const [moved] = concert(sold()).when(transfer()).then(t, [{
    type: 'TicketTransferred',
    data: { concert_id: CONCERT, booking_id: 'b1', ticket_id: TICKET, revision: 2, holder: sealed('new holder'), ktp_fingerprint: 'ktp-of-friend', transferred_at: T0 },
  }]);
  const after = [...sold(), moved as ConcertEvent];
  concert(after).when(admit({ revision: 1 })).thenThrows(t, 'TICKET_SUPERSEDED');
  concert(after).when(admit({ revision: 3 })).thenThrows(t, 'INVALID_TICKET');
  t.equal(concert(after).when(admit({ revision: 2 })).events()[0]?.type, 'TicketAdmitted');
  t.match(concert(after).when(transfer({ ktp_fingerprint: 'ktp-of-third' })).events()[0], { type: 'TicketTransferred', data: { revision: 3 } }, 'and can move on again');
});

t.test('only the buyer transfers, before the concert starts and before the ticket was used', async (t) => {
  concert(sold()).when(transfer({ user_id: 'u2' })).thenThrows(t, 'TICKET_NOT_FOUND');
  concert(sold()).when(transfer({ ticket_id: regularSeat(9) })).thenThrows(t, 'TICKET_NOT_FOUND');
  concert(sold()).when(transfer({ now: STARTS })).thenThrows(t, 'TRANSFER_CLOSED');
  concert([...sold(), admitted()]).when(transfer()).thenThrows(t, 'ALREADY_ADMITTED');
});

t.test('the new holder counts against the per-KTP limit, and the old one no longer does', async (t) => {
  // ktp-of-u1 holds both tickets (the limit, 2): a friend may take one, and u1 may then buy one more.
  const history = sold();
  const [toFriend] = concert(history).when(transfer()).events();
  const state = fold(concertDecider, [...history, toFriend as ConcertEvent]);
  t.equal(state.ticketsByKtp.get('ktp-of-u1'), 1);
  t.equal(state.ticketsByKtp.get('ktp-of-friend'), 1);
  // A holder already at the limit takes no more.
  const [second] = concert([...history, toFriend as ConcertEvent]).when(transfer({ ticket_id: regularSeat(2) })).events();
  t.equal(fold(concertDecider, [...history, toFriend as ConcertEvent, second as ConcertEvent]).ticketsByKtp.get('ktp-of-friend'), 2);
  concert([...history, toFriend as ConcertEvent, second as ConcertEvent]).when(transfer({ ticket_id: regularSeat(2), ktp_fingerprint: 'ktp-of-friend' }))
    .then(t, [{ type: 'TicketTransferred', data: { concert_id: CONCERT, booking_id: 'b1', ticket_id: regularSeat(2), revision: 3, holder: sealed('new holder'), ktp_fingerprint: 'ktp-of-friend', transferred_at: T0 } }]);
  const full = onSale({ max_tickets_per_ktp: 1 });
  const hold = held(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 1 }]), full);
  const other = held(holdByClass('b2', 'u2', [{ ticket_class_id: REGULAR, quantity: 1 }], { ktp_fingerprints: ['ktp-of-friend'] }), [...full, hold]);
  const sale: ConcertEvent = { type: 'SeatsSold', data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: [TICKET], transaction_id: 'tx-1', sold_at: T0 } };
  concert([...full, hold, other, sale]).when(transfer()).thenThrows(t, 'KTP_LIMIT_REACHED');
});

t.test('a snapshot keeps the door: revisions, admissions and when the concert starts', async (t) => {
  const [moved] = concert(sold()).when(transfer()).events();
  const history = [...sold(), moved as ConcertEvent, { ...admitted(), data: { ...admitted().data, revision: 2 } } as ConcertEvent];
  const snapshot = JSON.parse(JSON.stringify(toSnapshot(fold(concertDecider, history)))) as ConcertSnapshot;
  t.equal(snapshot.version, 5);
  const restored = fromSnapshot(snapshot);
  t.equal(restored.startsAtMs, Date.parse(STARTS));
  t.same(restored.tickets.get(restored.classById.get(REGULAR)?.firstSeat ?? -1), { bookingId: 'b1', revision: 2, holder: sealed('new holder'), admittedAt: AT_THE_DOOR, gate: 'north-1' });
  t.throws(() => concertDecider.decide(admit({ revision: 2 }), restored), { code: 'ALREADY_ADMITTED' });
  t.equal(concertDecider.decide(admit({ ticket_id: regularSeat(2) }), restored)[0]?.type, 'TicketAdmitted', 'the other ticket is still valid');
  t.equal(restored.ticketsByKtp.get('ktp-of-friend'), 1);
});
