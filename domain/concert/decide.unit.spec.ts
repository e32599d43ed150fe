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
  scheduleConcert,
  sell,
  vipSeat,
} from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { concertDecider, type ConcertEvent } from './index.ts';

const concert = (history: ConcertEvent[]) => given(concertDecider, history);

t.test('scheduling', async (t) => {
  t.test('a concert is scheduled with its ticket classes and put on sale in one decision', async (t) => {
    const [scheduled, published] = concert([]).when(scheduleConcert()).events();
    t.equal(scheduled?.type, 'ConcertScheduled');
    t.strictSame(published, { type: 'ConcertPublished', data: { concert_id: CONCERT, published_at: T0 } });
  });

  t.test('a concert scheduled without publishing is not on sale', async (t) => {
    const history = onSale({ publish: false });
    t.equal(history.length, 1);
    concert(history).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 1 }])).thenThrows(t, 'CONCERT_NOT_ON_SALE');
    concert(history).when({ type: 'PublishConcert', now: T0 }).then(t, [
      { type: 'ConcertPublished', data: { concert_id: CONCERT, published_at: T0 } },
    ]);
  });

  t.test('publishing twice decides nothing', async (t) => {
    concert(onSale()).when({ type: 'PublishConcert', now: T0 }).then(t, []);
  });

  t.test('a concert cannot be scheduled twice', async (t) => {
    concert(onSale()).when(scheduleConcert()).thenThrows(t, 'CONCERT_ALREADY_SCHEDULED');
  });

  t.test('a concert needs ticket classes with distinct names, integer prices and seats', async (t) => {
    concert([]).when(scheduleConcert({ ticket_classes: [] })).thenThrows(t, 'NO_TICKET_CLASSES');
    concert([]).when(scheduleConcert({
      ticket_classes: [
        { ticket_class_id: VIP, name: 'VIP', price: 1, seat_count: 1 },
        { ticket_class_id: REGULAR, name: ' vip ', price: 1, seat_count: 1 },
      ],
    })).thenThrows(t, 'DUPLICATE_TICKET_CLASS');
    concert([]).when(scheduleConcert({
      ticket_classes: [{ ticket_class_id: VIP, name: 'VIP', price: 1500.5, seat_count: 1 }],
    })).thenThrows(t, 'INVALID_TICKET_CLASS');
    concert([]).when(scheduleConcert({
      ticket_classes: [{ ticket_class_id: VIP, name: 'VIP', price: 1, seat_count: 0 }],
    })).thenThrows(t, 'INVALID_TICKET_CLASS');
    concert([]).when(scheduleConcert({
      ticket_classes: [{ ticket_class_id: 'not-a-uuid', name: 'VIP', price: 1, seat_count: 1 }],
    })).thenThrows(t, 'INVALID_TICKET_CLASS');
    concert([]).when(scheduleConcert({
      ticket_classes: [{ ticket_class_id: VIP, name: 'VIP', price: 1, seat_count: 200_001 }],
    })).thenThrows(t, 'TOO_MANY_SEATS');
  });

  t.test('sales must open before they close', async (t) => {
    concert([]).when(scheduleConcert({ sales_open_at: T0, sales_close_at: T0 })).thenThrows(t, 'INVALID_SALES_WINDOW');
  });

  t.test('a 50,000-seat concert is one small event, and every seat starts available', async (t) => {
    const events = concert([]).when(scheduleConcert({
      ticket_classes: [
        { ticket_class_id: VIP, name: 'VIP', price: 3_000_000, seat_count: 5_000 },
        { ticket_class_id: REGULAR, name: 'Festival', price: 900_000, seat_count: 45_000 },
      ],
    })).events();
    t.ok(JSON.stringify(events).length < 2_000, 'the events stay under 2 kB');
    const state = fold(concertDecider, events);
    t.equal(state.seatStatus.length, 50_000);
    t.strictSame(state.classes.map((c) => c.available), [5_000, 45_000]);
  });
});

t.test('holding seats by quantity', async (t) => {
  t.test('takes the lowest-numbered available seats of the class, priced by the class', async (t) => {
    const [event] = concert(onSale()).when(holdByClass('b1', 'u1', [
      { ticket_class_id: REGULAR, quantity: 2 },
      { ticket_class_id: VIP, quantity: 1 },
    ])).events();
    t.strictSame(event, {
      type: 'SeatsHeld',
      data: {
        concert_id: CONCERT,
        booking_id: 'b1',
        user_id: 'u1',
        seats: [
          { seat_id: regularSeat(1), ticket_class_id: REGULAR, seat_number: 1, price: 500_000 },
          { seat_id: regularSeat(2), ticket_class_id: REGULAR, seat_number: 2, price: 500_000 },
          { seat_id: vipSeat(1), ticket_class_id: VIP, seat_number: 1, price: 1_500_000 },
        ],
        total_price: 2_500_000,
        ktp_fingerprints: ['ktp-of-u1', 'ktp-of-u1', 'ktp-of-u1'],
        personal_data: null,
        held_at: T0,
        expires_at: HOLD_END,
      },
    });
  });

  t.test('skips held and sold seats and reuses released ones, lowest first', async (t) => {
    const first = held(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 2 }]));
    const second = held(holdByClass('b2', 'u2', [{ ticket_class_id: REGULAR, quantity: 2 }]), [...onSale(), first]);
    const history: ConcertEvent[] = [...onSale(), first, second];
    const next = (h: ConcertEvent[]) => held(holdByClass('b3', 'u3', [{ ticket_class_id: REGULAR, quantity: 3 }]), h);
    t.strictSame(next(history).data.seats.map((s) => s.seat_number), [5, 6, 7]);

    const releasedFirst = concertDecider.decide(release('b1', 'cancelled'), fold(concertDecider, history));
    t.strictSame(next([...history, ...releasedFirst]).data.seats.map((s) => s.seat_number), [1, 2, 5]);
  });

  t.test('the same class named twice adds up', async (t) => {
    const [event] = concert(onSale()).when(holdByClass('b1', 'u1', [
      { ticket_class_id: VIP, quantity: 1 },
      { ticket_class_id: VIP, quantity: 1 },
    ])).events();
    t.strictSame(event?.type === 'SeatsHeld' && event.data.seats.map((s) => s.seat_id), [vipSeat(1), vipSeat(2)]);
  });

  t.test('not enough seats left refuses the whole request', async (t) => {
    concert(onSale()).when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 4 }])).thenThrows(t, 'SOLD_OUT');
    const vipGone = held(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 3 }]));
    concert([...onSale(), vipGone])
      .when(holdByClass('b2', 'u2', [{ ticket_class_id: REGULAR, quantity: 1 }, { ticket_class_id: VIP, quantity: 1 }]))
      .thenThrows(t, 'SOLD_OUT');
  });

  t.test('an unknown ticket class or a quantity below one is refused', async (t) => {
    concert(onSale())
      .when(holdByClass('b1', 'u1', [{ ticket_class_id: '99999999-9999-4999-8999-999999999999', quantity: 1 }]))
      .thenThrows(t, 'UNKNOWN_TICKET_CLASS');
    concert(onSale())
      .when(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 0 }, { ticket_class_id: REGULAR, quantity: 1 }]))
      .thenThrows(t, 'INVALID_QUANTITY');
  });
});

t.test('holding seats by id', async (t) => {
  t.test('holds exactly the seats asked for, in the order asked', async (t) => {
    const [event] = concert(onSale()).when(holdBySeat('b1', 'u1', [regularSeat(7), vipSeat(2)])).events();
    t.strictSame(event?.type === 'SeatsHeld' && event.data.seats.map((s) => [s.seat_id, s.price]), [
      [regularSeat(7), 500_000],
      [vipSeat(2), 1_500_000],
    ]);
  });

  t.test('a seat already held cannot be held again', async (t) => {
    const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1)]))];
    concert(history).when(holdBySeat('b2', 'u2', [vipSeat(1)])).thenThrows(t, 'SEAT_UNAVAILABLE');
  });

  t.test('a seat already sold cannot be held again', async (t) => {
    const hold = held(holdBySeat('b1', 'u1', [vipSeat(1)]));
    const history = [...onSale(), hold, ...concertDecider.decide(sell('b1'), fold(concertDecider, [...onSale(), hold]))];
    concert(history).when(holdBySeat('b2', 'u2', [vipSeat(2), vipSeat(1)])).thenThrows(t, 'SEAT_UNAVAILABLE');
  });

  t.test('a seat the concert does not have is refused', async (t) => {
    concert(onSale()).when(holdBySeat('b1', 'u1', [vipSeat(4)])).thenThrows(t, 'UNKNOWN_SEAT');
    concert(onSale()).when(holdBySeat('b1', 'u1', ['not-a-seat'])).thenThrows(t, 'UNKNOWN_SEAT');
    concert(onSale())
      .when(holdBySeat('b1', 'u1', ['99999999-9999-4999-8999-000000000001']))
      .thenThrows(t, 'UNKNOWN_SEAT');
  });

  t.test('the same seat twice is refused', async (t) => {
    concert(onSale()).when(holdBySeat('b1', 'u1', [vipSeat(1), vipSeat(1)])).thenThrows(t, 'DUPLICATE_SEAT');
  });
});

t.test('booking rules', async (t) => {
  t.test('between one and five tickets per booking', async (t) => {
    concert(onSale()).when(holdBySeat('b1', 'u1', [])).thenThrows(t, 'NO_TICKETS');
    concert(onSale())
      .when(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 6 }]))
      .thenThrows(t, 'TOO_MANY_TICKETS');
    concert(onSale())
      .when(holdBySeat('b1', 'u1', [1, 2, 3, 4, 5, 6].map(regularSeat)))
      .thenThrows(t, 'TOO_MANY_TICKETS');
    const [event] = concert(onSale()).when(holdByClass('b1', 'u1', [{ ticket_class_id: REGULAR, quantity: 5 }])).events();
    t.equal(event?.type === 'SeatsHeld' && event.data.seats.length, 5, 'five is allowed');
  });

  t.test('the sealed buyer and holders travel with the hold, one holder per ticket', async (t) => {
    const personal = { buyer: sealed('buyer'), ticket_holders: [sealed('h1'), sealed('h2')] };
    const [event] = concert(onSale()).when(holdBySeat('b1', 'u1', [vipSeat(1), vipSeat(2)], { personal_data: personal })).events();
    t.strictSame(event?.type === 'SeatsHeld' && event.data.personal_data, personal);
    concert(onSale())
      .when(holdBySeat('b1', 'u1', [vipSeat(1)], { personal_data: personal }))
      .thenThrows(t, 'HOLDER_COUNT_MISMATCH');
  });

  t.test('one ticket holder per ticket', async (t) => {
    concert(onSale())
      .when(holdBySeat('b1', 'u1', [vipSeat(1), vipSeat(2)], { ktp_fingerprints: ['k1'] }))
      .thenThrows(t, 'HOLDER_COUNT_MISMATCH');
  });

  t.test('one pending booking per user per concert', async (t) => {
    const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1)]))];
    concert(history).when(holdBySeat('b2', 'u1', [vipSeat(2)])).thenThrows(t, 'ACTIVE_BOOKING_EXISTS');
  });

  t.test('one confirmed booking per user per concert', async (t) => {
    const hold = held(holdBySeat('b1', 'u1', [vipSeat(1)]));
    const sold = concertDecider.decide(sell('b1'), fold(concertDecider, [...onSale(), hold]));
    concert([...onSale(), hold, ...sold]).when(holdBySeat('b2', 'u1', [vipSeat(2)])).thenThrows(t, 'ACTIVE_BOOKING_EXISTS');
  });

  t.test('a user whose booking was released may book again', async (t) => {
    const hold = held(holdBySeat('b1', 'u1', [vipSeat(1)]));
    const released = concertDecider.decide(release('b1', 'cancelled'), fold(concertDecider, [...onSale(), hold]));
    const [event] = concert([...onSale(), hold, ...released]).when(holdBySeat('b2', 'u1', [vipSeat(1)])).events();
    t.equal(event?.type, 'SeatsHeld');
  });

  t.test('a booking id holds seats only once', async (t) => {
    const history = [...onSale(), held(holdBySeat('b1', 'u1', [vipSeat(1)]))];
    concert(history).when(holdBySeat('b1', 'u2', [vipSeat(2)])).thenThrows(t, 'BOOKING_ALREADY_EXISTS');
  });

  t.test('a hold must expire after it is placed', async (t) => {
    concert(onSale()).when(holdBySeat('b1', 'u1', [vipSeat(1)], { expires_at: T0 })).thenThrows(t, 'INVALID_HOLD_EXPIRY');
  });
});

t.test('the per-KTP limit counts ticket holders across all active bookings', async (t) => {
  const limited = onSale({ max_tickets_per_ktp: 2 });
  t.test('within one booking', async (t) => {
    concert(limited)
      .when(holdBySeat('b1', 'u1', [1, 2, 3].map(regularSeat), { ktp_fingerprints: ['k1', 'k1', 'k1'] }))
      .thenThrows(t, 'KTP_LIMIT_REACHED');
    const [event] = concert(limited)
      .when(holdBySeat('b1', 'u1', [1, 2, 3].map(regularSeat), { ktp_fingerprints: ['k1', 'k1', 'k2'] }))
      .events();
    t.equal(event?.type, 'SeatsHeld', 'two holders sharing three tickets within the limit');
  });

  t.test('across bookings of different users, until one is released', async (t) => {
    const first = held(holdBySeat('b1', 'u1', [regularSeat(1), regularSeat(2)], { ktp_fingerprints: ['k1', 'k1'] }), limited);
    const history = [...limited, first];
    const another = holdBySeat('b2', 'u2', [regularSeat(3)], { ktp_fingerprints: ['k1'] });
    concert(history).when(another).thenThrows(t, 'KTP_LIMIT_REACHED');
    const released = concertDecider.decide(release('b1', 'cancelled'), fold(concertDecider, history));
    t.equal(concert([...history, ...released]).when(another).events()[0]?.type, 'SeatsHeld');
  });

  t.test('no limit when the concert sets none', async (t) => {
    const [event] = concert(onSale())
      .when(holdBySeat('b1', 'u1', [1, 2, 3, 4, 5].map(regularSeat), { ktp_fingerprints: Array(5).fill('k1') }))
      .events();
    t.equal(event?.type, 'SeatsHeld');
  });
});

t.test('when holds are taken', async (t) => {
  const cancelled = (): ConcertEvent[] => [...onSale(), ...concertDecider.decide(
    { type: 'CancelConcert', reason: 'venue flooded', now: T0 },
    fold(concertDecider, onSale()),
  )];
  const command = holdBySeat('b1', 'u1', [vipSeat(1)]);
  concert([]).when(command).thenThrows(t, 'CONCERT_NOT_FOUND');
  concert(cancelled()).when(command).thenThrows(t, 'CONCERT_CANCELLED');
  const window = onSale({ sales_open_at: minutesAfter(T0, 60), sales_close_at: minutesAfter(T0, 120) });
  concert(window).when(command).thenThrows(t, 'SALES_NOT_OPEN');
  concert(window)
    .when({ ...command, now: minutesAfter(T0, 120), expires_at: minutesAfter(T0, 135) })
    .thenThrows(t, 'SALES_CLOSED');
  const [event] = concert(window)
    .when({ ...command, now: minutesAfter(T0, 60), expires_at: minutesAfter(T0, 75) })
    .events();
  t.equal(event?.type, 'SeatsHeld', 'within the sales window');
});

t.test('releasing a hold', async (t) => {
  const hold = held(holdBySeat('b1', 'u1', [vipSeat(1), vipSeat(2)]));
  const history = [...onSale(), hold];

  t.test('a cancelled booking releases its seats for others', async (t) => {
    const events = concert(history).when(release('b1', 'cancelled')).then(t, [
      {
        type: 'HoldReleased',
        data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: [vipSeat(1), vipSeat(2)], reason: 'cancelled', released_at: T0 },
      },
    ]);
    const [next] = concert([...history, ...events]).when(holdBySeat('b2', 'u2', [vipSeat(2)])).events();
    t.equal(next?.type, 'SeatsHeld');
    t.equal(fold(concertDecider, [...history, ...events]).classes[0]?.available, 3);
  });

  t.test('a hold does not expire before its time, and does at it', async (t) => {
    concert(history).when(release('b1', 'expired', minutesAfter(T0, 14))).thenThrows(t, 'HOLD_NOT_EXPIRED');
    const [event] = concert(history).when(release('b1', 'expired', HOLD_END)).events();
    t.equal(event?.type === 'HoldReleased' && event.data.reason, 'expired');
  });

  t.test('a failed payment releases the seats at any time', async (t) => {
    const [event] = concert(history).when(release('b1', 'payment_failed')).events();
    t.equal(event?.type === 'HoldReleased' && event.data.reason, 'payment_failed');
  });

  t.test('releasing twice decides nothing the second time', async (t) => {
    const once = concertDecider.decide(release('b1', 'cancelled'), fold(concertDecider, history));
    concert([...history, ...once]).when(release('b1', 'expired', HOLD_END)).then(t, []);
  });

  t.test('sold seats are not released', async (t) => {
    const sold = concertDecider.decide(sell('b1'), fold(concertDecider, history));
    concert([...history, ...sold]).when(release('b1', 'expired', HOLD_END)).thenThrows(t, 'HOLD_ALREADY_SOLD');
  });

  t.test('an unknown booking has no hold', async (t) => {
    concert(history).when(release('b9', 'cancelled')).thenThrows(t, 'HOLD_NOT_FOUND');
  });
});

t.test('selling held seats', async (t) => {
  const hold = held(holdBySeat('b1', 'u1', [vipSeat(1)]));
  const history = [...onSale(), hold];

  t.test('a payment within the hold sells the seats', async (t) => {
    const events = concert(history).when(sell('b1', 'tx-1')).then(t, [
      {
        type: 'SeatsSold',
        data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: [vipSeat(1)], transaction_id: 'tx-1', sold_at: minutesAfter(T0, 5) },
      },
    ]);
    const state = fold(concertDecider, [...history, ...events]);
    t.equal(state.seatStatus[0], 2, 'the seat is sold');
    t.equal(state.classes[0]?.available, 2);
  });

  t.test('the same payment notified again decides nothing; another payment is refused', async (t) => {
    const sold = concertDecider.decide(sell('b1', 'tx-1'), fold(concertDecider, history));
    concert([...history, ...sold]).when(sell('b1', 'tx-1')).then(t, []);
    concert([...history, ...sold]).when(sell('b1', 'tx-2')).thenThrows(t, 'HOLD_ALREADY_SOLD');
  });

  t.test('an expired hold cannot be sold, even before the expiry is recorded', async (t) => {
    concert(history).when(sell('b1', 'tx-1', HOLD_END)).thenThrows(t, 'HOLD_EXPIRED');
    const expired = concertDecider.decide(release('b1', 'expired', HOLD_END), fold(concertDecider, history));
    concert([...history, ...expired]).when(sell('b1', 'tx-1', minutesAfter(T0, 16))).thenThrows(t, 'HOLD_EXPIRED');
  });

  t.test('a late payer does not get the seats back: they go to the next buyer', async (t) => {
    const expired = concertDecider.decide(release('b1', 'expired', HOLD_END), fold(concertDecider, history));
    const after = [...history, ...expired];
    concert(after).when(sell('b1', 'tx-late', minutesAfter(T0, 16))).thenThrows(t, 'HOLD_EXPIRED');
    const [next] = concert(after)
      .when(holdBySeat('b2', 'u2', [vipSeat(1)], { now: minutesAfter(T0, 16), expires_at: minutesAfter(T0, 31) }))
      .events();
    t.equal(next?.type, 'SeatsHeld');
  });

  t.test('a hold given up is not sold', async (t) => {
    const cancelled = concertDecider.decide(release('b1', 'cancelled'), fold(concertDecider, history));
    concert([...history, ...cancelled]).when(sell('b1')).thenThrows(t, 'HOLD_RELEASED');
    concert(history).when(sell('b9')).thenThrows(t, 'HOLD_NOT_FOUND');
  });
});

t.test('cancelling a concert', async (t) => {
  const pending = held(holdBySeat('b1', 'u1', [vipSeat(1)]));
  const paid = held(holdBySeat('b2', 'u2', [vipSeat(2)]), [...onSale(), pending]);
  const before = [...onSale(), pending, paid];
  const sold = concertDecider.decide(sell('b2'), fold(concertDecider, before));
  const history = [...before, ...sold];
  const cancel = { type: 'CancelConcert', reason: 'artist ill', now: minutesAfter(T0, 6) } as const;

  t.test('releases pending holds and keeps sold seats sold (their refunds are the bookings\' business)', async (t) => {
    const events = concert(history).when(cancel).then(t, [
      { type: 'ConcertCancelled', data: { concert_id: CONCERT, reason: 'artist ill', cancelled_at: cancel.now } },
      {
        type: 'HoldReleased',
        data: { concert_id: CONCERT, booking_id: 'b1', seat_ids: [vipSeat(1)], reason: 'concert_cancelled', released_at: cancel.now },
      },
    ]);
    const state = fold(concertDecider, [...history, ...events]);
    t.equal(state.status, 'cancelled');
    t.equal(state.seatStatus[1], 2, 'the sold seat stays sold');
    concert([...history, ...events]).when(sell('b1', 'tx-9', minutesAfter(T0, 7))).thenThrows(t, 'CONCERT_CANCELLED');
  });

  t.test('cancelling twice decides nothing; a concert never scheduled cannot be cancelled', async (t) => {
    const once = concertDecider.decide(cancel, fold(concertDecider, history));
    concert([...history, ...once]).when(cancel).then(t, []);
    concert([]).when(cancel).thenThrows(t, 'CONCERT_NOT_FOUND');
    concert([...history, ...once]).when({ type: 'PublishConcert', now: T0 }).thenThrows(t, 'CONCERT_CANCELLED');
  });
});
