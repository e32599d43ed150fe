/**
 * The adapters a role opens, chosen from the configuration: the real service where its URL is
 * set, the embedded default (SQLite files in the data dir, in-process notifications) otherwise.
 * Shared by every composition root so the roles agree on where things live.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { EsdbEventStore } from '../../eventstore/esdb/esdb-event-store.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import type { Config } from '../../lib/config.ts';
import type { DatabaseOptions } from '../../lib/db/database.ts';
import { openReadModels } from '../../read-models/database.ts';
import { InProcessPositions, NatsPositions, type ProjectionPositions } from '../../read-models/positions.ts';

/** MySQL/MariaDB when MYSQL_URL is set (one database for every store), else a SQLite file of the data dir. */
export function databaseOptions(config: Config, sqliteFile: string): DatabaseOptions {
  return config.mysqlUrl !== null
    ? { client: 'mysql2', url: config.mysqlUrl }
    : { client: 'better-sqlite3', filename: join(config.dataDir, sqliteFile) };
}

/** `appendsHeard`: whether other processes' appends are announced to this one now (NATS): a SQL store then polls seldom. */
export async function openEventStore(config: Config, appendsHeard?: () => boolean): Promise<EventStore> {
  if (config.eventstoreUrl !== null) return EsdbEventStore.connect(config.eventstoreUrl);
  return SqlEventStore.open({ ...databaseOptions(config, 'events.sqlite'), ...(appendsHeard === undefined ? {} : { appendsHeard }) });
}

export async function openReadModelDatabase(config: Config): Promise<Knex> {
  return openReadModels(databaseOptions(config, 'read-models.sqlite'));
}

/**
 * A Redis client that fails fast while Redis is away (callers fall back or report) and
 * reconnects by itself.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, enableAutoPipelining: true });
  client.on('error', () => undefined); // reconnects by itself; failing calls are handled where made
  await client.connect().catch(() => undefined);
  return client;
}

export function openPositions(config: Config, onError: (error: unknown) => void): ProjectionPositions {
  return config.natsUrl !== null ? new NatsPositions(config.natsUrl, onError) : new InProcessPositions();
}
