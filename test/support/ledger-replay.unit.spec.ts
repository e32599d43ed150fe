/** The load auditor's money ledger: it holds for a sale as it should end, and names each way it can break. */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { replayLedger } from './ledger-replay.ts';

const AT = '2026-11-26T19:00:00.000Z';
let position = 0;
function recorded(stream: string, type: string, data: Record<string, unknown>): RecordedEvent {
  const id = randomUUID();
  position++;
  return {
    id, stream, revision: 0, position, type, data, recordedAt: AT,
    metadata: { event_id: id, correlation_id: 'c', causation_id: 'c', actor_id: null, schema_version: 1, occurred_at: AT },
  };
}

const concertId = randomUUID();
const classId = randomUUID();
function sale(price: number) {
  const bookingId = randomUUID();
  const transactionId = randomUUID();
  const seat = `${classId}-${position + 1}`;
  const held = recorded(`concert-${concertId}`, 'SeatsHeld', {
    concert_id: concertId, booking_id: bookingId, user_id: randomUUID(), seats: [{ seat_id: seat, ticket_class_id: classId, seat_number: 1, price }],
    total_price: price, ktp_fingerprints: [], personal_data: null, held_at: AT, expires_at: AT,
  });
  const sold = recorded(`concert-${concertId}`, 'SeatsSold', { concert_id: concertId, booking_id: bookingId, seat_ids: [seat], transaction_id: transactionId, sold_at: AT });
  const paid = (amount: number) => recorded(`payment-${transactionId}`, 'PaymentSucceeded', { payment_id: randomUUID(), transaction_id: transactionId, booking_id: bookingId, amount, succeeded_at: AT });
  const owed = (amount: number) => [
    recorded(`booking-${bookingId}`, 'BookingRefundDue', { booking_id: bookingId, reason: 'late_payment', transaction_id: transactionId, amount, decided_at: AT }),
    recorded(`payment-${transactionId}`, 'PaymentRefundDue', { payment_id: randomUUID(), transaction_id: transactionId, booking_id: bookingId, amount, reason: 'late_payment', decided_at: AT }),
  ];
  return { bookingId, transactionId, held, sold, paid, owed };
}

t.test('a sale as it should end: each payment bought its seats or is owed back', async (t) => {
  const kept = sale(500_000);
  const late = sale(750_000);
  const ledger = replayLedger([kept.held, kept.sold, late.held], [kept.paid(500_000), late.paid(750_000), ...late.owed(750_000)], (id) => (id === kept.bookingId ? 'confirmed' : 'refund_due'));
  t.strictSame(ledger, { taken: 1_250_000, soldToConfirmed: 500_000, owed: 750_000, faults: [] });
});

t.test('every way money goes astray is a fault', async (t) => {
  const cheap = sale(500_000);
  t.match(replayLedger([cheap.held, cheap.sold], [cheap.paid(400_000)], () => 'confirmed').faults, [/took 400000 for seats priced 500000/, /money taken 400000 ≠/]);
  const unconfirmed = sale(500_000);
  t.match(replayLedger([unconfirmed.held, unconfirmed.sold], [unconfirmed.paid(500_000)], () => 'expired').faults, [/which ended expired/]);
  const lost = sale(500_000);
  t.match(replayLedger([lost.held], [lost.paid(500_000)], () => 'expired').faults, [/neither sold nor owed back/, /money taken/]);
  const short = sale(500_000);
  t.match(replayLedger([short.held], [short.paid(500_000), ...short.owed(300_000)], () => 'refund_due').faults, [/took 500000 and 300000 is owed back/, /money taken/]);
  const phantom = sale(500_000);
  t.match(replayLedger([phantom.held, phantom.sold], phantom.owed(500_000), () => 'refund_due').faults, [/owed back on payment .*, which took no money/, /seats sold to booking .*, which took no money/]);
  const bookingOnly = sale(500_000);
  t.match(replayLedger([bookingOnly.held], [bookingOnly.paid(500_000), ...bookingOnly.owed(500_000).slice(0, 1)], () => 'refund_due').faults, [/owed back on its booking only/]);
});
