import t from 'tap';
import type { UserEvent } from '../../domain/user/index.ts';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { sealed } from '../../test/support/sealed.ts';
import { sealedFromText } from '../../lib/personal-data/sealed-text.ts';
import { usersProjection } from './users.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const hash = (c: string): string => c.repeat(64);

function registered(id: string, username: string, emailHash: string): UserEvent {
  return {
    type: 'UserRegistered',
    data: { user_id: id, username, email_hash: emailHash, email: sealed(`${username}@example.com`), password_hash: '$argon2id$secret', role: 'customer', registered_at: T0 },
  };
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`users follow registration, verification, logins and address changes (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, usersProjection(), kind);
    t.equal(await given([registered('u-1', 'rina', hash('a')), registered('u-2', 'budi', hash('b'))]), 'applied');
    const row = await db('users').where({ id: 'u-1' }).first<Row>();
    t.match(row, { username: 'rina', email_hash: hash('a'), role: 'customer', created_at: T0, last_login: null });
    t.equal(Number(row.email_verified), 0);
    t.same(sealedFromText(String(row?.email)), sealed('rina@example.com'), 'the address stays sealed');
    t.notOk(Object.keys(row).some((column) => /password/.test(column)), 'no password hash in the read model');

    const later = '2026-12-01T11:00:00.000Z';
    // u-2 moves from b to c, and u-1 takes b, in one batch.
    t.equal(await given([
      { type: 'EmailVerified', data: { user_id: 'u-1', email_hash: hash('a'), verified_at: later } },
      { type: 'UserLoggedIn', data: { user_id: 'u-1', logged_in_at: later } },
      { type: 'EmailChanged', data: { user_id: 'u-2', email_hash: hash('c'), email: sealed('budi@new.example'), changed_at: later } },
      { type: 'EmailChanged', data: { user_id: 'u-1', email_hash: hash('b'), email: sealed('rina@budi-old.example'), changed_at: later } },
    ]), 'applied', 'an address given up and taken in the same batch does not collide');
    const users: Row = Object.fromEntries((await db('users').select<Row[]>('id', 'email_hash', 'email_verified', 'last_login')).map((r): [string, unknown] => [String(r.id), [r.email_hash, Number(r.email_verified), r.last_login]]));
    t.same(users, { 'u-1': [hash('b'), 0, later], 'u-2': [hash('c'), 0, null] });

    const before = await tableChecksums(db, ['users']);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, ['users']), before, 'a re-delivered page changes nothing');

    t.equal(await given([{ type: 'RoleChanged', data: { user_id: 'u-2', role: 'staff', changed_at: later } }]), 'applied');
    t.match(await db('users').where({ id: 'u-2' }).first<Row>(), { role: 'staff' }, 'a role change');

    t.equal(await given([{ type: 'PersonalDataForgotten', data: { user_id: 'u-1', forgotten_at: later } }]), 'applied');
    t.match(await db('users').where({ id: 'u-1' }).first<Row>(), { username: 'rina', email: null, email_hash: null });
  });
}
