/**
 * Every way the back office filters bookings walks an index, newest first, and sorts nothing:
 * MariaDB's EXPLAIN of each combination of filters (with and without a cursor), on a read model
 * big enough that a full scan and a sort would be the planner's other choice. And the username
 * prefix of the users list is a range of the username index.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import t from 'tap';
import { openReadModels } from '../../read-models/database.ts';
import type { BookingRow, BookingStatus, UserRow } from '../../read-models/tables.ts';
import { databaseFor } from '../../test/support/projections.ts';
import { encodeCursor } from '../pagination.ts';
import { userListQuery } from '../users/user-reads.ts';
import { bookingSearchQueries, searchBookings, type BookingSearch } from './booking-search.ts';

const STATUSES: BookingStatus[] = ['pending', 'confirmed', 'cancelled', 'expired', 'failed', 'refund_due'];
const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Plan { table: string; type: string; key: string | null; Extra: string | null }

async function explain(db: Knex, query: Knex.QueryBuilder): Promise<Plan[]> {
  const { sql, bindings } = query.toSQL();
  return ((await db.raw(`EXPLAIN ${sql}`, bindings)) as [Plan[]])[0];
}

/** Every subset of the filters. */
function combinations<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((subsets, item) => [...subsets, ...subsets.map((subset) => [...subset, item])], [[]]);
}

t.test('every filter combination walks an index in order: no full scan, no filesort (MariaDB EXPLAIN)', async (t) => {
  const { options } = await databaseFor(t, 'mysql');
  const db = await openReadModels(options);
  t.teardown(() => db.destroy());

  const concerts = Array.from({ length: 8 }, () => randomUUID());
  const users: UserRow[] = Array.from({ length: 400 }, (_, i) => ({
    id: randomUUID(), username: `user${String(i).padStart(4, '0')}`, email_hash: hex(`user${i}@example.test`), email: null,
    role: 'customer', email_verified: true, created_at: '2026-01-01T00:00:00.000Z', last_login: null, position: i + 1,
  }));
  const rows: BookingRow[] = Array.from({ length: 8_000 }, (_, i) => ({
    id: randomUUID(),
    user_id: (users[i % users.length] as UserRow).id,
    concert_id: concerts[i % concerts.length] as string,
    status: STATUSES[(i * 7) % STATUSES.length] as BookingStatus,
    total_price: 100_000,
    expires_at: '2027-01-01T00:15:00.000Z',
    created_at: new Date(Date.UTC(2026, 11, 1) + i * 1_000).toISOString(),
    updated_at: '2027-01-01T00:00:00.000Z',
    payment_id: null,
    transaction_id: null,
    buyer_email_digest: hex(`buyer${i % 3_000}@example.test`),
    position: i + 1,
  }));
  for (let i = 0; i < users.length; i += 500) await db('users').insert(users.slice(i, i + 500));
  for (let i = 0; i < rows.length; i += 1_000) await db('bookings').insert(rows.slice(i, i + 1_000));
  await db.raw('ANALYZE TABLE bookings, users');

  const sample = rows[4_321] as BookingRow;
  const filters: Partial<Record<keyof BookingSearch, string>> = {
    concertId: sample.concert_id,
    status: 'confirmed',
    userId: sample.user_id,
    emailDigest: (users[7] as UserRow).email_hash as string, // an account's address: two index walks
    createdFrom: '2026-12-01T00:30:00.000Z',
    createdTo: '2026-12-01T02:00:00.000Z',
  };
  let checked = 0;
  for (const names of combinations(Object.keys(filters) as (keyof typeof filters)[])) {
    for (const cursor of [undefined, encodeCursor([sample.created_at, sample.id])]) {
      const search = { limit: 20, ...Object.fromEntries(names.map((name) => [name, filters[name]])), ...(cursor === undefined ? {} : { cursor }) } as BookingSearch;
      const label = `${names.join(' + ') || 'no filter'}${cursor === undefined ? '' : ', after a cursor'}`;
      for (const query of await bookingSearchQueries(db, search)) {
        const plans = await explain(db, query);
        for (const plan of plans) {
          t.not(plan.type, 'ALL', `${label}: no full scan`);
          t.ok(plan.key !== null && plan.key !== 'PRIMARY', `${label}: walks ${plan.key}`);
          t.notMatch(plan.Extra ?? '', /filesort|temporary/, `${label}: nothing sorted`);
        }
        checked++;
      }
    }
  }
  t.ok(checked >= 128, `${checked} queries explained`);

  // The plans serve the right rows too.
  const found = await searchBookings(db, { limit: 5, concertId: sample.concert_id, status: sample.status });
  const expected = rows.filter((row) => row.concert_id === sample.concert_id && row.status === sample.status)
    .sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).slice(0, 5).map((row) => row.id);
  t.same(found.rows.map((row) => row.id), expected, 'the newest five of the concert in that status');

  const users_ = await explain(db, userListQuery(db, { q: 'USER01', limit: 20 }));
  t.match(users_, [{ key: 'users_username_unique', type: 'range' }], 'the username prefix is a range of the username index');
  t.notMatch(users_[0]?.Extra ?? '', /filesort/);
  t.same((await userListQuery(db, { q: 'USER01', limit: 20 }).select<{ username: string }[]>('username')).length, 21, 'any case: user0100 … user0199, one page and one more');
});

t.test('the same search and users list on SQLite (the embedded default)', async (t) => {
  const { options } = await databaseFor(t, 'sqlite');
  const db = await openReadModels(options);
  t.teardown(() => db.destroy());
  const [concert, other, user, account] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await db('users').insert([
    { id: account, username: 'Rina_K', email_hash: hex('rina@example.test'), email: null, role: 'customer', email_verified: true, created_at: '2026-01-01T00:00:00.000Z', last_login: null, position: 1 },
    { id: user, username: 'rinaxk', email_hash: hex('other@example.test'), email: null, role: 'staff', email_verified: false, created_at: '2026-01-01T00:00:00.000Z', last_login: null, position: 2 },
  ]);
  const booking = (n: number, overrides: Partial<BookingRow>): BookingRow => ({
    id: `0000000${n}-0000-4000-8000-000000000000`, user_id: user, concert_id: concert, status: 'pending', total_price: 1, expires_at: '2027-01-01T00:00:00.000Z',
    created_at: `2026-12-01T00:00:0${n}.000Z`, updated_at: '2026-12-01T00:00:00.000Z', payment_id: null, transaction_id: null, buyer_email_digest: null, position: n, ...overrides,
  });
  await db('bookings').insert([
    booking(1, { buyer_email_digest: hex('rina@example.test') }),
    booking(2, { status: 'confirmed' }),
    booking(3, { concert_id: other, user_id: account }),
    booking(4, { status: 'confirmed', buyer_email_digest: hex('other@example.test') }),
  ]);
  const ids = async (search: Omit<BookingSearch, 'limit'>): Promise<string[]> => (await searchBookings(db, { limit: 10, ...search })).rows.map((row) => row.id.slice(7, 8));
  t.same(await ids({}), ['4', '3', '2', '1']);
  t.same(await ids({ concertId: concert, status: 'confirmed' }), ['4', '2']);
  t.same(await ids({ emailDigest: hex('rina@example.test') }), ['3', '1'], "the buyer's address and the account's bookings");
  t.same(await ids({ createdFrom: '2026-12-01T00:00:02Z', createdTo: '2026-12-01T00:00:03Z' }), ['3', '2']);
  const first = await searchBookings(db, { limit: 3 });
  t.same((await searchBookings(db, { limit: 3, ...(first.next_cursor === null ? {} : { cursor: first.next_cursor }) })).rows.map((row) => row.id.slice(7, 8)), ['1'], 'the next page');
  t.same((await userListQuery(db, { q: 'RINA_', limit: 10 }).select<{ username: string }[]>('username')).map((row) => row.username), ['Rina_K'], 'any case; _ is a character');
  t.same((await userListQuery(db, { q: 'rina', limit: 10 }).select<{ username: string }[]>('username')).length, 2);
});
