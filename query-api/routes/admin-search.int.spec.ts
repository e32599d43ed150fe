/**
 * The back office over HTTP: GET /api/v1/admin/bookings (every filter, pages without duplicates or
 * gaps, the email through its keyed digest, forget-me) and GET /api/v1/admin/users.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import t from 'tap';
import knex from 'knex';
import { testApp, type TestApp } from '../../test/support/app.ts';
import { adminToken, book, buyer, byClass, createConcert, customer } from '../../test/support/booking.ts';
import { emailDigestIn } from '../../test/support/digest.ts';
import { paidBooking } from '../../test/support/door.ts';
import { assertNoSecretsInLogs, bearer, login, newAccount, register } from '../../test/support/users.ts';

interface Listed { id: string; status: string; concert_id: string; created_at: string; buyer_info: { email: string } | null }
interface Page<T> { items: T[]; next_cursor: string | null }

async function get<T>(made: TestApp, token: string | undefined, url: string): Promise<{ status: number; body: T; code: string | undefined }> {
  const answer = await made.app.inject({ method: 'GET', url, headers: token === undefined ? {} : bearer(token) });
  const body = answer.json<T & { code?: string }>();
  return { status: answer.statusCode, body, code: body.code };
}

/** Every page of a list, following next_cursor. */
async function allPages<T>(made: TestApp, token: string, url: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const joiner = url.includes('?') ? '&' : '?';
    const answer: { status: number; body: Page<T> } = await get<Page<T>>(made, token, cursor === null ? url : `${url}${joiner}cursor=${cursor}`);
    if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}`);
    items.push(...answer.body.items);
    cursor = answer.body.next_cursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { items, pages };
}

const newestFirst = (a: Listed, b: Listed): number => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1);

t.test('admins find bookings by concert, status, user, time and email; nobody else can', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services, logs } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const concertA = await createConcert(app, admin, [{ name: 'Tribune', price: 300_000, total_seats_in_class: 30 }], { name: 'Konser A' });
  const concertB = await createConcert(app, admin, [{ name: 'Tribune', price: 100_000, total_seats_in_class: 30 }], { name: 'Konser B' });
  const classOf = (c: typeof concertA) => (c.ticket_classes[0] as { id: string }).id;
  // The read models, as the query API reads them.
  const db = knex({ client: 'mysql2', connection: services.shared.config.mysqlUrl ?? '', pool: { min: 0, max: 2 } });
  t.teardown(() => db.destroy());

  // Alice: an account whose address is also typed as a buyer's address by Bob (a gift).
  const aliceAccount = await register(app, newAccount('alice'));
  const alice = { id: aliceAccount.id, token: await login(app, aliceAccount) };
  const bob = await customer(app);
  const carol = await customer(app);
  const ids: Record<string, string> = {};
  let position = 0;
  const place = async (name: string, who: { token: string }, concert: typeof concertA, buyerInfo = buyer()): Promise<void> => {
    const answer = await book(app, who.token, { ...byClass(concert.id, classOf(concert), 1), buyer_info: buyerInfo });
    if (answer.statusCode !== 201) throw new Error(`${name}: ${answer.statusCode} ${answer.body}`);
    const placed = answer.json<{ id: string; position: number }>();
    ids[name] = placed.id;
    position = Math.max(position, placed.position);
  };
  const cancel = async (name: string, who: { token: string }): Promise<void> => {
    const answer = await app.inject({ method: 'PUT', url: `/api/v1/bookings/${ids[name]}/cancel`, headers: bearer(who.token) });
    if (answer.statusCode !== 200) throw new Error(`cancel ${name}: ${answer.statusCode}`);
    position = Math.max(position, answer.json<{ position: number }>().position);
  };
  const aliceBuyer = buyer();
  await place('alice-a', alice, concertA, aliceBuyer);
  await cancel('alice-a', alice);
  await place('alice-a2', alice, concertA, aliceBuyer);
  await place('alice-b', alice, concertB);
  const gift = buyer({ email: aliceAccount.email });
  await place('bob-a', bob, concertA, gift);
  await cancel('bob-a', bob);
  await place('bob-b', bob, concertB);
  const carolBuyer = buyer();
  await place('carol-a', carol, concertA, carolBuyer);
  const paid = await paidBooking(made, concertA.id, classOf(concertA));
  ids.paid = paid.bookingId;
  const at = `min_position=${await services.shared.store.headPosition()}`;

  const everything = await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?limit=100&${at}`);
  t.equal(everything.status, 200);
  const all = everything.body.items;
  t.same(new Set(all.map((b) => b.id)), new Set(Object.values(ids)), 'every booking, and only those');
  t.same(all.map((b) => b.id), [...all].sort(newestFirst).map((b) => b.id), 'newest first');
  t.equal(everything.body.next_cursor, null);
  const byName = (name: string): Listed => all.find((b) => b.id === ids[name]) as Listed;
  t.match(byName('alice-a2'), { concert_id: concertA.id, status: 'pending', buyer_info: { email: aliceBuyer.email } }, 'items as GET /bookings/:id answers them');
  const one = await get<Listed>(made, admin, `/api/v1/bookings/${ids['alice-a2']}`);
  t.same(byName('alice-a2'), one.body, 'the very same item');
  t.notOk('user_id' in byName('alice-a2'), 'the owner id stays inside, as in GET /bookings/:id');

  t.test('pages: no duplicates, no gaps, whatever the page size', async (t) => {
    for (const limit of [1, 2, 3]) {
      const { items, pages } = await allPages<Listed>(made, admin, `/api/v1/admin/bookings?limit=${limit}`);
      t.same(items.map((b) => b.id), all.map((b) => b.id), `limit ${limit}: the same list`);
      t.equal(pages, Math.ceil(all.length / limit), `limit ${limit}: ${pages} pages`);
    }
    const filtered = await allPages<Listed>(made, admin, `/api/v1/admin/bookings?limit=1&concert_id=${concertA.id}&status=pending`);
    t.same(filtered.items.map((b) => b.id), all.filter((b) => b.concert_id === concertA.id && b.status === 'pending').map((b) => b.id), 'filtered pages too');
  });

  t.test('each filter and their combinations', async (t) => {
    const ask = async (query: string): Promise<string[]> => {
      const answer = await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?limit=100&${query}`);
      t.equal(answer.status, 200, query);
      return answer.body.items.map((b) => b.id);
    };
    const where = (keep: (b: Listed) => boolean): string[] => all.filter(keep).map((b) => b.id);
    t.same(await ask(`concert_id=${concertB.id}`), [ids['bob-b'], ids['alice-b']], 'concert');
    t.same(await ask(`concert_id=${concertB.id.toUpperCase()}`), [ids['bob-b'], ids['alice-b']], 'a concert id in capitals is the same id');
    t.same(await ask('status=cancelled'), [ids['bob-a'], ids['alice-a']], 'status');
    t.same(await ask('status=confirmed'), [ids.paid], 'a paid booking is confirmed');
    t.same(await ask(`concert_id=${concertA.id}&status=pending`), [ids['carol-a'], ids['alice-a2']], 'concert and status');
    t.same(await ask(`user_id=${bob.id}`), [ids['bob-b'], ids['bob-a']], 'user');
    t.same(await ask(`user_id=${bob.id}&concert_id=${concertA.id}&status=cancelled`), [ids['bob-a']], 'user, concert and status');
    t.same(await ask(`user_id=${randomUUID()}`), [], 'a user without bookings');
    const middle = byName('alice-b').created_at;
    t.same(await ask(`created_from=${middle}`), where((b) => b.created_at >= middle), 'from (inclusive)');
    t.same(await ask(`created_to=${middle}`), where((b) => b.created_at <= middle), 'to (inclusive)');
    t.same(await ask(`created_from=${middle}&created_to=${middle}`), where((b) => b.created_at === middle), 'one instant');
    t.ok((await ask(`created_from=${middle}&created_to=${middle}`)).includes(ids['alice-b'] as string));
    t.same(await ask(`created_from=${middle}&concert_id=${concertA.id}&status=pending`), where((b) => b.created_at >= middle && b.concert_id === concertA.id && b.status === 'pending'), 'time, concert and status');
    t.same(await ask('created_from=2020-01-01T00:00:00Z&created_to=2020-12-31T23:59:59Z'), [], 'a year without bookings');
  });

  t.test('email: exact, through the keyed digest; the buyer\'s address and the account\'s', async (t) => {
    const ask = async (email: string, more = ''): Promise<string[]> => {
      const answer = await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?limit=100&email=${encodeURIComponent(email)}${more}`);
      t.equal(answer.status, 200, 'searched');
      return answer.body.items.map((b) => b.id);
    };
    t.same(await ask(carolBuyer.email), [ids['carol-a']], "the buyer's address finds the booking");
    t.same(await ask(`  ${carolBuyer.email.toUpperCase()} `), [ids['carol-a']], 'addresses compare without case and surrounding space, as the digest normalizes them');
    t.same(await ask(aliceBuyer.email), [ids['alice-a2'], ids['alice-a']], 'both bookings Alice typed it into');
    t.same(await ask(aliceAccount.email), [ids['bob-a'], ids['alice-b'], ids['alice-a2'], ids['alice-a']],
      "an account's address finds the account's bookings and those whose buyer typed it, newest first");
    t.same(await ask(aliceAccount.email, `&concert_id=${concertA.id}&status=cancelled`), [ids['bob-a'], ids['alice-a']], 'with other filters');
    const paged = await allPages<Listed>(made, admin, `/api/v1/admin/bookings?limit=1&email=${encodeURIComponent(aliceAccount.email)}`);
    t.same(paged.items.map((b) => b.id), [ids['bob-a'], ids['alice-b'], ids['alice-a2'], ids['alice-a']], 'pages of a merged search: no duplicates, no gaps');
    t.same(await ask(`x${carolBuyer.email}`), [], 'another address finds nothing');
    t.same(await ask(carolBuyer.email.replace('@', '.x@')), [], 'nor a near one');
  });

  t.test('no clear-text address in any read-model table, only digests', async (t) => {
    const addresses = [aliceBuyer.email, carolBuyer.email, aliceAccount.email, gift.email].map((email) => email.toLowerCase());
    const names = async (sql: string): Promise<string[]> => ((await db.raw(sql)) as [{ name: string }[]])[0].map((row) => row.name);
    const tables = await names('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()');
    t.ok(tables.includes('bookings') && tables.includes('users'));
    for (const table of tables) {
      const rows = JSON.stringify(await db(table).select()).toLowerCase();
      for (const address of addresses) t.notOk(rows.includes(address), `no address in ${table}`);
    }
    const columns = await names("SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'bookings'");
    t.notOk(columns.some((column) => /email/.test(column) && column !== 'buyer_email_digest'), 'the bookings table has no email column but the digest');
    const row = await db('bookings').where({ id: ids['carol-a'] }).first<{ buyer_email_digest: string } | undefined>();
    t.equal(row?.buyer_email_digest, await emailDigestIn(made.dataDir, carolBuyer.email), 'the keyed digest, as the app computes it');
  });

  t.test('forget-me: the search by the address finds nothing afterwards, and no digest is left', async (t) => {
    const forgotten = await app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${carol.id}/personal-data`, headers: bearer(admin) });
    t.equal(forgotten.statusCode, 200);
    const after = `min_position=${await services.shared.store.headPosition()}`;
    const found = await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?email=${encodeURIComponent(carolBuyer.email)}&${after}`);
    t.equal(found.status, 200);
    t.same(found.body.items, [], 'nothing found by the forgotten address');
    const rows = await db('bookings').where('user_id', carol.id).select<{ buyer_email_digest: string | null }[]>('buyer_email_digest');
    t.same(rows, [{ buyer_email_digest: null }], 'the booking stays, its digest is gone');
    t.same((await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?user_id=${carol.id}`)).body.items.map((b) => b.id), [ids['carol-a']], 'still found by its user');
    t.same((await get<Page<Listed>>(made, admin, `/api/v1/admin/bookings?email=${encodeURIComponent(aliceBuyer.email)}`)).body.items.map((b) => b.id), [ids['alice-a2'], ids['alice-a']], "another user's bookings are still found");
  });

  t.test('bad filters are 400 VALIDATION_FAILED', async (t) => {
    for (const query of [
      'concert_id=not-a-uuid', 'user_id=42', 'status=paid', 'email=no-at-sign', `email=${'a'.repeat(250)}@x.test`, 'created_from=yesterday',
      'created_to=2027-13-01T00:00:00Z', 'created_from=2027-01-02T00:00:00Z&created_to=2027-01-01T00:00:00Z', 'limit=0', 'limit=101', 'sort=created_at',
    ]) {
      const answer = await get(made, admin, `/api/v1/admin/bookings?${query}`);
      t.equal(answer.status, 400, query);
      t.equal(answer.code, 'VALIDATION_FAILED', query);
    }
    const cursor = await get(made, admin, `/api/v1/admin/bookings?cursor=${Buffer.from('[1]').toString('base64url')}`);
    t.match(cursor, { status: 400, code: 'INVALID_CURSOR' }, 'a cursor this API did not give out');
  });

  t.test('401 without a token, 403 for customers and door staff', async (t) => {
    t.equal((await get(made, undefined, '/api/v1/admin/bookings')).status, 401);
    t.equal((await get(made, undefined, '/api/v1/admin/users')).status, 401);
    const staff = await register(app, newAccount('door'));
    t.equal((await app.inject({ method: 'PUT', url: `/api/v1/admin/users/${staff.id}/role`, headers: bearer(admin), payload: { role: 'staff' } })).statusCode, 200);
    const staffToken = await login(app, staff);
    for (const [who, token] of [['customer', bob.token], ['staff', staffToken]] as const) {
      for (const url of ['/api/v1/admin/bookings', `/api/v1/admin/bookings?email=${encodeURIComponent(carolBuyer.email)}`, '/api/v1/admin/users']) {
        const answer = await get(made, token, url);
        t.equal(answer.status, 403, `${who}: ${url}`);
        t.equal(answer.code, 'FORBIDDEN');
      }
    }
  });

  t.test('logs carry no address', async (t) => {
    for (const address of [aliceBuyer.email, carolBuyer.email, gift.email]) t.notOk(logs.join('\n').toLowerCase().includes(address.toLowerCase()), 'not logged');
    assertNoSecretsInLogs(t, logs);
  });
});

t.test('admins list users by username prefix, any case, page by page', async (t) => {
  const made = await testApp(t);
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const stem = `Qz${randomBytes(3).toString('hex')}`;
  const names = [`${stem}_b`, `${stem}.a`, `${stem.toLowerCase()}c`, `${stem}-d`, `${stem}_e`];
  for (const username of names) await register(app, { ...newAccount(), username });
  await register(app, newAccount('other'));
  const at = `min_position=${await services.shared.store.headPosition()}`;

  const listed = await get<Page<{ id: string; username: string; role: string; email_verified: boolean; created_at: string }>>(made, admin, `/api/v1/admin/users?q=${stem.toUpperCase()}&limit=100&${at}`);
  t.equal(listed.status, 200);
  t.same(new Set(listed.body.items.map((user) => user.username)), new Set(names), 'every username with the prefix, in any case, and no other');
  const first = listed.body.items[0];
  t.same(Object.keys(first ?? {}).sort(), ['created_at', 'email_verified', 'id', 'role', 'username']);
  t.match(first, { role: 'customer', email_verified: false });
  t.notOk(JSON.stringify(listed.body).includes('@'), 'no address listed');

  const paged = await allPages<{ username: string }>(made, admin, `/api/v1/admin/users?q=${stem}&limit=2`);
  t.same(paged.items.map((user) => user.username), listed.body.items.map((user) => user.username), 'pages: the same list, no duplicates, no gaps');
  t.equal(paged.pages, 3);
  t.same((await get<Page<{ username: string }>>(made, admin, `/api/v1/admin/users?q=${stem}_`)).body.items.map((user) => user.username).sort(), [`${stem}_b`, `${stem}_e`].sort(),
    'an underscore is a character, not a wildcard');
  const everyone = await allPages<{ username: string }>(made, admin, '/api/v1/admin/users?limit=3');
  t.ok(everyone.items.length >= names.length + 2, 'without q: every user, the admin too');
  t.ok(everyone.items.some((user) => user.username === 'admin'));
  t.equal(new Set(everyone.items.map((user) => user.username)).size, everyone.items.length, 'no duplicates');
  for (const query of ['q=a%25', 'q=a%20b', 'q=', `q=${'a'.repeat(51)}`, 'limit=0', 'role=admin']) {
    t.match(await get(made, admin, `/api/v1/admin/users?${query}`), { status: 400, code: 'VALIDATION_FAILED' }, query);
  }
});
