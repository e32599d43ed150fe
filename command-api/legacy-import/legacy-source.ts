/**
 * The older system's three MySQL databases (shared/LEGACY.md), read as they are: every row,
 * soft-deleted ones too (the reconciliation counts them), times as the text MySQL holds
 * (taken as UTC) and decimals as text (so cents are seen, never rounded by a float).
 */
import knex, { type Knex } from 'knex';
import { mysqlSession } from '../../lib/db/mysql-session.ts';

export interface LegacyUser {
  readonly id: number;
  readonly created_at: string | null;
  readonly deleted_at: string | null;
  readonly username: string;
  readonly email: string;
  readonly password: string;
  readonly role: string;
  readonly last_login: string | null;
}

export interface LegacyConcert {
  readonly id: number;
  readonly created_at: string | null;
  readonly deleted_at: string | null;
  readonly name: string;
  readonly artist: string;
  readonly date: string;
  readonly venue: string;
  readonly description: string | null;
  readonly status: string;
  readonly image_url: string | null;
}

export interface LegacyTicketClass {
  readonly id: number;
  readonly deleted_at: string | null;
  readonly concert_id: number;
  readonly name: string;
  readonly price: string;
  readonly total_seats_in_class: number;
}

export interface LegacySeat {
  readonly id: number;
  readonly deleted_at: string | null;
  readonly concert_id: number;
  readonly ticket_class_id: number;
  readonly seat_number: string;
  readonly status: string;
}

export interface LegacyBooking {
  readonly id: string;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly deleted_at: string | null;
  readonly user_id: number;
  readonly concert_id: number;
  readonly seat_ids: string | null;
  readonly total_price: string;
  readonly status: string;
  readonly expires_at: string | null;
}

export interface LegacyBookingSeat {
  readonly booking_id: string;
  readonly seat_id: number;
  readonly deleted_at: string | null;
}

export interface LegacyBuyer {
  readonly id: number;
  readonly deleted_at: string | null;
  readonly booking_id: string;
  readonly full_name: string;
  readonly phone_number: string;
  readonly email: string;
  readonly ktp_number: string;
}

export interface LegacyTicketHolder {
  readonly id: number;
  readonly deleted_at: string | null;
  readonly booking_id: string;
  readonly full_name: string;
  readonly ktp_number: string;
}

export interface LegacyPayment {
  readonly id: number;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly deleted_at: string | null;
  readonly booking_id: string | null;
  readonly amount: string;
  readonly payment_method: string;
  readonly transaction_id: string | null;
  readonly status: string;
}

export interface LegacyData {
  readonly users: readonly LegacyUser[];
  readonly concerts: readonly LegacyConcert[];
  readonly ticketClasses: readonly LegacyTicketClass[];
  readonly seats: readonly LegacySeat[];
  readonly bookings: readonly LegacyBooking[];
  readonly bookingSeats: readonly LegacyBookingSeat[];
  readonly buyers: readonly LegacyBuyer[];
  readonly ticketHolders: readonly LegacyTicketHolder[];
  readonly payments: readonly LegacyPayment[];
}

export interface LegacyDatabases {
  readonly usersDb: string;
  readonly bookingsDb: string;
  readonly paymentsDb: string;
}

function open(url: string): Knex {
  // dateStrings: the text as stored (no local-time conversion); decimals arrive as text by default.
  return knex({ client: 'mysql2', connection: { uri: url, dateStrings: true, supportBigNumbers: true }, pool: { min: 0, max: 2, afterCreate: mysqlSession() } } as Knex.Config);
}

/** Reads every row of the three databases, in id order (bookings: by creation, then id). */
export async function readLegacy(databases: LegacyDatabases): Promise<LegacyData> {
  const users = open(databases.usersDb);
  const bookings = open(databases.bookingsDb);
  const payments = open(databases.paymentsDb);
  try {
    const [userRows, concerts, ticketClasses, seats, bookingRows, bookingSeats, buyers, ticketHolders, paymentRows] = await Promise.all([
      users('users').select<LegacyUser[]>('id', 'created_at', 'deleted_at', 'username', 'email', 'password', 'role', 'last_login').orderBy('id'),
      bookings('concerts').select<LegacyConcert[]>('id', 'created_at', 'deleted_at', 'name', 'artist', 'date', 'venue', 'description', 'status', 'image_url').orderBy('id'),
      bookings('ticket_classes').select<LegacyTicketClass[]>('id', 'deleted_at', 'concert_id', 'name', 'price', 'total_seats_in_class').orderBy('id'),
      bookings('seats').select<LegacySeat[]>('id', 'deleted_at', 'concert_id', 'ticket_class_id', 'seat_number', 'status').orderBy('id'),
      bookings('bookings').select<LegacyBooking[]>('id', 'created_at', 'updated_at', 'deleted_at', 'user_id', 'concert_id', 'seat_ids', 'total_price', 'status', 'expires_at').orderBy([{ column: 'created_at' }, { column: 'id' }]),
      bookings('booking_seats').select<LegacyBookingSeat[]>('booking_id', 'seat_id', 'deleted_at').orderBy(['booking_id', 'seat_id']),
      bookings('buyers').select<LegacyBuyer[]>('id', 'deleted_at', 'booking_id', 'full_name', 'phone_number', 'email', 'ktp_number').orderBy('id'),
      bookings('ticket_holders').select<LegacyTicketHolder[]>('id', 'deleted_at', 'booking_id', 'full_name', 'ktp_number').orderBy('id'),
      payments('payments').select<LegacyPayment[]>('id', 'created_at', 'updated_at', 'deleted_at', 'booking_id', 'amount', 'payment_method', 'transaction_id', 'status').orderBy([{ column: 'created_at' }, { column: 'id' }]),
    ]);
    return {
      users: numbered(userRows),
      concerts: numbered(concerts),
      ticketClasses: numbered(ticketClasses, 'concert_id', 'total_seats_in_class'),
      seats: numbered(seats, 'concert_id', 'ticket_class_id'),
      bookings: numbered(bookingRows, 'user_id', 'concert_id'),
      bookingSeats: numbered(bookingSeats, 'seat_id'),
      buyers: numbered(buyers),
      ticketHolders: numbered(ticketHolders),
      payments: numbered(paymentRows),
    };
  } finally {
    await Promise.all([users.destroy(), bookings.destroy(), payments.destroy()]);
  }
}

/** bigint columns may arrive as text (supportBigNumbers): ids are numbers here, and always safe integers. */
function numbered<T extends object>(rows: T[], ...columns: string[]): T[] {
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (const name of ['id', ...columns]) {
      const value = record[name];
      if (typeof value === 'string' && /^[0-9]+$/.test(value)) record[name] = Number(value);
    }
  }
  return rows;
}

/** A MySQL datetime as stored ('2025-02-01 10:00:00.000'), read as UTC; null when absent or unreadable. */
export function legacyInstant(value: string | null): string | null {
  if (value === null) return null;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?/.exec(value);
  if (match === null) return null;
  const millis = (match[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  const iso = `${match[1] ?? ''}T${match[2] ?? ''}${millis}Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/** decimal(10,2) text → whole rupiah, or null when it has cents (or is no amount at all). */
export function rupiah(value: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (match === null) return null;
  if (match[2] !== undefined && Number(match[2]) !== 0) return null;
  const whole = Number(match[1]);
  return Number.isSafeInteger(whole) ? whole : null;
}
