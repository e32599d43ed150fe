/**
 * The users as admins list them, from the users read model: by username, optionally those that
 * begin with a prefix (case-insensitively), by keyset on the username. A prefix is a range of
 * users_username_unique; the read models' collation compares usernames case-insensitively (on
 * MySQL/MariaDB), as they are unique: "Rina.K" and "rina.k" are one name.
 */
import type { Knex } from 'knex';
import { sqlDialectOf } from '../../lib/db/dialect.ts';
import type { AsRead, UserRow } from '../../read-models/tables.ts';
import { decodeCursor, pageOf } from '../pagination.ts';

export interface UserListItem {
  id: string;
  username: string;
  role: string;
  email_verified: boolean;
  created_at: string;
}

type ListedRow = Pick<AsRead<UserRow>, 'id' | 'username' | 'role' | 'email_verified' | 'created_at'>;

/** The query of one page and a row more; exported for the spec that EXPLAINs it. */
export function userListQuery(db: Knex, query: { q?: string; limit: number; cursor?: string }): Knex.QueryBuilder {
  let select = db('users').orderBy('username').limit(query.limit + 1);
  if (query.q !== undefined) {
    // A username is letters, digits and _ . - (the route checks q the same way): only _ needs escaping.
    const pattern = `${query.q.replace(/[\\%_]/g, '\\$&')}%`;
    // MySQL escapes LIKE patterns with a backslash already; SQLite must be told (and its LIKE ignores ASCII case).
    select = select.whereRaw(sqlDialectOf(db) === 'sqlite' ? "username LIKE ? ESCAPE '\\'" : 'username LIKE ?', [pattern]);
  }
  if (query.cursor !== undefined) {
    const [username] = decodeCursor(query.cursor, ['string']) as [string];
    select = select.where('username', '>', username);
  }
  return select;
}

export async function listUsers(db: Knex, query: { q?: string; limit: number; cursor?: string }): Promise<{ items: UserListItem[]; next_cursor: string | null }> {
  const rows = await userListQuery(db, query).select<ListedRow[]>('id', 'username', 'role', 'email_verified', 'created_at');
  const page = pageOf(rows, query.limit, (last) => [last.username]);
  return {
    items: page.items.map((row) => ({ id: row.id, username: row.username, role: row.role, email_verified: Boolean(row.email_verified), created_at: row.created_at })),
    next_cursor: page.next_cursor,
  };
}
