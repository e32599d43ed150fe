/** Paid bookings and their tickets' QR codes, for door tests. */
import { parseSeatId } from '../../domain/concert/seats.ts';
import type { TestApp } from './app.ts';
import { book, byClass, customer, webhook } from './booking.ts';
import { eventually } from './eventually.ts';
import { bearer } from './users.ts';

export interface PaidBooking {
  readonly user: { readonly id: string; readonly token: string };
  readonly bookingId: string;
  readonly seats: readonly { readonly id: string; readonly seat_number: number }[];
}

/** A customer's booking of `quantity` seats of a class, paid through the sandbox gateway, its tickets' concert known to the door. */
export async function paidBooking(made: TestApp, concertId: string, classId: string, quantity = 1, extra: Record<string, unknown> = {}): Promise<PaidBooking> {
  const user = await customer(made.app);
  const booked = await book(made.app, user.token, byClass(concertId, classId, quantity, extra));
  if (booked.statusCode !== 201) throw new Error(`booking answered ${booked.statusCode}: ${booked.body}`);
  const booking = booked.json<{ id: string; seats: { id: string; seat_number: number }[] }>();
  const started = await made.app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(user.token), payload: { booking_id: booking.id, payment_method: 'e_wallet' } });
  const payment = started.json<{ transaction_id: string; amount: number }>();
  const paid = await webhook(made.app, made.services.command.api.webhookSecret, { transaction_id: payment.transaction_id, status: 'succeeded', amount: payment.amount });
  if (paid.statusCode !== 200) throw new Error(`webhook answered ${paid.statusCode}: ${paid.body}`);
  // The door finds a ticket's concert by the reactor's index of sales.
  const { reactors } = made.services.command;
  await eventually(async () => (await reactors.concertOfTicket(booking.seats[0]?.id ?? '')) !== null, 'the sale indexed by the bookings reactor');
  return { user, bookingId: booking.id, seats: booking.seats };
}

/** The QR code of a ticket (a seat's id) at a revision, signed with the app's key. */
export function qrOf(made: TestApp, concertId: string, ticketId: string, revision = 1): string {
  return made.services.command.api.ticketCodes.sign({ t: ticketId, c: concertId, s: parseSeatId(ticketId)?.seatNumber ?? 1, r: revision, h: 'RK', k: '1234' });
}
