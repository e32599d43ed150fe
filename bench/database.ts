/** A database of its own for one benchmark, dropped afterwards. */
import { randomUUID } from 'node:crypto';
import knex from 'knex';

export async function withDatabase<T>(serverUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = knex({ client: 'mysql2', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await use(url.toString());
  } finally {
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
    await admin.destroy();
  }
}
