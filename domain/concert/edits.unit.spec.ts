/** Sales windows and an admin's edits of a scheduled concert: details, prices, classes and seats. */
import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import {
  CONCERT,
  HOLD_END,
  REGULAR,
  T0,
  VIP,
  held,
  holdByClass,
  holdBySeat,
  minutesAfter,
  onSale,
  regularSeat,
  release,
  sell,
  vipSeat,
} from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import {
  concertDecider,
  fromSnapshot,
  toSnapshot,
  type AddTicketClass,
  type ChangeConcert,
  type ConcertCommand,
  type ConcertEvent,
  type ConcertSnapshot,
  type ConcertState,
} from './index.ts';

const concert = (history: ConcertEvent[]) => given(concertDecider, history);
const DATE = '2027-02-14T12:00:00.000Z';
const OPENS = minutesAfter(T0, 60);
const NEW_CLASS = '3c2d1e0f-aaaa-4bbb-8ccc-0123456789ab';

const change = (changes: ChangeConcert['changes'], prices: ChangeConcert['prices'] = [], now = T0): ChangeConcert =>
  ({ type: 'ChangeConcert', changes, prices, now });
const addClass = (name: string, price: number, seatCount: number, id = NEW_CLASS): AddTicketClass =>
  ({ type: 'AddTicketClass', ticket_class_id: id, name, price, seat_count: seatCount, now: T0 });

/** The events a command decides against a history, appended to it. */
function after(history: ConcertEvent[], command: ConcertCommand): ConcertEvent[] {
  return [...history, ...concertDecider.decide(command, fold(concertDecider, history))];
}

function refusal(history: ConcertEvent[], command: ConcertCommand): DomainError | undefined {
  try {
    concertDecider.decide(command, fold(concertDecider, history));
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  return undefined;
}

t.test('sales windows', async (t) => {
  t.test('before sales open a hold is refused with when they open; from that moment it is accepted', async (t) => {
    const history = onSale({ sales_open_at: OPENS });
    const early = holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }]);
    concert(history).when(early).thenThrows(t, 'SALES_NOT_OPEN');
    t.match(refusal(history, early), { code: 'SALES_NOT_OPEN', details: { opens_at: OPENS } });
    const [hold] = concert(history).when({ ...early, now: OPENS, expires_at: minutesAfter(OPENS, 15) }).events();
    t.equal(hold?.type, 'SeatsHeld');
  });

  t.test('without a close of their own, sales close when the concert starts', async (t) => {
    const atTheDate = holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], { now: DATE, expires_at: minutesAfter(DATE, 15) });
    concert(onSale()).when(atTheDate).thenThrows(t, 'SALES_CLOSED');
    const justBefore = { ...atTheDate, now: minutesAfter(DATE, -1) };
    t.equal(concert(onSale()).when(justBefore).events()[0]?.type, 'SeatsHeld');
    t.test('a concert dated in the past cannot be booked', async (t) => {
      concert(onSale({ date: minutesAfter(T0, -60) })).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }])).thenThrows(t, 'SALES_CLOSED');
    });
  });

  t.test('an explicit close wins over the date', async (t) => {
    const history = onSale({ sales_close_at: minutesAfter(T0, 30) });
    concert(history).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], { now: minutesAfter(T0, 30), expires_at: minutesAfter(T0, 45) }))
      .thenThrows(t, 'SALES_CLOSED');
  });

  t.test('a window that opens at or after its close (the date, by default) is refused', async (t) => {
    concert([]).when({ ...onSaleCommand(), sales_open_at: DATE }).thenThrows(t, 'INVALID_SALES_WINDOW');
    concert(onSale()).when(change({ sales_open_at: minutesAfter(DATE, 1) })).thenThrows(t, 'INVALID_SALES_WINDOW');
    concert(onSale({ sales_open_at: OPENS })).when(change({ date: OPENS })).thenThrows(t, 'INVALID_SALES_WINDOW');
    concert(onSale({ sales_open_at: OPENS })).when(change({ sales_close_at: T0 })).thenThrows(t, 'INVALID_SALES_WINDOW');
  });

  t.test('a concert whose sales open later is opened now by an edit, and closed by another', async (t) => {
    const history = onSale({ sales_open_at: OPENS });
    const opened = after(history, change({ sales_open_at: null }));
    t.strictSame(opened.at(-1), { type: 'ConcertDetailsChanged', data: { concert_id: CONCERT, sales_open_at: null, changed_at: T0 } });
    t.equal(concert(opened).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }])).events()[0]?.type, 'SeatsHeld');
    const closed = after(opened, change({ sales_close_at: T0 }));
    concert(closed).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }])).thenThrows(t, 'SALES_CLOSED');
  });
});

function onSaleCommand() {
  return { type: 'ScheduleConcert' as const, concert_id: CONCERT, name: 'N', artist: 'A', date: DATE, venue: 'V', description: null, image_url: null,
    max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null, publish: true, now: T0,
    ticket_classes: [{ ticket_class_id: VIP, name: 'VIP', price: 1, seat_count: 1 }] };
}

t.test('editing the details', async (t) => {
  t.test('only the fields that change are recorded; null clears an optional one', async (t) => {
    const history = onSale({ description: 'old words', max_tickets_per_ktp: 4 });
    concert(history).when(change({
      name: 'Senandung Senja', // unchanged: not recorded
      venue: '  GBK  ',
      date: '2027-03-01T19:00:00+07:00',
      description: null,
      max_tickets_per_ktp: null,
    })).then(t, [{
      type: 'ConcertDetailsChanged',
      data: { concert_id: CONCERT, venue: 'GBK', date: '2027-03-01T12:00:00.000Z', description: null, max_tickets_per_ktp: null, changed_at: T0 },
    }]);
  });

  t.test('an empty edit, or one that repeats the current values, decides nothing', async (t) => {
    concert(onSale()).when(change({})).then(t, []);
    concert(onSale()).when(change({ name: 'Senandung Senja', date: DATE, description: null }, [{ ticket_class_id: VIP, price: 1_500_000 }])).then(t, []);
  });

  t.test('the per-KTP limit follows the edit', async (t) => {
    const history = after(onSale(), change({ max_tickets_per_ktp: 1 }));
    concert(history).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 2 }])).thenThrows(t, 'KTP_LIMIT_REACHED');
  });

  t.test('moving the date moves the end of transfers and of sales', async (t) => {
    const moved = after(onSale(), change({ date: minutesAfter(T0, 10) }));
    concert(moved).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }], { now: minutesAfter(T0, 10), expires_at: minutesAfter(T0, 25) }))
      .thenThrows(t, 'SALES_CLOSED');
    t.equal(fold(concertDecider, moved).startsAtMs, Date.parse(minutesAfter(T0, 10)));
  });

  t.test('a cancelled concert is not edited, and gets no classes nor seats', async (t) => {
    const cancelled = after(onSale(), { type: 'CancelConcert', reason: 'storm', now: T0 });
    concert(cancelled).when(change({ name: 'Another' })).thenThrows(t, 'CONCERT_CANCELLED');
    concert(cancelled).when(addClass('Balcony', 1, 5)).thenThrows(t, 'CONCERT_CANCELLED');
    concert(cancelled).when(addClass('VIP', 1_500_000, 5)).thenThrows(t, 'CONCERT_CANCELLED');
  });

  t.test('a required field is neither emptied nor cleared; an unscheduled concert is not found', async (t) => {
    concert(onSale()).when(change({ name: '   ' })).thenThrows(t, 'INVALID_CONCERT_DETAILS');
    concert(onSale()).when(change({ max_tickets_per_ktp: 0 })).thenThrows(t, 'INVALID_CONCERT_DETAILS');
    concert([]).when(change({ name: 'x' })).thenThrows(t, 'CONCERT_NOT_FOUND');
  });
});

t.test('prices', async (t) => {
  t.test('a new price applies to holds made afterwards; a hold made before keeps its own', async (t) => {
    const before = held(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }]));
    const history = [...onSale(), before];
    const [priced] = concert(history).when(change({}, [{ ticket_class_id: VIP, price: 2_000_000 }])).then(t, [{
      type: 'TicketClassPriceChanged',
      data: { concert_id: CONCERT, ticket_class_id: VIP, price: 2_000_000, previous_price: 1_500_000, changed_at: T0 },
    }]);
    const repriced = [...history, priced as ConcertEvent];
    const [later] = concert(repriced).when(holdByClass('b2', 'u2', [{ ticket_class_id: VIP, quantity: 2 }])).events();
    t.match(later, { type: 'SeatsHeld', data: { total_price: 4_000_000, seats: [{ price: 2_000_000 }, { price: 2_000_000 }] } });
    t.equal(before.data.total_price, 1_500_000);
    // The earlier hold is sold as it was held.
    t.match(concert(repriced).when(sell('b1')).events(), [{ type: 'SeatsSold', data: { seat_ids: [vipSeat(1)] } }]);
  });

  t.test('an unknown class, a class priced twice and a price that is not whole rupiah are refused', async (t) => {
    concert(onSale()).when(change({}, [{ ticket_class_id: NEW_CLASS, price: 1 }])).thenThrows(t, 'UNKNOWN_TICKET_CLASS');
    concert(onSale()).when(change({}, [{ ticket_class_id: VIP, price: 1 }, { ticket_class_id: VIP, price: 2 }])).thenThrows(t, 'DUPLICATE_TICKET_CLASS');
    concert(onSale()).when(change({}, [{ ticket_class_id: VIP, price: 1.5 }])).thenThrows(t, 'INVALID_TICKET_CLASS');
  });
});

t.test('classes and seats added', async (t) => {
  t.test('a new name adds a class, on sale at once, its seats numbered from 1', async (t) => {
    const [added] = concert(onSale()).when(addClass(' Balcony ', 250_000, 4)).then(t, [{
      type: 'TicketClassAdded',
      data: { concert_id: CONCERT, ticket_class: { ticket_class_id: NEW_CLASS, name: 'Balcony', price: 250_000, seat_count: 4 }, added_at: T0 },
    }]);
    const history = [...onSale(), added as ConcertEvent];
    const [hold] = concert(history).when(holdByClass('b1', 'u1', [{ ticket_class_id: NEW_CLASS, quantity: 2 }])).events();
    t.match(hold, { data: { seats: [{ seat_number: 1, ticket_class_id: NEW_CLASS, price: 250_000 }, { seat_number: 2 }], total_price: 500_000 } });
    t.equal(fold(concertDecider, history).seatStatus.length, 17);
  });

  t.test('an existing name grows that class to the total given: never fewer, the same total is nothing', async (t) => {
    concert(onSale()).when(addClass('vip', 1_500_000, 5)).then(t, [{
      type: 'SeatsAdded', data: { concert_id: CONCERT, ticket_class_id: VIP, added: 2, seat_count: 5, added_at: T0 },
    }]);
    concert(onSale()).when(addClass('VIP', 1_500_000, 3)).then(t, []);
    concert(onSale()).when(addClass('VIP', 1_500_000, 2)).thenThrows(t, 'INVALID_TICKET_CLASS');
    concert(onSale()).when(addClass('VIP', 9, 5)).thenThrows(t, 'DUPLICATE_TICKET_CLASS');
  });

  t.test('a concert stays within its seat limit; a new class needs an unused id', async (t) => {
    concert(onSale()).when(addClass('Field', 1, 199_988)).thenThrows(t, 'TOO_MANY_SEATS');
    t.equal(concert(onSale()).when(addClass('Field', 1, 199_987)).events()[0]?.type, 'TicketClassAdded');
    concert(onSale()).when(addClass('Regular', 500_000, 199_998)).thenThrows(t, 'TOO_MANY_SEATS');
    concert(onSale()).when(addClass('Field', 1, 5, REGULAR)).thenThrows(t, 'DUPLICATE_TICKET_CLASS');
    concert(onSale()).when(addClass('', 1, 5)).thenThrows(t, 'INVALID_TICKET_CLASS');
  });

  /**
   * VIP is the first class: growing it moves every Regular seat in the state's one array. Holds,
   * sales, tickets, transfers and admissions made before must still name their own seats.
   */
  t.test('seats added to an earlier class: what was held, sold, transferred and admitted keeps its seats', async (t) => {
    const admitAt = minutesAfter(DATE, -30);
    let history = onSale();
    history = after(history, holdBySeat('b1', 'u1', [regularSeat(2), regularSeat(3)]));
    history = after(history, sell('b1'));
    history = after(history, holdBySeat('b2', 'u2', [regularSeat(5)]));
    history = after(history, holdByClass('b3', 'u3', [{ ticket_class_id: VIP, quantity: 3 }]));
    history = after(history, { type: 'TransferTicket', ticket_id: regularSeat(3), user_id: 'u1', holder: sealed('friend'), ktp_fingerprint: 'ktp-of-friend', now: T0 });
    history = after(history, addClass('VIP', 1_500_000, 6));
    const state: ConcertState = fold(concertDecider, history);
    t.equal(state.classById.get(REGULAR)?.firstSeat, 6, 'Regular moved up by the three seats added to VIP');
    t.equal(state.classById.get(VIP)?.available, 3, 'the three new VIP seats are available');

    // The moved seats are still what they were.
    concert(history).when(holdBySeat('b4', 'u4', [regularSeat(2)])).thenThrows(t, 'SEAT_UNAVAILABLE');
    concert(history).when(holdBySeat('b4', 'u4', [regularSeat(5)])).thenThrows(t, 'SEAT_UNAVAILABLE');
    concert(history).when(holdBySeat('b4', 'u4', [vipSeat(1)])).thenThrows(t, 'SEAT_UNAVAILABLE');
    t.match(concert(history).when(holdByClass('b4', 'u4', [{ ticket_class_id: REGULAR, quantity: 2 }])).events(),
      [{ data: { seats: [{ seat_id: regularSeat(1) }, { seat_id: regularSeat(4) }] } }], 'best available skips the moved held and sold seats');
    t.match(concert(history).when(holdByClass('b4', 'u4', [{ ticket_class_id: VIP, quantity: 3 }])).events(),
      [{ data: { seats: [{ seat_id: vipSeat(4), seat_number: 4 }, { seat_id: vipSeat(5) }, { seat_id: vipSeat(6) }] } }], 'the added seats are sold next');

    // The door: the transferred ticket is at revision 2, the other at 1, each admitted once.
    const admit = (ticket: string, revision: number) => ({ type: 'AdmitTicket' as const, ticket_id: ticket, revision, gate: 'g1', scanned_at: admitAt, now: admitAt });
    concert(history).when(admit(regularSeat(3), 1)).thenThrows(t, 'TICKET_SUPERSEDED');
    const admitted = after(history, admit(regularSeat(3), 2));
    concert(admitted).when(admit(regularSeat(3), 2)).thenThrows(t, 'ALREADY_ADMITTED');
    t.equal(concert(admitted).when(admit(regularSeat(2), 1)).events()[0]?.type, 'TicketAdmitted');
    concert(history).when(admit(regularSeat(5), 1)).thenThrows(t, 'TICKET_VOID');

    // Releasing and selling the moved holds frees and sells their own seats.
    const released = after(history, release('b2', 'cancelled'));
    t.equal(concert(released).when(holdBySeat('b4', 'u4', [regularSeat(5)])).events()[0]?.type, 'SeatsHeld');
    const sold = after(history, sell('b3', 'tx-3', minutesAfter(T0, 1)));
    concert(sold).when(admit(vipSeat(2), 1)).then(t, [{
      type: 'TicketAdmitted', data: { concert_id: CONCERT, booking_id: 'b3', ticket_id: vipSeat(2), revision: 1, gate: 'g1', scanned_at: admitAt, admitted_at: admitAt },
    }]);
    t.equal(concert(released).when(release('b3', 'expired', HOLD_END)).events()[0]?.type, 'HoldReleased');
  });

  t.test('a snapshot taken after seats were added decides as the folded state does', async (t) => {
    let history = onSale();
    history = after(history, holdBySeat('b1', 'u1', [regularSeat(2)]));
    history = after(history, sell('b1'));
    history = after(history, addClass('VIP', 1_500_000, 5));
    history = after(history, addClass('Balcony', 100, 2));
    history = after(history, change({ name: 'Renamed', sales_close_at: minutesAfter(T0, 90) }, [{ ticket_class_id: REGULAR, price: 7 }]));
    const state = fold(concertDecider, history);
    const snapshot = JSON.parse(JSON.stringify(toSnapshot(state))) as ConcertSnapshot;
    t.equal(snapshot.version, 5);
    t.match(snapshot.details, { name: 'Renamed', sales_close_at: minutesAfter(T0, 90) });
    const restored = fromSnapshot(snapshot);
    t.strictSame(toSnapshot(restored), toSnapshot(state), 'the round trip changes nothing');
    const probes: ConcertCommand[] = [
      holdBySeat('b2', 'u2', [regularSeat(2)]),
      holdByClass('b2', 'u2', [{ ticket_class_id: REGULAR, quantity: 1 }, { ticket_class_id: NEW_CLASS, quantity: 2 }]),
      holdBySeat('b2', 'u2', [vipSeat(5)]),
      change({ name: 'Renamed' }),
      addClass('VIP', 1_500_000, 5),
      { type: 'AdmitTicket', ticket_id: regularSeat(2), revision: 1, gate: 'g', scanned_at: T0, now: T0 },
      holdByClass('b2', 'u2', [{ ticket_class_id: VIP, quantity: 1 }], { now: minutesAfter(T0, 90), expires_at: minutesAfter(T0, 105) }),
    ];
    for (const probe of probes) {
      const decide = (s: ConcertState) => { try { return concertDecider.decide(probe, s); } catch (error) { return (error as DomainError).code; } };
      t.strictSame(decide(fromSnapshot(snapshot)), decide(fold(concertDecider, history)), probe.type);
    }
  });
});
