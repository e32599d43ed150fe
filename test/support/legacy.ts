/**
 * The older system's three databases on the harness's MariaDB (schemas in test/fixtures/legacy/,
 * written from shared/LEGACY.md), with the messy fixture or generated rows.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import type { Test } from 'tap';
import type { LegacyDatabases } from '../../command-api/legacy-import/legacy-source.ts';
import { freshMysqlDatabase } from './services.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'legacy');

async function runSql(url: string, file: string): Promise<void> {
  const db = knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
  try {
    const text = await readFile(join(FIXTURES, file), 'utf8');
    const statements = text.split(/;\s*\n/).map((s) => s.split('\n').filter((line) => !line.startsWith('--')).join('\n').trim()).filter(Boolean);
    for (const statement of statements) await db.raw(statement);
  } finally {
    await db.destroy();
  }
}

/** The older schema (user_db, booking_db, payment_db) in three empty databases. */
export async function createLegacySchema({ usersDb, bookingsDb, paymentsDb }: LegacyDatabases): Promise<void> {
  await Promise.all([runSql(usersDb, 'user_db.sql'), runSql(bookingsDb, 'booking_db.sql'), runSql(paymentsDb, 'payment_db.sql')]);
}

/** Three fresh databases with the older schema; with `fixture`, its rows too. Dropped when the test ends. */
export async function legacyDatabases(t: Test, fixture: 'messy' | null = 'messy'): Promise<LegacyDatabases> {
  const [usersDb, bookingsDb, paymentsDb] = await Promise.all([freshMysqlDatabase(t), freshMysqlDatabase(t), freshMysqlDatabase(t)]);
  if (usersDb === undefined || bookingsDb === undefined || paymentsDb === undefined) throw new Error('no databases');
  await createLegacySchema({ usersDb, bookingsDb, paymentsDb });
  if (fixture === 'messy') {
    await Promise.all([runSql(usersDb, 'messy-users.sql'), runSql(bookingsDb, 'messy-bookings.sql'), runSql(paymentsDb, 'messy-payments.sql')]);
  }
  return { usersDb, bookingsDb, paymentsDb };
}

/** The password of every generated user; its bcrypt hash (cost 10, `$2a$` as Go writes it) below. */
export const BULK_PASSWORD = 'grace-old-secret-5';
const BULK_HASH = '$2a$10$ZGUZCuRHcouzo9fdpfdWEeNMyaBGjAfzl6JQKZF8QEeji54HTAZf6';

/**
 * Generated clean rows: `bookings` confirmed and paid bookings of one seat each, by as many users,
 * on concerts of 10,000 seats (or `seatsPerConcert`). Multi-row INSERTs of `chunk` rows; the time they took is returned,
 * in all and for a booking's own rows (bookings, booking_seats, buyers, payments).
 */
export async function generateLegacy(databases: LegacyDatabases, bookings: number, options: { chunk?: number; seatsPerConcert?: number } = {}): Promise<{ insertMs: number; bookingRowsMs: number }> {
  const chunk = options.chunk ?? 1_000;
  const open = (url: string): Knex => knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
  const users = open(databases.usersDb);
  const booking = open(databases.bookingsDb);
  const payments = open(databases.paymentsDb);
  const seatsPerConcert = options.seatsPerConcert ?? 10_000;
  const concerts = Math.max(1, Math.ceil(bookings / seatsPerConcert));
  const at = (minutes: number): string => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');
  const uuid = (n: number): string => `c0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const started = Date.now();
  let bookingRowsMs: number;
  try {
    const insert = async (db: Knex, table: string, count: number, row: (i: number) => Record<string, unknown>): Promise<void> => {
      for (let from = 0; from < count; from += chunk) {
        await db(table).insert(Array.from({ length: Math.min(chunk, count - from) }, (_, k) => row(from + k)));
      }
    };
    await insert(users, 'users', bookings, (i) => ({ id: i + 1, created_at: at(0), updated_at: at(0), username: `fan${i + 1}`, email: `fan${i + 1}@old.example.test`, password: BULK_HASH, role: 'user' }));
    await insert(booking, 'concerts', concerts, (i) => ({ id: i + 1, created_at: at(0), updated_at: at(0), name: `Concert ${i + 1}`, artist: 'Artist', date: '2025-12-01 19:00:00.000', venue: 'Venue', total_seats: seatsPerConcert, available_seats: 0, status: 'active' }));
    await insert(booking, 'ticket_classes', concerts, (i) => ({ id: i + 1, created_at: at(0), updated_at: at(0), concert_id: i + 1, name: 'Festival', price: '100000.00', total_seats_in_class: seatsPerConcert, available_seats_in_class: 0 }));
    await insert(booking, 'seats', concerts * seatsPerConcert, (i) => ({ id: i + 1, created_at: at(0), updated_at: at(0), concert_id: Math.floor(i / seatsPerConcert) + 1, ticket_class_id: Math.floor(i / seatsPerConcert) + 1, seat_number: `F${(i % seatsPerConcert) + 1}`, status: i < bookings ? 'booked' : 'available' }));
    const bookingRowsStarted = Date.now();
    await insert(booking, 'bookings', bookings, (i) => ({ id: uuid(i + 1), created_at: at(10 + i), updated_at: at(12 + i), user_id: i + 1, concert_id: Math.floor(i / seatsPerConcert) + 1, seat_ids: `[${i + 1}]`, total_price: '100000.00', status: 'confirmed', payment_id: i + 1, expires_at: at(25 + i) }));
    await insert(booking, 'booking_seats', bookings, (i) => ({ booking_id: uuid(i + 1), seat_id: i + 1, created_at: at(10 + i), updated_at: at(10 + i) }));
    await insert(booking, 'buyers', bookings, (i) => ({ id: i + 1, created_at: at(10 + i), updated_at: at(10 + i), booking_id: uuid(i + 1), full_name: `Fan ${i + 1}`, phone_number: '081200000000', email: `fan${i + 1}@old.example.test`, ktp_number: String(3_200_000_000_000_000 + i) }));
    await insert(payments, 'payments', bookings, (i) => ({ id: i + 1, created_at: at(11 + i), updated_at: at(12 + i), booking_id: uuid(i + 1), amount: '100000.00', payment_method: 'bank_transfer', transaction_id: `TXN-${i + 1}`, status: 'completed' }));
    bookingRowsMs = Date.now() - bookingRowsStarted;
  } finally {
    await Promise.all([users.destroy(), booking.destroy(), payments.destroy()]);
  }
  return { insertMs: Date.now() - started, bookingRowsMs };
}
