/**
 * Tickets as their buyers (and admins) read them, and the door's counts, from the tickets read
 * model. A holder is opened with the buyer's key here, at the last moment; only the name and the
 * KTP's last 4 digits leave. The QR code is signed for the ticket's current revision on every read,
 * so a transfer's old code is never shown again.
 */
import type { Knex } from 'knex';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { sealedFromText } from '../../lib/personal-data/sealed-text.ts';
import type { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import { ticketView, type TicketView } from '../../lib/tickets/ticket-view.ts';
import type {
  AsRead, BookingRow, ConcertRow, TicketAdmissionRow, TicketClassRow, TicketRow,
} from '../../read-models/tables.ts';

interface Holder { full_name: string; ktp_number: string }

type TicketRead = AsRead<TicketRow> & { ticket_class_name: TicketClassRow['name'] | null };

export interface BookingTickets {
  readonly booking: Pick<AsRead<BookingRow>, 'id' | 'user_id' | 'status' | 'concert_id'>;
  readonly tickets: TicketView[];
}

export interface PrintableTickets extends BookingTickets {
  readonly concert: Pick<ConcertRow, 'name' | 'date' | 'venue'> | null;
}

export interface CheckinSummary {
  concert_id: string;
  classes: { ticket_class_id: string; ticket_class_name: string; issued: number; admitted: number; void: number }[];
  gates: { gate: string; admitted: number }[];
}

const TICKET_COLUMNS = ['tickets.id', 'tickets.booking_id', 'tickets.concert_id', 'tickets.user_id', 'tickets.seat_number', 'tickets.seq', 'tickets.revision', 'tickets.holder', 'tickets.status', 'ticket_classes.name as ticket_class_name'];

export class TicketReads {
  constructor(private readonly personalData: PersonalData, private readonly codes: TicketCodes) {}

  /** A booking and its tickets in seat order, or null when there is no such booking. */
  async ofBooking(db: Knex, bookingId: string): Promise<BookingTickets | null> {
    const booking = await db('bookings').where({ id: bookingId }).first<BookingTickets['booking'] | undefined>('id', 'user_id', 'status', 'concert_id');
    if (booking === undefined) return null;
    const rows = await db('tickets').leftJoin('ticket_classes', 'ticket_classes.id', 'tickets.ticket_class_id')
      .where('tickets.booking_id', bookingId).orderBy('tickets.seq').select<TicketRead[]>(TICKET_COLUMNS);
    return { booking, tickets: await this.#views(rows) };
  }

  /** As `ofBooking`, with the concert the page prints. */
  async printable(db: Knex, bookingId: string): Promise<PrintableTickets | null> {
    const tickets = await this.ofBooking(db, bookingId);
    if (tickets === null) return null;
    const concert = await db('concerts').where({ id: tickets.booking.concert_id }).first<PrintableTickets['concert'] | undefined>('name', 'date', 'venue');
    return { ...tickets, concert: concert ?? null };
  }

  /** One ticket with its buyer's id (who may read it), or null. */
  async ticket(db: Knex, ticketId: string): Promise<{ userId: string; view: TicketView } | null> {
    const row = await db('tickets').leftJoin('ticket_classes', 'ticket_classes.id', 'tickets.ticket_class_id')
      .where('tickets.id', ticketId).first<TicketRead | undefined>(TICKET_COLUMNS);
    if (row === undefined) return null;
    const [view] = await this.#views([row]);
    return view === undefined ? null : { userId: row.user_id, view };
  }

  /** Per class: tickets issued, admitted and void; per gate: admitted. Null for a concert that does not exist. */
  async checkin(db: Knex, concertId: string): Promise<CheckinSummary | null> {
    const classes = await db('ticket_classes').where({ concert_id: concertId }).orderBy('sort_order')
      .select<Pick<TicketClassRow, 'id' | 'name'>[]>('id', 'name');
    if (classes.length === 0) return null;
    const [statuses, admissions] = await Promise.all([
      db('tickets').where({ concert_id: concertId }).groupBy('ticket_class_id', 'status')
        .select<{ ticket_class_id: string; status: TicketRow['status']; n: number | string }[]>('ticket_class_id', 'status', db.raw('count(*) as n')),
      db('ticket_admissions').where({ concert_id: concertId }).select<AsRead<TicketAdmissionRow>[]>('ticket_class_id', 'gate', 'admitted'),
    ]);
    const count = (classId: string, status?: TicketRow['status']): number => statuses
      .filter((row) => row.ticket_class_id === classId && (status === undefined || row.status === status)).reduce((sum, row) => sum + Number(row.n), 0);
    const admittedAt = (filter: (row: AsRead<TicketAdmissionRow>) => boolean): number => admissions.filter(filter).reduce((sum, row) => sum + Number(row.admitted), 0);
    const gates = [...new Set(admissions.map((row) => row.gate))].sort();
    return {
      concert_id: concertId,
      classes: classes.map((ticketClass) => ({
        ticket_class_id: ticketClass.id,
        ticket_class_name: ticketClass.name,
        issued: count(ticketClass.id),
        // Admissions that happened, also of tickets voided since (a concert cancelled mid-way).
        admitted: admittedAt((row) => row.ticket_class_id === ticketClass.id),
        void: count(ticketClass.id, 'void'),
      })),
      gates: gates.map((gate) => ({ gate, admitted: admittedAt((row) => row.gate === gate) })),
    };
  }

  async #views(rows: readonly TicketRead[]): Promise<TicketView[]> {
    // A buyer holding every ticket is one sealed value: opened once.
    const opened = new Map<string, Promise<Holder | null>>();
    const open = (text: string): Promise<Holder | null> => {
      let holder = opened.get(text);
      if (holder === undefined) {
        holder = this.personalData.open<Holder>(sealedFromText(text));
        opened.set(text, holder);
      }
      return holder;
    };
    return Promise.all(rows.map(async (row) => ticketView(this.codes, {
      id: row.id,
      bookingId: row.booking_id,
      concertId: row.concert_id,
      seatNumber: Number(row.seat_number),
      ticketClassName: row.ticket_class_name ?? '',
      holder: row.holder === null ? null : await open(row.holder),
      status: row.status,
      revision: Number(row.revision),
    })));
  }
}

/** What /metrics tells of the door: admissions per concert and class, from the small counts table. */
export async function admissionsByClass(db: Knex): Promise<{ concert_id: string; ticket_class_id: string; admitted: number }[]> {
  const rows = await db('ticket_admissions').groupBy('concert_id', 'ticket_class_id')
    .select<{ concert_id: string; ticket_class_id: string; admitted: number | string }[]>('concert_id', 'ticket_class_id', db.raw('sum(admitted) as admitted'));
  return rows.map((row) => ({ concert_id: row.concert_id, ticket_class_id: row.ticket_class_id, admitted: Number(row.admitted) }));
}
