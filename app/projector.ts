/**
 * The projector role on its own: follows the event store into the read models and the seat
 * caches, tells positions on NATS, and stops cleanly on SIGTERM (the batch in flight commits or
 * rolls back; nothing is half applied either way).
 */
import { connectRedis, openEventStore, openPositions, openReadModelDatabase } from './wiring/adapters.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { Projectors } from '../projectors/projectors.ts';

function log(level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), role: 'projector', msg: message, ...fields })}\n`);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const onError = (error: unknown, what: string): void => log('error', `${what} failed; retrying`, { err: error instanceof Error ? error.message : String(error) });
  const store = await openEventStore(config);
  const db = await openReadModelDatabase(config);
  const redis = config.redisUrl === null ? undefined : await connectRedis(config.redisUrl);
  const positions = openPositions(config, (error) => onError(error, 'NATS'));
  // The command side announces its appends: follow them at once rather than at the next poll.
  const stopHearingAppends = positions.listenAppends((position) => store.appendedElsewhere(position));
  const projectors = await Projectors.open({ db, store, positions, redis, cachePrefix: `${config.redisKeyPrefix}:seats`, onError });
  projectors.start();
  log('info', 'projecting', { projections: [...projectors.projections.keys()] });

  const shutdown = async (): Promise<void> => {
    stopHearingAppends();
    await projectors.stop();
    await positions.close();
    redis?.disconnect();
    await db.destroy();
    await store.close();
    log('info', 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((error: unknown) => {
  process.stderr.write(`projector failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
