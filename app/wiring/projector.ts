/**
 * The projector role: one runner per projection from the event store into the read models, the
 * Redis seat caches kept in step, positions told on the positions channel, blue/green rebuilds
 * (asked for by the admin route in whichever process serves it), and the lag in /metrics.
 */
import type { Knex } from 'knex';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import { Projectors } from '../../projectors/projectors.ts';
import type { Closers } from './closers.ts';
import type { Shared } from './shared.ts';

export interface ProjectorRole {
  readonly projectors: Projectors;
  /** The tables it writes. */
  readonly readModels: Knex;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Starts the projections and takes rebuild requests. Once; they stop with the role's closers. */
  start(): void;
}

export async function wireProjector(shared: Shared, readModels: Knex, closers: Closers): Promise<ProjectorRole> {
  const { config, store, positions, redis, metrics, onBackgroundError, now } = shared;
  const projectors = await Projectors.open({
    db: readModels,
    store,
    positions,
    redis,
    cachePrefix: `${config.redisKeyPrefix}:seats`,
    queueBoard: shared.queueBoard,
    onError: onBackgroundError,
    now,
  });
  metrics.measureProjectionLag(async () => (await projectors.status()).map(({ name, lag }) => ({ name, lag })));
  const readiness: Record<string, ReadinessCheck> = {
    'event store': async () => void (await store.headPosition()),
    'read models': async () => void (await readModels.raw('SELECT 1')),
  };
  if (redis !== undefined) readiness.redis = async () => void (await redis.ping());
  let started = false;
  return {
    projectors,
    readModels,
    readiness,
    start: () => {
      if (started) return;
      started = true;
      projectors.start();
      closers.add('projections', () => projectors.stop());
    },
  };
}
