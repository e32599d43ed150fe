/**
 * A ticket as the API shows it, with its QR code signed for its current revision: the same shape
 * from the command API (a transfer's answer) and the query API (a booking's tickets).
 */
import Type, { type Static } from 'typebox';
import { initialsOf, type TicketCodes } from './ticket-codes.ts';

/** A ticket as both APIs answer it: one schema, for their routes and for this module's type. */
export const TicketViewSchema = Type.Object({
  id: Type.String(),
  booking_id: Type.String(),
  concert_id: Type.String(),
  seat_number: Type.Integer(),
  ticket_class_name: Type.String(),
  holder_name: Type.Union([Type.String(), Type.Null()], { description: 'null once the buyer asked to be forgotten' }),
  holder_ktp_last4: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('valid'), Type.Literal('admitted'), Type.Literal('void')]),
  revision: Type.Integer({ minimum: 1, description: '1 at the sale, one more per transfer: only the QR code of the current revision gets in' }),
  qr: Type.Union([Type.String(), Type.Null()], { description: 'BX1.<payload>.<signature>; null when the ticket is void or its holder forgotten' }),
}, { $id: 'Ticket' });

export type TicketView = Static<typeof TicketViewSchema>;
export type TicketStatus = TicketView['status'];

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
