import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { CONCERT, HOLD_END, T0, VIP, minutesAfter, vipSeat } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { bookingDecider, type BookingCommand, type BookingEvent, type PlaceBooking, type StartPayment } from './index.ts';

const booking = (history: BookingEvent[]) => given(bookingDecider, history);
const decideAfter = (history: BookingEvent[], command: BookingCommand): BookingEvent[] =>
  bookingDecider.decide(command, fold(bookingDecider, history));

const seat = (n: number) => ({ seat_id: vipSeat(n), ticket_class_id: VIP, seat_number: n, price: 1_500_000 });
const place = (overrides: Partial<PlaceBooking> = {}): PlaceBooking => ({
  type: 'PlaceBooking',
  booking_id: 'b1',
  user_id: 'u1',
  concert_id: CONCERT,
  seats: [seat(1), seat(2)],
  total_price: 3_000_000,
  expires_at: HOLD_END,
  buyer: sealed('buyer'),
  ticket_holders: [sealed('holder 1'), sealed('holder 2')],
  now: T0,
  ...overrides,
});
const startPayment = (overrides: Partial<StartPayment> = {}): StartPayment => ({
  type: 'StartPayment',
  payment_id: 'p1',
  transaction_id: 'tx-1',
  method: 'virtual_account',
  amount: 3_000_000,
  now: minutesAfter(T0, 1),
  ...overrides,
});
const later = minutesAfter(T0, 3);

const placed = decideAfter([], place());
const paying = [...placed, ...decideAfter(placed, startPayment())];
const confirmed = [...paying, ...decideAfter(paying, { type: 'ConfirmBooking', transaction_id: 'tx-1', now: later })];
const statusOf = (history: BookingEvent[]) => fold(bookingDecider, history).status;

t.test('placing a booking', async (t) => {
  t.test('records the booking with the sealed buyer and one sealed holder per ticket', async (t) => {
    booking([]).when(place()).then(t, [
      {
        type: 'BookingPlaced',
        data: {
          booking_id: 'b1',
          user_id: 'u1',
          concert_id: CONCERT,
          seats: [seat(1), seat(2)],
          total_price: 3_000_000,
          buyer: sealed('buyer'),
          ticket_holders: [sealed('holder 1'), sealed('holder 2')],
          placed_at: T0,
          expires_at: HOLD_END,
        },
      },
    ]);
    t.equal(statusOf(placed), 'pending');
  });

  t.test('a booking is placed once', async (t) => {
    booking(placed).when(place()).thenThrows(t, 'BOOKING_ALREADY_EXISTS');
  });

  t.test('one holder per ticket, and the total is the sum of the seat prices', async (t) => {
    booking([]).when(place({ ticket_holders: [sealed('one')] })).thenThrows(t, 'HOLDER_COUNT_MISMATCH');
    booking([]).when(place({ total_price: 1 })).thenThrows(t, 'TOTAL_PRICE_MISMATCH');
  });

  t.test('nothing can happen to a booking never placed', async (t) => {
    booking([]).when({ type: 'CancelBooking', cancelled_by: 'owner', now: T0 }).thenThrows(t, 'BOOKING_NOT_FOUND');
  });
});

t.test('paying', async (t) => {
  t.test('a pending booking starts a payment of exactly its total', async (t) => {
    booking(placed).when(startPayment()).then(t, [
      {
        type: 'BookingPaymentStarted',
        data: {
          booking_id: 'b1',
          payment_id: 'p1',
          transaction_id: 'tx-1',
          method: 'virtual_account',
          amount: 3_000_000,
          started_at: minutesAfter(T0, 1),
        },
      },
    ]);
    booking(placed).when(startPayment({ amount: 1 })).thenThrows(t, 'AMOUNT_MISMATCH');
  });

  t.test('the same payment started again decides nothing; a second payment is refused', async (t) => {
    booking(paying).when(startPayment()).then(t, []);
    booking(paying).when(startPayment({ payment_id: 'p2', transaction_id: 'tx-2' }))
      .thenThrows(t, 'PAYMENT_IN_PROGRESS');
  });

  t.test('a payment cannot start once the hold has run out', async (t) => {
    booking(placed).when(startPayment({ now: HOLD_END })).thenThrows(t, 'HOLD_EXPIRED');
  });

  t.test('only a pending booking can be paid', async (t) => {
    const cancelled = [...placed, ...decideAfter(placed, { type: 'CancelBooking', cancelled_by: 'owner', now: T0 })];
    booking(cancelled).when(startPayment()).thenThrows(t, 'BOOKING_NOT_PAYABLE');
  });

  t.test('the sold seats confirm the booking, once', async (t) => {
    booking(paying).when({ type: 'ConfirmBooking', transaction_id: 'tx-1', now: later }).then(t, [
      { type: 'BookingConfirmed', data: { booking_id: 'b1', transaction_id: 'tx-1', confirmed_at: later } },
    ]);
    t.equal(statusOf(confirmed), 'confirmed');
    booking(confirmed).when({ type: 'ConfirmBooking', transaction_id: 'tx-1', now: later }).then(t, []);
    booking(paying).when({ type: 'ConfirmBooking', transaction_id: 'tx-other', now: later }).thenThrows(t, 'PAYMENT_NOT_FOUND');
  });

  t.test('a failed payment fails the booking, once', async (t) => {
    const failure = { type: 'RecordPaymentFailure', transaction_id: 'tx-1', reason: 'declined', now: later } as const;
    const failed = [...paying, ...booking(paying).when(failure).then(t, [
      { type: 'BookingPaymentFailed', data: { booking_id: 'b1', transaction_id: 'tx-1', reason: 'declined', failed_at: later } },
    ])];
    t.equal(statusOf(failed), 'failed');
    booking(failed).when(failure).then(t, []);
    booking(failed).when(startPayment({ payment_id: 'p2' })).thenThrows(t, 'BOOKING_NOT_PAYABLE');
    booking(confirmed).when(failure).thenThrows(t, 'PAYMENT_ALREADY_SETTLED');
  });
});

t.test('cancelling', async (t) => {
  t.test('a pending booking can be cancelled by its owner or an admin', async (t) => {
    for (const by of ['owner', 'admin'] as const) {
      const events = booking(placed).when({ type: 'CancelBooking', cancelled_by: by, now: later }).then(t, [
        { type: 'BookingCancelled', data: { booking_id: 'b1', cancelled_by: by, cancelled_at: later } },
      ]);
      t.equal(statusOf([...placed, ...events]), 'cancelled');
    }
  });

  t.test('only a pending booking can be cancelled', async (t) => {
    booking(confirmed).when({ type: 'CancelBooking', cancelled_by: 'owner', now: later }).thenThrows(t, 'BOOKING_NOT_CANCELLABLE');
    const cancelled = [...placed, ...decideAfter(placed, { type: 'CancelBooking', cancelled_by: 'owner', now: later })];
    booking(cancelled).when({ type: 'CancelBooking', cancelled_by: 'owner', now: later }).thenThrows(t, 'BOOKING_NOT_CANCELLABLE');
  });
});

t.test('expiring', async (t) => {
  t.test('an unpaid booking expires at its time, not before', async (t) => {
    booking(placed).when({ type: 'ExpireBooking', now: minutesAfter(T0, 14) }).thenThrows(t, 'HOLD_NOT_EXPIRED');
    const events = booking(placed).when({ type: 'ExpireBooking', now: HOLD_END }).then(t, [
      { type: 'BookingExpired', data: { booking_id: 'b1', expired_at: HOLD_END } },
    ]);
    t.equal(statusOf([...placed, ...events]), 'expired');
  });

  t.test('a paid or already ended booking does not expire', async (t) => {
    booking(confirmed).when({ type: 'ExpireBooking', now: HOLD_END }).then(t, []);
    const expired = [...placed, ...decideAfter(placed, { type: 'ExpireBooking', now: HOLD_END })];
    booking(expired).when({ type: 'ExpireBooking', now: HOLD_END }).then(t, []);
  });
});

t.test('refunds', async (t) => {
  const lateNow = minutesAfter(T0, 20);
  const lateRefund = { type: 'MarkRefundDue', reason: 'late_payment', transaction_id: 'tx-1', amount: 3_000_000, now: lateNow } as const;

  t.test('money arriving after the hold expired is owed back', async (t) => {
    const expired = [...paying, ...decideAfter(paying, { type: 'ExpireBooking', now: HOLD_END })];
    const events = booking(expired).when(lateRefund).then(t, [
      {
        type: 'BookingRefundDue',
        data: { booking_id: 'b1', reason: 'late_payment', transaction_id: 'tx-1', amount: 3_000_000, decided_at: lateNow },
      },
    ]);
    t.equal(statusOf([...expired, ...events]), 'refund_due');
    booking([...expired, ...events]).when(lateRefund).then(t, []);
  });

  t.test('a late payment is refunded even before the booking\'s own expiry is recorded', async (t) => {
    t.equal(booking(paying).when(lateRefund).events()[0]?.type, 'BookingRefundDue');
  });

  t.test('a cancelled concert owes refunds for confirmed bookings only', async (t) => {
    const concertRefund = { ...lateRefund, reason: 'concert_cancelled' } as const;
    t.equal(booking(confirmed).when(concertRefund).events()[0]?.type, 'BookingRefundDue');
    booking(paying).when(concertRefund).thenThrows(t, 'REFUND_NOT_APPLICABLE');
    booking(confirmed).when(lateRefund).thenThrows(t, 'REFUND_NOT_APPLICABLE');
  });

  t.test('a refund names the booking\'s own payment', async (t) => {
    booking(paying).when({ ...lateRefund, transaction_id: 'tx-unknown' }).thenThrows(t, 'PAYMENT_NOT_FOUND');
  });
});
