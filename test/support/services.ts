/**
 * What a spec needs to reach the real servers the harness started. A spec that needs a server
 * fails (never skips) when the harness did not provide it: a test must not pass with the
 * server down.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import knex, { type Knex } from 'knex';

export type ServiceVariable = 'MYSQL_URL' | 'REDIS_URL' | 'NATS_URL';

export function serviceUrl(variable: ServiceVariable): string {
  const url = process.env[variable];
  if (!url) {
    throw new Error(`${variable} is not set: run specs with \`npm test\` or \`npm run test:specs -- <files>\`, which start the servers`);
  }
  return url;
}

/** A unique, short, SQL-safe name for per-spec resources. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The MariaDB URL with a database of its own, created now and dropped when the test ends. */
export async function freshMysqlDatabase(t: Test): Promise<string> {
  const name = uniqueName('t');
  const admin = knex({ client: 'mysql2', connection: serviceUrl('MYSQL_URL'), pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  } finally {
    await admin.destroy();
  }
  t.teardown(async () => {
    const dropper = knex({ client: 'mysql2', connection: serviceUrl('MYSQL_URL'), pool: { min: 0, max: 1 } });
    try {
      await dropper.raw('DROP DATABASE IF EXISTS ??', [name]);
    } finally {
      await dropper.destroy();
    }
  });
  const url = new URL(serviceUrl('MYSQL_URL'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** A knex instance on a fresh database, destroyed when the test ends. */
export async function freshMysql(t: Test): Promise<Knex> {
  const db = knex({ client: 'mysql2', connection: await freshMysqlDatabase(t), pool: { min: 0, max: 10 } });
  t.teardown(() => db.destroy());
  return db;
}

/**
 * Where a spec's event store and reactor store are: one fresh MariaDB database for both, or two
 * SQLite files in a temp dir (the embedded default), removed when the test ends.
 */
export async function eventAndReactorStores(t: Test, client: 'mysql2' | 'better-sqlite3') {
  if (client === 'mysql2') {
    const url = await freshMysqlDatabase(t);
    return { events: { client, url }, reactors: { client, url } } as const;
  }
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-stores-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { events: { client, filename: join(dir, 'events.sqlite') }, reactors: { client, filename: join(dir, 'reactors.sqlite') } } as const;
}
