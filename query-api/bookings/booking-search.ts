/**
 * The back office's booking search over the bookings read model: by concert, status, user, time
 * placed and exact email, newest first, by keyset on (created_at, id). Every way of filtering has
 * an index that ends in (created_at, id) (migrations/006_admin_search.ts), so a page walks one
 * index from the cursor and sorts nothing.
 *
 * An email is searched by its keyed digest, never in clear text. It finds the bookings whose buyer
 * gave that address, and the bookings of the account registered with it (the users read model's
 * `email_hash` is the same digest): an operator asked about "the tickets of rina@…" wants both.
 * The two are separate index walks merged here, each already in order.
 */
import type { Knex } from 'knex';
import { toCanonicalInstant } from '../../domain/index.ts';
import type { AsRead, BookingRow, BookingStatus } from '../../read-models/tables.ts';
import { decodeCursor, pageOf } from '../pagination.ts';

export interface BookingSearch {
  readonly concertId?: string;
  readonly status?: BookingStatus;
  readonly userId?: string;
  /** The keyed digest of the searched address (lib/personal-data/digest.ts emailDigest). */
  readonly emailDigest?: string;
  /** Placed at or after this instant. */
  readonly createdFrom?: string;
  /** Placed at or before this instant. */
  readonly createdTo?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * The queries a search runs, each already limited to one page and a row more: one, or with an
 * email two (the buyer's address, the account's). Exported for the spec that EXPLAINs them.
 */
export async function bookingSearchQueries(db: Knex, search: BookingSearch): Promise<Knex.QueryBuilder[]> {
  const filtered = (): Knex.QueryBuilder => {
    let query = db('bookings')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(search.limit + 1);
    if (search.concertId !== undefined) query = query.where('concert_id', search.concertId);
    if (search.status !== undefined) query = query.where('status', search.status);
    if (search.userId !== undefined) query = query.where('user_id', search.userId);
    if (search.createdFrom !== undefined) query = query.where('created_at', '>=', toCanonicalInstant(search.createdFrom));
    if (search.createdTo !== undefined) query = query.where('created_at', '<=', toCanonicalInstant(search.createdTo));
    if (search.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(search.cursor, ['string', 'string']) as [string, string];
      query = query.where((where) => void where.where('created_at', '<', createdAt).orWhere((same) => void same.where('created_at', createdAt).andWhere('id', '<', id)));
    }
    return query;
  };
  if (search.emailDigest === undefined) return [filtered()];
  const account = await db('users').where('email_hash', search.emailDigest).first<{ id: string } | undefined>('id');
  const byBuyer = filtered().where('buyer_email_digest', search.emailDigest);
  // Another user asked for: the account's own bookings cannot be among them.
  if (account === undefined || (search.userId !== undefined && search.userId !== account.id)) return [byBuyer];
  return [byBuyer, filtered().where('user_id', account.id)];
}

/** One page of bookings rows, newest first, and the cursor of the next. */
export async function searchBookings(db: Knex, search: BookingSearch): Promise<{ rows: AsRead<BookingRow>[]; next_cursor: string | null }> {
  const pages = await Promise.all((await bookingSearchQueries(db, search)).map((query) => query.select<AsRead<BookingRow>[]>()));
  const byId = new Map(pages.flat().map((row) => [row.id, row]));
  // Both walks are newest first; merged, the first limit + 1 are the page and whether more follow.
  const rows = [...byId.values()]
    .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.created_at < b.created_at ? 1 : -1))
    .slice(0, search.limit + 1);
  const page = pageOf(rows, search.limit, (last) => [last.created_at, last.id]);
  return { rows: page.items, next_cursor: page.next_cursor };
}
