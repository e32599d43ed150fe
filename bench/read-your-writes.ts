/**
 * Read-your-writes across processes, as production runs them: a command-api, a projector and a
 * query-api, each its own process on MariaDB, Redis and NATS. A client books (command-api answers
 * 201 with the position of its events), then at once asks the query-api for that booking with
 * `min_position`: the time from the 201 to the 200 is how long a write takes to become visible to
 * its writer. The baseline, same run, same processes: the same read of a booking already
 * projected — one query-api round trip, the floor the wait adds to.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../lib/personal-data/key-store.ts';
import { freePort, startNats, startRedis } from '../test/harness/servers.ts';
import { withDatabase } from './database.ts';
import { tokens } from './flash-sale.ts';
import { spawnProcess, stop } from './processes.ts';
import { ascending, quantile } from './quantile.ts';
import { eachConcurrently } from '../lib/each-concurrently.ts';

export interface LatencyFigures {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface PhaseFigures {
  readonly clients: number;
  /** 201 from the command-api → 200 from the query-api with min_position. */
  readonly visible: LatencyFigures;
  /** The command itself, for scale. */
  readonly command: LatencyFigures;
  /** A read of a booking already projected. */
  readonly plainRead: LatencyFigures;
  readonly lagging: number;
}

export interface ReadYourWritesFigures {
  /** One client at a time: the latency of the path itself. */
  readonly oneClient: PhaseFigures;
  /** Many at once, on the same two cores: with the queueing of a busy machine. */
  readonly manyClients: PhaseFigures;
}

const buyerInfo = { full_name: 'Rina Kusuma', phone_number: '081234567890', email: 'rina@example.test', ktp_number: '3201234567890001' };

function latency(samples: readonly number[]): LatencyFigures {
  const sorted = ascending(samples);
  return { samples: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? 0 };
}

export async function benchReadYourWrites(mysqlServerUrl: string, options: { users: number; clients: number; log: (line: string) => void }): Promise<ReadYourWritesFigures> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-bench-ryw-'));
  try {
    return await withDatabase(mysqlServerUrl, async (mysqlUrl) => {
      const secret = randomBytes(32).toString('hex');
      const personalKey = randomBytes(32);
      const env = {
        HOST: '127.0.0.1', BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: mysqlUrl, REDIS_URL: redis.url, NATS_URL: nats.url,
        JWT_SECRET: secret, PERSONAL_DATA_KEY: personalKey.toString('base64'), PERSONAL_DATA_DIGEST_KEY: randomBytes(32).toString('base64'), TICKET_SIGNING_KEYS: randomBytes(32).toString('base64'),
        PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'), PAYMENT_GATEWAY: 'sandbox',
        RATE_LIMIT: 'off', LOG_LEVEL: 'warn', BOXOFFICE_ADMIN_PASSWORD: 'Bench-Admin-Pass-2026',
      };
      const commandPort = await freePort();
      const queryPort = await freePort();
      const projectorPort = await freePort();
      const command = await spawnProcess(['app/server.ts'], { ...env, PORT: String(commandPort), BOXOFFICE_ROLE: 'command' }, /boxoffice is running/);
      const projector = await spawnProcess(['app/server.ts'], { ...env, PORT: String(projectorPort), BOXOFFICE_ROLE: 'projector' }, /boxoffice is running/);
      const query = await spawnProcess(['app/server.ts'], { ...env, PORT: String(queryPort), BOXOFFICE_ROLE: 'query' }, /boxoffice is running/);
      try {
        const commands = `http://127.0.0.1:${commandPort}/api/v1`;
        const reads = `http://127.0.0.1:${queryPort}/api/v1`;
        const post = (path: string, token: string, body: unknown) => fetch(`${commands}${path}`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
        });
        const login = await fetch(`${commands}/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'Bench-Admin-Pass-2026' }) });
        const admin = ((await login.json()) as { access_token: string }).access_token;
        const created = await post('/admin/concerts', admin, { name: 'Read Your Writes', artist: 'Bench', date: '2099-02-14T12:00:00Z', venue: 'GBK', ticket_classes: [{ name: 'Festival', price: 750_000, total_seats_in_class: options.users * 2 }] });
        const concert = (await created.json()) as { id: string; ticket_classes: { id: string }[] };
        const signedIn = tokens(secret, options.users);
        const keys = await KeyStore.open({ client: 'mysql2', url: mysqlUrl }, personalKey);
        for (let i = 0; i < signedIn.userIds.length; i += 64) await Promise.all(signedIn.userIds.slice(i, i + 64).map((id) => keys.keyFor(id)));
        await keys.close();
        const body = { concert_id: concert.id, tickets_by_class: [{ ticket_class_id: concert.ticket_classes[0]?.id, quantity: 1 }], buyer_info: buyerInfo };

        /** Books once per token, `clients` at a time, each reading its booking back with min_position; then plain reads. */
        const measure = async (tokens: readonly string[], clients: number): Promise<PhaseFigures> => {
          const visible: number[] = [];
          const commanded: number[] = [];
          const booked: { id: string; token: string }[] = [];
          let lagging = 0;
          await eachConcurrently(tokens, clients, async (token) => {
            const sent = performance.now();
            const answer = await post('/bookings', token, body);
            const accepted = performance.now();
            if (answer.status !== 201) throw new Error(`booking answered ${answer.status}: ${await answer.text()}`);
            const { id, position } = (await answer.json()) as { id: string; position: number };
            const read = await fetch(`${reads}/bookings/${id}?min_position=${position}`, { headers: { authorization: `Bearer ${token}` } });
            await read.arrayBuffer();
            if (read.status === 503) lagging++;
            else if (read.status !== 200) throw new Error(`read answered ${read.status}`);
            visible.push(performance.now() - accepted);
            commanded.push(accepted - sent);
            booked.push({ id, token });
          });
          options.log(`  ${clients} at a time: ${visible.length} bookings read back (${lagging} answered 503 PROJECTION_LAGGING)`);
          // The same reads of bookings already projected, as many at a time.
          const plain: number[] = [];
          await eachConcurrently(booked, clients, async (_, i) => {
            const { id, token } = booked[(i * 7919) % booked.length] as { id: string; token: string };
            const started = performance.now();
            const read = await fetch(`${reads}/bookings/${id}`, { headers: { authorization: `Bearer ${token}` } });
            await read.arrayBuffer();
            if (read.status !== 200) throw new Error(`plain read answered ${read.status}`);
            plain.push(performance.now() - started);
          });
          // The first answer of each client is left out (connections, JIT).
          return { clients, visible: latency(visible.slice(clients)), command: latency(commanded.slice(clients)), plainRead: latency(plain), lagging };
        };
        const alone = Math.min(300, Math.floor(signedIn.tokens.length / 4));
        return {
          oneClient: await measure(signedIn.tokens.slice(0, alone), 1),
          manyClients: await measure(signedIn.tokens.slice(alone), options.clients),
        };
      } finally {
        await Promise.all([stop(command), stop(projector), stop(query)]);
      }
    });
  } finally {
    await Promise.all([redis.stop(), nats.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
