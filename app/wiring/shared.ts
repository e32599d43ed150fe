/**
 * What the roles of one process share, opened once: the logger's background-error sink, the
 * metrics registry, the positions channel (NATS or in-process), the event store, Redis, and —
 * only when a role of this process needs them — the read-model database and the personal-data
 * keys. In dependency order; each closes itself through `closers`.
 */
import { mkdir } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../../lib/config.ts';
import { InstrumentedEventStore, Metrics } from '../../lib/observability/metrics.ts';
import { KeyStore } from '../../lib/personal-data/key-store.ts';
import { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { RedisExpiringKeys, type ExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { REVOKED_PREFIX, RevocationList } from '../../lib/security/revocations.ts';
import { SESSION_MARK_PREFIX, Sessions, userSessionsFrom } from '../../lib/security/sessions.ts';
import { SqlExpiringKeys } from '../../lib/security/sql-expiring-keys.ts';
import type { ProjectionPositions } from '../../read-models/positions.ts';
import { MemoryQueueBoard, RedisQueueBoard, type QueueBoard } from '../../read-models/queue-board.ts';
import { sharedRateLimitCounters, type SharedRateLimitCounters } from '../../lib/http/rate-limit-counters.ts';
import { loadSecrets, type Secrets } from '../secrets.ts';
import { connectRedis, databaseOptions, openEventStore, openPositions, openReadModelDatabase } from './adapters.ts';
import type { Closers } from './closers.ts';

/** Reports failures of work that retries by itself (reactors, projections, NATS, replicas). */
export type BackgroundErrors = (error: unknown, what: string) => void;

export function backgroundErrors(logger: Logger): BackgroundErrors {
  return (error, what) => logger.error({ err: error, what }, 'background work failed; it will be retried');
}

export interface Shared {
  readonly config: Config;
  readonly logger: Logger;
  readonly onBackgroundError: BackgroundErrors;
  readonly now: () => Date;
  readonly metrics: Metrics;
  readonly positions: ProjectionPositions;
  /** Appends are timed, counted and announced to the other processes. */
  readonly store: InstrumentedEventStore;
  readonly redis: Redis | undefined;
  /** Without Redis, the rate-limit counters every listener of this process shares (the main port and LEGACY_PORTS). */
  readonly rateLimitCounters: SharedRateLimitCounters;
  /** The waiting room's status board: in Redis when there is one, else in this process (the embedded default). */
  readonly queueBoard: QueueBoard;
}

/** What every role opens: metrics, the positions channel, the event store, Redis when configured. */
export async function openShared(config: Config, logger: Logger, closers: Closers, now: () => Date = () => new Date()): Promise<Shared> {
  const onBackgroundError = backgroundErrors(logger);
  // SQLite files live in the data dir.
  if (config.mysqlUrl === null) await mkdir(config.dataDir, { recursive: true });
  const metrics = new Metrics();
  const positions = openPositions(config, (error) => onBackgroundError(error, 'NATS'));
  closers.add('positions (NATS)', () => positions.close());
  // This process's appends are announced to the others, and theirs wake this process's
  // subscriptions to the store: a projector learns of new events at once, not at its next poll;
  // while they are heard, a subscription polls once a second, not every 50 ms.
  const store = new InstrumentedEventStore(await openEventStore(config, () => positions.hearsAppends), metrics, (position) => positions.announceAppend(position));
  closers.add('event store', () => store.close());
  const stopHearingAppends = positions.listenAppends((position) => store.appendedElsewhere(position));
  closers.add('append announcements', async () => stopHearingAppends());
  let redis: Redis | undefined;
  if (config.redisUrl !== null) {
    const client = await connectRedis(config.redisUrl);
    closers.add('Redis', async () => client.disconnect());
    redis = client;
  }
  const queueBoard = redis !== undefined ? new RedisQueueBoard(redis, config.redisKeyPrefix) : new MemoryQueueBoard();
  return { config, logger, onBackgroundError, now, metrics, positions, store, redis, rateLimitCounters: sharedRateLimitCounters(), queueBoard };
}

/**
 * Revocations, session marks and login throttles: in Redis when there is one, else in SQL (the
 * MySQL database, or expiring-keys.sqlite in the data dir): shared by every instance and kept
 * across a restart. The keys every request checks are mirrored in memory (see SqlExpiringKeys).
 */
export async function openExpiringKeys(shared: Shared, closers: Closers): Promise<ExpiringKeys> {
  if (shared.redis !== undefined) return new RedisExpiringKeys(shared.redis, `${shared.config.redisKeyPrefix}:`);
  const keys = await SqlExpiringKeys.open(databaseOptions(shared.config, 'expiring-keys.sqlite'), {
    mirrored: [REVOKED_PREFIX, SESSION_MARK_PREFIX],
    onError: (error) => shared.onBackgroundError(error, 'expiring keys'),
  });
  closers.add('expiring keys', () => keys.close());
  return keys;
}

/** Per-user data keys (outside the event store), wrapped by the deployment's personal-data key. */
export async function openPersonalData(config: Config, secrets: Secrets, closers: Closers): Promise<PersonalData> {
  const keys = await KeyStore.open(databaseOptions(config, 'keys.sqlite'), secrets.personalDataKey);
  closers.add('personal data keys', () => keys.close());
  return new PersonalData(keys);
}

/** The read models: MySQL/MariaDB, or read-models.sqlite in the data dir. */
export async function openReadModels(config: Config, closers: Closers): Promise<Knex> {
  const db = await openReadModelDatabase(config);
  closers.add('read models', () => db.destroy());
  return db;
}

/** What a role that serves signed-in users needs: the shared secrets, personal data, revocations, sessions and throttles. */
export interface Serving {
  readonly secrets: Secrets;
  readonly personalData: PersonalData;
  readonly expiring: ExpiringKeys;
  readonly revocations: RevocationList;
  /** Each user's current generation, role and verification, that tokens are checked against. */
  readonly sessions: Sessions;
}

export async function openServing(shared: Shared, closers: Closers): Promise<Serving> {
  const secrets = await loadSecrets(shared.config);
  const personalData = await openPersonalData(shared.config, secrets, closers);
  const expiring = await openExpiringKeys(shared, closers);
  const sessions = new Sessions({ keys: expiring, load: userSessionsFrom(shared.store), tokenTtlMs: shared.config.jwtTtlSeconds * 1000 });
  return { secrets, personalData, expiring, revocations: new RevocationList(expiring), sessions };
}

export type { Secrets };
