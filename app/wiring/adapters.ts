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
 * A command Redis has not answered within this fails, as it would with Redis away: the callers
 * fall back (reads to MySQL, the token check to accepting, the projector's cache writes to a
 * refill later). Redis answers in well under a millisecond; a script writing a whole concert's
 * seats in tens.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/**
 * A connection that has received nothing this long while commands wait is given up and made
 * again: a Redis that hangs without closing it (a partition the operating system does not see,
 * a stalled disk) is then away, and every command fails at once until it answers again.
 */
export const REDIS_SOCKET_TIMEOUT_MS = 4_000;

/**
 * A Redis client that fails fast while Redis is away or hung (callers fall back or report) and
 * reconnects by itself. A command that failed is not sent again behind its caller's back.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, enableAutoPipelining: true,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS, socketTimeout: REDIS_SOCKET_TIMEOUT_MS, autoResendUnfulfilledCommands: false,
  });
  client.on('error', () => undefined); // reconnects by itself; failing calls are handled where made
  await client.connect().catch(() => undefined);
  return client;
}

export function openPositions(config: Config, onError: (error: unknown) => void): ProjectionPositions {
  return config.natsUrl !== null ? new NatsPositions(config.natsUrl, onError) : new InProcessPositions();
}
