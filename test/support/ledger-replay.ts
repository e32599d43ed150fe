/**
 * An auditor's money ledger, from the events alone: every payment the gateway said succeeded
 * either bought the seats sold to its (confirmed) booking, at the prices they were held at, or is
 * owed back (PaymentRefundDue on the payment, BookingRefundDue on the booking) — exactly one of the
 * two, for exactly its amount. A refund paid out is owed first, so owing covers paying too.
 */
import { concertEvents } from '../../domain/concert/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';

/** What the ledger reads besides the concert's stream: the money events of every payment and booking. */
export const moneyEvents = eventsOf('PaymentSucceeded', 'PaymentRefundDue', 'BookingRefundDue');

export interface Ledger {
  /** The sum of succeeded payments. */
  readonly taken: number;
  /** The prices of the seats sold to bookings that ended confirmed (their payment not owed back). */
  readonly soldToConfirmed: number;
  /** The money owed back, once per payment. */
  readonly owed: number;
  /** What breaks the ledger, one line each: empty when it holds. */
  readonly faults: readonly string[];
}

/**
 * `concert`: the concert's stream; `money`: the events of `moneyEvents` (any order);
 * `statusOf`: how each booking ended ('confirmed', 'refund_due', …).
 */
export function replayLedger(concert: readonly RecordedEvent[], money: readonly RecordedEvent[], statusOf: (bookingId: string) => string): Ledger {
  const priceOf = new Map<string, number>();
  const sales: { bookingId: string; transactionId: string; seats: readonly string[] }[] = [];
  for (const recorded of concert) {
    const event = decode(recorded, concertEvents);
    if (event.type === 'SeatsHeld') {
      for (const seat of event.data.seats) priceOf.set(`${event.data.booking_id}/${seat.seat_id}`, seat.price);
    } else if (event.type === 'SeatsSold') {
      sales.push({ bookingId: event.data.booking_id, transactionId: event.data.transaction_id, seats: event.data.seat_ids });
    }
  }
  const succeeded = new Map<string, { bookingId: string; amount: number }>();
  const owedBack = new Map<string, { bookingId: string; amount: number; on: string[] }>();
  for (const recorded of money) {
    const event = decode(recorded, moneyEvents);
    const { transaction_id: transactionId, booking_id: bookingId, amount } = event.data;
    if (event.type === 'PaymentSucceeded') {
      succeeded.set(transactionId, { bookingId, amount });
    } else {
      const owed = owedBack.get(transactionId) ?? { bookingId, amount, on: [] };
      owed.on.push(event.type);
      if (owed.amount !== amount) owed.on.push(`another amount ${amount}`);
      owedBack.set(transactionId, owed);
    }
  }

  const faults: string[] = [];
  let taken = 0;
  let soldToConfirmed = 0;
  let owed = 0;
  for (const [transactionId, payment] of succeeded) {
    taken += payment.amount;
    const sold = sales.filter((sale) => sale.transactionId === transactionId);
    const refund = owedBack.get(transactionId);
    const kept = sold.length > 0 && refund === undefined;
    if (kept) {
      const price = sold.flatMap((sale) => sale.seats).reduce((sum, seat) => sum + (priceOf.get(`${payment.bookingId}/${seat}`) ?? Number.NaN), 0);
      soldToConfirmed += price;
      if (price !== payment.amount) faults.push(`payment ${transactionId} took ${payment.amount} for seats priced ${price}`);
      if (statusOf(payment.bookingId) !== 'confirmed') faults.push(`payment ${transactionId} bought seats for booking ${payment.bookingId}, which ended ${statusOf(payment.bookingId)}`);
    } else if (refund !== undefined) {
      owed += refund.amount;
      if (refund.amount !== payment.amount) faults.push(`payment ${transactionId} took ${payment.amount} and ${refund.amount} is owed back`);
      if (refund.on.some((on) => on.startsWith('another'))) faults.push(`payment ${transactionId} is owed back with two amounts`);
    } else {
      faults.push(`payment ${transactionId} of booking ${payment.bookingId} took ${payment.amount}: neither sold nor owed back`);
    }
  }
  for (const [transactionId, refund] of owedBack) {
    if (!succeeded.has(transactionId)) faults.push(`${refund.amount} owed back on payment ${transactionId}, which took no money`);
    if (!refund.on.includes('PaymentRefundDue')) faults.push(`payment ${transactionId} is owed back on its booking only`);
  }
  for (const sale of sales) {
    if (!succeeded.has(sale.transactionId)) faults.push(`seats sold to booking ${sale.bookingId} on payment ${sale.transactionId}, which took no money`);
  }
  if (taken !== soldToConfirmed + owed) faults.push(`money taken ${taken} ≠ seats sold to confirmed bookings ${soldToConfirmed} + owed back ${owed}`);
  return { taken, soldToConfirmed, owed, faults };
}
