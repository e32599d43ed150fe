/**
 * The users read model: who exists, their role and verification, their last login. The address
 * stays sealed; a forgotten user keeps the row without it. Password hashes are not projected.
 */
import type { Knex } from 'knex';
import { sealedToText } from '../../lib/personal-data/sealed-text.ts';
import type { AsRead, UserRow } from '../../read-models/tables.ts';
import { insertMany, instant, selectIn, upsert } from '../bulk.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

const EVENT_TYPES = ['UserRegistered', 'EmailVerified', 'EmailChanged', 'UserLoggedIn', 'PersonalDataForgotten', 'RoleChanged'] as const;

export function usersProjection(): Projection {
  return {
    name: 'users',
    tables: ['users'],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const { trx } = context;
      const events = ofTypes(batch, EVENT_TYPES);
      const table = context.table('users');
      const users = new Map<string, UserRow>();
      for (const row of await selectIn<AsRead<UserRow>>(trx, table, 'id', events.map((event) => event.data.user_id))) {
        users.set(row.id, { ...row, email_verified: Boolean(row.email_verified), position: Number(row.position) });
      }
      const before = new Map([...users].map(([id, row]) => [id, row.email_hash]));
      const touched = new Set<string>();
      /** Users this batch registered: a user stream opens once, so their rows cannot exist yet. */
      const registered = new Set<string>();
      for (const event of events) {
        const userId = event.data.user_id;
        if (event.type === 'UserRegistered') {
          const data = event.data;
          users.set(userId, {
            id: userId,
            username: data.username,
            email_hash: data.email_hash,
            email: sealedToText(data.email),
            role: data.role,
            email_verified: false,
            created_at: instant(data.registered_at),
            last_login: null,
            position: event.position,
          });
          registered.add(userId);
          continue;
        }
        const user = users.get(userId);
        if (user === undefined) continue; // UserRegistered opens every user stream
        switch (event.type) {
          case 'EmailVerified':
            user.email_verified = true;
            break;
          case 'EmailChanged':
            user.email_hash = event.data.email_hash;
            user.email = sealedToText(event.data.email);
            user.email_verified = false;
            break;
          case 'UserLoggedIn':
            user.last_login = instant(event.data.logged_in_at);
            break;
          case 'PersonalDataForgotten':
            user.email = null;
            user.email_hash = null;
            break;
          case 'RoleChanged':
            user.role = event.data.role;
            break;
        }
        user.position = event.position;
        if (!registered.has(userId)) touched.add(userId);
      }
      const changedAddress = [...touched].filter((id) => before.has(id) && before.get(id) !== users.get(id)?.email_hash);
      const rows = [...touched].sort().map((id) => users.get(id) as UserRow);
      return {
        writes: [async (write) => {
          await releaseChangedAddresses(write, table, changedAddress);
          await insertMany(write, table, [...registered].sort().map((id) => users.get(id) as UserRow), context.localInfile);
          await upsert(write, table, rows, ['id'], ['email_hash', 'email', 'email_verified', 'last_login', 'role', 'position']);
        }],
      };
    },
  };
}

/**
 * The batch's end state has unique addresses, but rows written one after another can pass
 * through a state that has not (one user takes the address another gave up in the same batch).
 * Clearing the changed rows' old hashes first leaves nothing to collide with.
 */
async function releaseChangedAddresses(trx: Knex.Transaction, table: string, userIds: readonly string[]): Promise<void> {
  if (userIds.length > 0) await trx(table).whereIn('id', userIds).update({ email_hash: null });
}
