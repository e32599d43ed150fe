import t from 'tap';
import { given } from '../../test/support/decider-spec.ts';
import { CONCERT, HOLD_END, T0, VIP, minutesAfter, vipSeat } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { fold } from '../shared/decider.ts';
import { bookingDecider, type BookingCommand, type BookingEvent, type OpenPayment, type PlaceBooking, type StartPayment } from './index.ts';

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
const openPayment = (overrides: Partial<OpenPayment> = {}): OpenPayment => ({
  type: 'OpenPayment',
  payment_id: 'p1',
  method: 'virtual_account',
  amount: 3_000_000,
  now: minutesAfter(T0, 1),
  ...overrides,
});
const startPayment = (overrides: Partial<StartPayment> = {}): StartPayment => ({
  type: 'StartPayment',
  payment_id: 'p1',
  transaction_id: 'tx-1',
  now: minutesAfter(T0, 1),
  ...overrides,
});
const later = minutesAfter(T0, 3);

const placed = decideAfter([], place());
const opening = [...placed, ...decideAfter(placed, openPayment())];
const paying = [...opening, ...decideAfter(opening, startPayment())];
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

  t.test("records the keyed digest of the buyer's email when the hold carries one", async (t) => {
    const digest = 'cd'.repeat(32);
    const [event] = decideAfter([], place({ buyer_email_digest: digest }));
    t.match(event, { type: 'BookingPlaced', data: { booking_id: 'b1', buyer_email_digest: digest } });
    t.notOk('buyer_email_digest' in ((placed[0] as BookingEvent).data), 'and none when it carries none');
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
  t.test('a pending booking opens a payment of exactly its total, before any gateway is asked', async (t) => {
    booking(placed).when(openPayment()).then(t, [
      {
        type: 'BookingPaymentOpened',
        data: { booking_id: 'b1', payment_id: 'p1', method: 'virtual_account', amount: 3_000_000, opened_at: minutesAfter(T0, 1) },
      },
    ]);
    t.match(fold(bookingDecider, opening), { status: 'pending', payment: { paymentId: 'p1', transactionId: null, status: 'opening' } });
    booking(placed).when(openPayment({ amount: 1 })).thenThrows(t, 'AMOUNT_MISMATCH');
  });

  t.test('the gateway\'s transaction is recorded for the opened payment, once', async (t) => {
    booking(opening).when(startPayment()).then(t, [
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
    booking(paying).when(startPayment()).then(t, []);
    booking(paying).when(startPayment({ transaction_id: 'tx-2' })).thenThrows(t, 'PAYMENT_ALREADY_EXISTS');
    booking(opening).when(startPayment({ payment_id: 'p2' })).thenThrows(t, 'PAYMENT_NOT_FOUND');
    booking(placed).when(startPayment()).thenThrows(t, 'PAYMENT_NOT_FOUND');
  });

  t.test('a booking that moved on still learns the transaction of the payment it opened', async (t) => {
    const cancelled = [...opening, ...decideAfter(opening, { type: 'CancelBooking', cancelled_by: 'owner', now: later })];
    t.equal(booking(cancelled).when(startPayment()).events()[0]?.type, 'BookingPaymentStarted');
  });

  t.test('one open payment: the same one again decides nothing; another is refused while one is open', async (t) => {
    booking(opening).when(openPayment()).then(t, []);
    booking(paying).when(openPayment()).then(t, []);
    booking(opening).when(openPayment({ payment_id: 'p2' })).thenThrows(t, 'PAYMENT_IN_PROGRESS');
    booking(paying).when(openPayment({ payment_id: 'p2' })).thenThrows(t, 'PAYMENT_IN_PROGRESS');
  });

  t.test('a payment cannot open once the hold has run out', async (t) => {
    booking(placed).when(openPayment({ now: HOLD_END })).thenThrows(t, 'HOLD_EXPIRED');
  });

  t.test('only a pending booking can be paid', async (t) => {
    const cancelled = [...placed, ...decideAfter(placed, { type: 'CancelBooking', cancelled_by: 'owner', now: T0 })];
    booking(cancelled).when(openPayment()).thenThrows(t, 'BOOKING_NOT_PAYABLE');
  });

  t.test('a stream written before payments were opened still folds', async (t) => {
    const legacy: BookingEvent[] = [...placed, {
      type: 'BookingPaymentStarted',
      data: { booking_id: 'b1', payment_id: 'p1', transaction_id: 'tx-1', method: 'card', amount: 3_000_000, started_at: T0 },
    }];
    t.match(fold(bookingDecider, legacy), { payment: { paymentId: 'p1', transactionId: 'tx-1', status: 'pending' } });
    booking(legacy).when(openPayment({ payment_id: 'p2' })).thenThrows(t, 'PAYMENT_IN_PROGRESS');
    t.equal(booking(legacy).when({ type: 'ConfirmBooking', transaction_id: 'tx-1', now: later }).events()[0]?.type, 'BookingConfirmed');
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
    booking(failed).when(openPayment({ payment_id: 'p2' })).thenThrows(t, 'BOOKING_NOT_PAYABLE');
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

  t.test('a cancelled concert owes the money back whatever became of the booking; a confirmed one keeps it otherwise', async (t) => {
    const concertRefund = { ...lateRefund, reason: 'concert_cancelled' } as const;
    t.equal(booking(confirmed).when(concertRefund).events()[0]?.type, 'BookingRefundDue');
    // Finding 3 of issue 17: paid after the concert was cancelled, the pending or cancelled booking was refused REFUND_NOT_APPLICABLE.
    t.equal(booking(paying).when(concertRefund).events()[0]?.type, 'BookingRefundDue');
    const cancelledByConcert = [...paying, ...decideAfter(paying, { type: 'CancelBooking', cancelled_by: 'concert_cancelled', now: later })];
    t.equal(booking(cancelledByConcert).when(concertRefund).events()[0]?.type, 'BookingRefundDue');
    booking(confirmed).when(lateRefund).thenThrows(t, 'REFUND_NOT_APPLICABLE');
  });

  t.test('money for a cancelled or failed booking is owed back', async (t) => {
    const cancelled = [...paying, ...decideAfter(paying, { type: 'CancelBooking', cancelled_by: 'owner', now: later })];
    t.equal(booking(cancelled).when(lateRefund).events()[0]?.type, 'BookingRefundDue');
    const failed = [...paying, ...decideAfter(paying, { type: 'RecordPaymentFailure', transaction_id: 'tx-1', reason: 'declined', now: later })];
    t.equal(booking(failed).when(lateRefund).events()[0]?.type, 'BookingRefundDue');
  });

  t.test('a refund names the booking\'s own payment', async (t) => {
    booking(paying).when({ ...lateRefund, transaction_id: 'tx-unknown' }).thenThrows(t, 'PAYMENT_NOT_FOUND');
  });
});
