/** Concerts, their classes and seat maps, read from the concerts projection's tables. */
import type { Knex } from 'knex';
import { toCanonicalInstant } from '../../domain/index.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';
import type { AsRead, ConcertRow, SeatRow, SeatStatus, TicketClassRow } from '../../read-models/tables.ts';
import { decodeCursor, pageOf } from '../pagination.ts';

export interface ConcertView extends Omit<ConcertRow, 'created_at'> {
  ticket_classes: Omit<TicketClassRow, 'concert_id' | 'sort_order'>[];
}

export interface SeatView {
  id: string;
  seat_number: number;
  status: SeatStatus;
  ticket_class_id: string;
}

export interface ConcertFilter {
  readonly q?: string;
  readonly status?: ConcertView['status'];
  readonly dateFrom?: string;
  readonly dateTo?: string;
  readonly limit: number;
  readonly cursor?: string;
}

export interface SeatFilter {
  readonly ticketClassId?: string;
  readonly status?: SeatView['status'];
  readonly limit: number;
  readonly cursor?: string;
}

type ConcertColumns = AsRead<Omit<ConcertRow, 'created_at'>>;

const CONCERT_COLUMNS = ['id', 'name', 'artist', 'date', 'venue', 'description', 'image_url', 'status', 'max_tickets_per_ktp', 'sales_open_at', 'sales_close_at', 'waiting_room', 'total_seats', 'available_seats', 'position'];

/** `%` and `_` in a search are letters, not wildcards. */
function likeContaining(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Every read takes the database it reads (a replica or the primary, chosen per request). */
export class ConcertReads {
  async one(db: Knex, id: string): Promise<ConcertView | undefined> {
    const row = await db('concerts').where({ id }).first<ConcertColumns | undefined>(CONCERT_COLUMNS);
    if (row === undefined) return undefined;
    return (await this.#withClasses(db, [row]))[0];
  }

  /** Upcoming first: by date, then id; filters use the date, status and name indexes. */
  async list(db: Knex, filter: ConcertFilter): Promise<{ items: ConcertView[]; next_cursor: string | null }> {
    let query = db('concerts').select<ConcertColumns[]>(CONCERT_COLUMNS).orderBy([{ column: 'date' }, { column: 'id' }]).limit(filter.limit + 1);
    if (filter.status !== undefined) query = query.where('status', filter.status);
    // Checked by the route's Instant schema; compared in the canonical form the rows hold.
    if (filter.dateFrom !== undefined) query = query.where('date', '>=', toCanonicalInstant(filter.dateFrom));
    if (filter.dateTo !== undefined) query = query.where('date', '<=', toCanonicalInstant(filter.dateTo));
    if (filter.q !== undefined) {
      const pattern = likeContaining(filter.q);
      // MySQL escapes LIKE patterns with a backslash already; SQLite must be told.
      const like = sqlDialectOf(db) === 'sqlite' ? "LIKE ? ESCAPE '\\'" : 'LIKE ?';
      query = query.where((where) => void where.whereRaw(`name ${like}`, [pattern]).orWhereRaw(`artist ${like}`, [pattern]));
    }
    if (filter.cursor !== undefined) {
      const [date, id] = decodeCursor(filter.cursor, ['string', 'string']) as [string, string];
      query = query.where((where) => void where.where('date', '>', date).orWhere((same) => void same.where('date', date).andWhere('id', '>', id)));
    }
    const rows = await query;
    const page = pageOf(rows, filter.limit, (last) => [last.date, last.id]);
    return { items: await this.#withClasses(db, page.items), next_cursor: page.next_cursor };
  }

  /** A concert's seats by class and number; never who holds them. Undefined: no such concert. */
  async seats(db: Knex, concertId: string, filter: SeatFilter): Promise<{ items: SeatView[]; next_cursor: string | null; position: number } | undefined> {
    const concert = await db('concerts').where({ id: concertId }).first<Pick<AsRead<ConcertRow>, 'position'> | undefined>('position');
    if (concert === undefined) return undefined;
    let query = db('seats').where('concert_id', concertId)
      .select<Pick<AsRead<SeatRow>, 'id' | 'seat_number' | 'status' | 'ticket_class_id'>[]>('id', 'seat_number', 'status', 'ticket_class_id')
      .orderBy([{ column: 'ticket_class_id' }, { column: 'seat_number' }]).limit(filter.limit + 1);
    if (filter.ticketClassId !== undefined) query = query.where('ticket_class_id', filter.ticketClassId);
    if (filter.status !== undefined) query = query.where('status', filter.status);
    if (filter.cursor !== undefined) {
      const [classId, number] = decodeCursor(filter.cursor, ['string', 'number']) as [string, number];
      query = query.where((where) => void where.where('ticket_class_id', '>', classId)
        .orWhere((same) => void same.where('ticket_class_id', classId).andWhere('seat_number', '>', number)));
    }
    const rows = (await query).map((row) => ({ ...row, seat_number: Number(row.seat_number) }));
    return { ...pageOf(rows, filter.limit, (last) => [last.ticket_class_id, last.seat_number]), position: Number(concert.position) };
  }

  async #withClasses(db: Knex, rows: readonly ConcertColumns[]): Promise<ConcertView[]> {
    if (rows.length === 0) return [];
    const classes = await db('ticket_classes').whereIn('concert_id', rows.map((row) => row.id)).orderBy('sort_order')
      .select<Pick<AsRead<TicketClassRow>, 'id' | 'concert_id' | 'name' | 'price' | 'total_seats_in_class' | 'available_seats_in_class'>[]>(
        'id', 'concert_id', 'name', 'price', 'total_seats_in_class', 'available_seats_in_class');
    return rows.map((row) => ({
      ...row,
      max_tickets_per_ktp: row.max_tickets_per_ktp === null ? null : Number(row.max_tickets_per_ktp),
      waiting_room: Boolean(row.waiting_room),
      total_seats: Number(row.total_seats),
      available_seats: Number(row.available_seats),
      position: Number(row.position),
      ticket_classes: classes.filter((c) => c.concert_id === row.id).map((c) => ({
        id: c.id,
        name: c.name,
        price: Number(c.price),
        total_seats_in_class: Number(c.total_seats_in_class),
        available_seats_in_class: Number(c.available_seats_in_class),
      })),
    }));
  }
}
