/**
 * Bookings and payments as their owners (and admins) read them, from the bookings and payments
 * read models. Buyer and holder details are opened with the buyer's key here, at the last
 * moment, and KTP numbers leave masked; a forgotten user's details are gone (null, empty).
 */
import type { Knex } from 'knex';
import { sealedFromText } from '../../lib/personal-data/sealed-text.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import type {
  AsRead, BookingRow, BookingSeatRow, BookingStatus, BuyerRow, ConcertRow, PaymentRow, PaymentStatus, TicketClassRow, TicketHolderRow,
} from '../../read-models/tables.ts';
import { decodeCursor, pageOf } from '../pagination.ts';

export interface BuyerInfo { full_name: string; phone_number: string; email: string; ktp_number: string }
export interface HolderInfo { full_name: string; ktp_number: string }

export interface BookingView {
  id: string;
  user_id: string;
  status: BookingStatus;
  concert_id: string;
  concert_name: string | null;
  concert_date: string | null;
  total_price: number;
  expires_at: string;
  created_at: string;
  seats: { id: string; seat_number: number; ticket_class_id: string; ticket_class_name: string | null }[];
  buyer_info: BuyerInfo | null;
  ticket_holder_info: HolderInfo[];
  payment_id: string | null;
}

export interface PaymentView {
  id: string;
  user_id: string;
  booking_id: string;
  amount: number;
  payment_method: string;
  status: PaymentStatus;
  transaction_id: string;
  checkout_url: string;
  created_at: string;
}

/** All but the last four digits hidden: enough for a person to recognise their own. */
export function maskKtp(ktp: string): string {
  return ktp.length <= 4 ? '*'.repeat(ktp.length) : `${'*'.repeat(ktp.length - 4)}${ktp.slice(-4)}`;
}

/** Every read takes the database it reads (a replica or the primary, chosen per request). */
export class BookingReads {
  constructor(private readonly personalData: PersonalData) {}

  async booking(db: Knex, id: string): Promise<BookingView | null> {
    const row = await db('bookings').where({ id }).first<AsRead<BookingRow> | undefined>();
    return row === undefined ? null : ((await this.#assemble(db, [row]))[0] ?? null);
  }

  /** A user's bookings, newest first. */
  async mine(db: Knex, userId: string, page: { limit: number; cursor?: string }): Promise<{ items: BookingView[]; next_cursor: string | null }> {
    let query = db('bookings').where('user_id', userId)
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(page.cursor, ['string', 'string']) as [string, string];
      query = query.where((where) => void where.where('created_at', '<', createdAt).orWhere((same) => void same.where('created_at', createdAt).andWhere('id', '<', id)));
    }
    const rows = await query.select<AsRead<BookingRow>[]>();
    const paged = pageOf(rows, page.limit, (last) => [last.created_at, last.id]);
    return { items: await this.#assemble(db, paged.items), next_cursor: paged.next_cursor };
  }

  /** Bookings rows as their readers see them (the back office's search lists them so). */
  async views(db: Knex, rows: readonly AsRead<BookingRow>[]): Promise<BookingView[]> {
    return this.#assemble(db, rows);
  }

  async payment(db: Knex, id: string): Promise<PaymentView | null> {
    const row = await db('payments').where({ id }).first<Pick<AsRead<PaymentRow>, 'id' | 'user_id' | 'booking_id' | 'amount' | 'payment_method' | 'status' | 'transaction_id' | 'checkout_url' | 'created_at'> | undefined>(
      'id', 'user_id', 'booking_id', 'amount', 'payment_method', 'status', 'transaction_id', 'checkout_url', 'created_at');
    return row === undefined ? null : { ...row, amount: Number(row.amount) };
  }

  async #assemble(db: Knex, rows: readonly AsRead<BookingRow>[]): Promise<BookingView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const [seats, buyers, holders, concerts] = await Promise.all([
      db('booking_seats').leftJoin('ticket_classes', 'ticket_classes.id', 'booking_seats.ticket_class_id').whereIn('booking_seats.booking_id', ids)
        .orderBy([{ column: 'booking_seats.booking_id' }, { column: 'booking_seats.seq' }])
        .select<(Pick<AsRead<BookingSeatRow>, 'booking_id' | 'seat_id' | 'seat_number' | 'ticket_class_id'> & { name: TicketClassRow['name'] | null })[]>(
          'booking_seats.booking_id', 'booking_seats.seat_id', 'booking_seats.seat_number', 'booking_seats.ticket_class_id', 'ticket_classes.name'),
      db('buyers').whereIn('booking_id', ids).select<Pick<BuyerRow, 'booking_id' | 'personal_data'>[]>('booking_id', 'personal_data'),
      db('ticket_holders').whereIn('booking_id', ids).orderBy(['booking_id', 'seq']).select<Pick<TicketHolderRow, 'booking_id' | 'personal_data'>[]>('booking_id', 'personal_data'),
      db('concerts').whereIn('id', [...new Set(rows.map((row) => row.concert_id))]).select<Pick<ConcertRow, 'id' | 'name' | 'date'>[]>('id', 'name', 'date'),
    ]);
    return Promise.all(rows.map(async (row) => {
      const concert = concerts.find((c) => c.id === row.concert_id);
      const buyer = await this.#open<BuyerInfo>(buyers.find((b) => b.booking_id === row.id)?.personal_data ?? null);
      const opened = await Promise.all(holders.filter((h) => h.booking_id === row.id).map((h) => this.#open<HolderInfo>(h.personal_data)));
      return {
        id: row.id,
        user_id: row.user_id,
        status: row.status,
        concert_id: row.concert_id,
        concert_name: concert?.name ?? null,
        concert_date: concert?.date ?? null,
        total_price: Number(row.total_price),
        expires_at: row.expires_at,
        created_at: row.created_at,
        seats: seats.filter((seat) => seat.booking_id === row.id).map((seat) => ({
          id: seat.seat_id, seat_number: Number(seat.seat_number), ticket_class_id: seat.ticket_class_id, ticket_class_name: seat.name,
        })),
        buyer_info: buyer === null ? null : { ...buyer, ktp_number: maskKtp(buyer.ktp_number) },
        ticket_holder_info: opened.flatMap((holder) => (holder === null ? [] : [{ full_name: holder.full_name, ktp_number: maskKtp(holder.ktp_number) }])),
        payment_id: row.payment_id,
      };
    }));
  }

  async #open<T>(text: string | null): Promise<T | null> {
    return text === null ? null : this.personalData.open<T>(sealedFromText(text));
  }
}
