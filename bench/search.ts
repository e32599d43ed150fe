/**
 * The back office's booking search on a big read model: GET /api/v1/admin/bookings?concert_id=…
 * &status=… (a page of 20, newest first) over `bookings` bookings, next to a primary-key read of
 * one booking, GET /api/v1/bookings/:id, measured in the same run by the same query role.
 *
 * The bookings are written straight into the read model in multi-row INSERTs (a projection of as
 * many booking streams would take longer than the measurement; the search reads only the tables),
 * spread over ten concerts and the six statuses; one concert is real (created over HTTP, so its
 * name and class are joined in). Buyers are seeded as forgotten (no sealed details): both routes
 * then assemble the same rows without opening a key, and the comparison is of the reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import knex from 'knex';
import { freePort } from '../test/harness/servers.ts';
import { withDatabase } from './database.ts';
import { spawnProcess, stop } from './processes.ts';
import { summary, type ReadFigures } from './query.ts';

export interface SearchFigures {
  readonly bookings: number;
  /** Rows of the searched concert in the searched status. */
  readonly matching: number;
  readonly seedSeconds: number;
  readonly search: ReadFigures;
  readonly byId: ReadFigures;
}

const CONNECTIONS = 20;
const STATUSES = ['pending', 'confirmed', 'cancelled', 'expired', 'failed', 'refund_due'] as const;

async function measure(url: string, token: string, seconds: number): Promise<autocannon.Result> {
  const headers = { authorization: `Bearer ${token}` };
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 1 }); // warm-up
  return autocannon({ url, headers, connections: CONNECTIONS, duration: seconds });
}

export async function benchSearch(mysqlServerUrl: string, options: { bookings: number; rounds: number; seconds: number; log: (line: string) => void }): Promise<SearchFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-search-'));
  try {
    return await withDatabase(mysqlServerUrl, async (mysqlUrl) => {
      const env = {
        HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: mysqlUrl, LOG_LEVEL: 'warn', RATE_LIMIT: 'off', PAYMENT_GATEWAY: 'sandbox',
        JWT_SECRET: randomBytes(32).toString('hex'), JWT_TTL_SECONDS: '86400', PERSONAL_DATA_KEY: randomBytes(32).toString('base64'),
        PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
        BOXOFFICE_ADMIN_PASSWORD: 'Bench-Admin-Pass-2026',
      };
      // Every role once: the read models migrated, the admin made, one real concert projected.
      let port = await freePort();
      const setup = await spawnProcess(['app/server.ts'], { ...env, PORT: String(port) }, /boxoffice is running/);
      let token: string;
      let concert: { id: string; classId: string };
      try {
        const base = `http://127.0.0.1:${port}`;
        const login = await fetch(`${base}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'Bench-Admin-Pass-2026' }) });
        token = ((await login.json()) as { access_token: string }).access_token;
        const created = await fetch(`${base}/api/v1/admin/concerts`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ name: 'Search Night', artist: 'Bench', date: '2027-03-01T12:00:00Z', venue: 'JIExpo', ticket_classes: [{ name: 'Festival', price: 500_000, total_seats_in_class: 100 }] }),
        });
        const answer = (await created.json()) as { id: string; position: number; ticket_classes: { id: string }[] };
        concert = { id: answer.id, classId: answer.ticket_classes[0]?.id ?? '' };
        for (const deadline = Date.now() + 30_000; ;) {
          if ((await fetch(`${base}/api/v1/concerts/${concert.id}?min_position=${answer.position}`)).status === 200) break;
          if (Date.now() > deadline) throw new Error('the concert was not projected');
        }
      } finally {
        await stop(setup);
      }

      const seeded = Date.now();
      const { matching, sampleId } = await seed(mysqlUrl, concert, options.bookings);
      const seedSeconds = (Date.now() - seeded) / 1000;
      options.log(`  seeded ${options.bookings} bookings in ${seedSeconds.toFixed(1)} s; ${matching} of the searched concert and status`);

      port = await freePort();
      const query = await spawnProcess(['app/server.ts'], { ...env, PORT: String(port), BOXOFFICE_ROLE: 'query' }, /boxoffice is running/);
      try {
        const searchUrl = `http://127.0.0.1:${port}/api/v1/admin/bookings?concert_id=${concert.id}&status=confirmed`;
        const byIdUrl = `http://127.0.0.1:${port}/api/v1/bookings/${sampleId}`;
        for (const url of [searchUrl, byIdUrl]) {
          const check = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
          if (check.status !== 200) throw new Error(`${url} answered ${check.status}: ${await check.text()}`);
        }
        const page = (await (await fetch(searchUrl, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[] };
        if (page.items.length !== Math.min(20, matching)) throw new Error(`the search answered ${page.items.length} bookings, not ${Math.min(20, matching)}`);
        const searches: autocannon.Result[] = [];
        const reads: autocannon.Result[] = [];
        for (let round = 1; round <= options.rounds; round++) {
          reads.push(await measure(byIdUrl, token, options.seconds));
          searches.push(await measure(searchUrl, token, options.seconds));
          options.log(`  round ${round}: by id ${Math.round(reads.at(-1)?.requests.average ?? 0)}, search ${Math.round(searches.at(-1)?.requests.average ?? 0)} req/s`);
        }
        return { bookings: options.bookings, matching, seedSeconds, search: summary(searches), byId: summary(reads) };
      } finally {
        await stop(query);
      }
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** `count` bookings in multi-row INSERTs, with a seat and a (forgotten) buyer each. */
async function seed(mysqlUrl: string, concert: { id: string; classId: string }, count: number): Promise<{ matching: number; sampleId: string }> {
  const db = knex({ client: 'mysql2', connection: mysqlUrl, pool: { min: 0, max: 4 } });
  try {
    const concerts = [concert.id, ...Array.from({ length: 9 }, () => randomUUID())];
    const users = Array.from({ length: Math.max(1, Math.floor(count / 4)) }, () => randomUUID());
    const start = Date.parse('2026-10-01T00:00:00.000Z');
    let matching = 0;
    let sampleId = '';
    const part = 2_000;
    for (let from = 0; from < count; from += part) {
      const bookings = [];
      const seats = [];
      const buyers = [];
      for (let i = from; i < Math.min(count, from + part); i++) {
        const id = randomUUID();
        const concertId = concerts[i % concerts.length] as string;
        const status = STATUSES[Math.floor(i / concerts.length) % STATUSES.length] as (typeof STATUSES)[number];
        if (concertId === concert.id && status === 'confirmed') {
          matching++;
          sampleId = id;
        }
        const createdAt = new Date(start + i * 1_000).toISOString();
        const userId = users[i % users.length] as string;
        bookings.push({
          id, user_id: userId, concert_id: concertId, status, total_price: 500_000, expires_at: new Date(start + i * 1_000 + 900_000).toISOString(),
          created_at: createdAt, updated_at: createdAt, payment_id: null, transaction_id: null, buyer_email_digest: randomBytes(32).toString('hex'), position: i + 1,
        });
        seats.push({ booking_id: id, seat_id: randomUUID(), ticket_class_id: concert.classId, seat_number: (i % 100) + 1, price: 500_000, seq: 0 });
        buyers.push({ booking_id: id, user_id: userId, personal_data: null });
      }
      await Promise.all([db('bookings').insert(bookings), db('booking_seats').insert(seats), db('buyers').insert(buyers)]);
    }
    await db.raw('ANALYZE TABLE bookings, booking_seats, buyers');
    return { matching, sampleId };
  } finally {
    await db.destroy();
  }
}
