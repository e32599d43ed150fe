/** A database of its own for one benchmark, dropped afterwards. */
import { randomUUID } from 'node:crypto';
import knex from 'knex';

export async function withDatabase<T>(serverUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const { url, drop } = await database(serverUrl, `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  try {
    return await use(url);
  } finally {
    await drop();
  }
}

/** A database named `name` on the server, and how to drop it. */
export async function database(serverUrl: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = knex({ client: 'mysql2', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => { await admin.raw('DROP DATABASE IF EXISTS ??', [name]); await admin.destroy(); } };
}
