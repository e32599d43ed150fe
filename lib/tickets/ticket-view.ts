/**
 * A ticket as the API shows it, with its QR code signed for its current revision: the same shape
 * from the command API (a transfer's answer) and the query API (a booking's tickets).
 */
import { initialsOf, type TicketCodes } from './ticket-codes.ts';

export type TicketStatus = 'valid' | 'admitted' | 'void';

export interface TicketView {
  readonly id: string;
  readonly booking_id: string;
  readonly concert_id: string;
  readonly seat_number: number;
  readonly ticket_class_name: string;
  /** null once the buyer's personal data was forgotten. */
  readonly holder_name: string | null;
  readonly holder_ktp_last4: string | null;
  readonly status: TicketStatus;
  readonly revision: number;
  /** null when the ticket is void, or its holder forgotten: nothing left to scan. */
  readonly qr: string | null;
}

export interface TicketFacts {
  readonly id: string;
  readonly bookingId: string;
  readonly concertId: string;
  readonly seatNumber: number;
  readonly ticketClassName: string;
  readonly holder: { readonly full_name: string; readonly ktp_number: string } | null;
  readonly status: TicketStatus;
  readonly revision: number;
}

export function ticketView(codes: TicketCodes, ticket: TicketFacts): TicketView {
  const { holder } = ticket;
  const last4 = holder === null ? null : holder.ktp_number.slice(-4);
  return {
    id: ticket.id,
    booking_id: ticket.bookingId,
    concert_id: ticket.concertId,
    seat_number: ticket.seatNumber,
    ticket_class_name: ticket.ticketClassName,
    holder_name: holder?.full_name ?? null,
    holder_ktp_last4: last4,
    status: ticket.status,
    revision: ticket.revision,
    qr: holder === null || last4 === null || ticket.status === 'void'
      ? null
      : codes.sign({ t: ticket.id, c: ticket.concertId, s: ticket.seatNumber, r: ticket.revision, h: initialsOf(holder.full_name), k: last4 }),
  };
}
