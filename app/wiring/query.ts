/**
 * The query role: the read routes over the read models (replicas in turn, the primary where it
 * must), the Redis seat cache, and read-your-writes through the positions channel. It decides
 * nothing and appends nothing; it opens no concert writer, no reactor and no projection.
 */
import type { Knex } from 'knex';
import type { QueryApiDeps } from '../../query-api/app.ts';
import { BookingReads } from '../../query-api/bookings/booking-reads.ts';
import { AvailabilityReader } from '../../query-api/concerts/availability.ts';
import { ConcertReads } from '../../query-api/concerts/concert-reads.ts';
import { ProjectionWaiter } from '../../query-api/read-your-writes/waiter.ts';
import { admissionsByClass, TicketReads } from '../../query-api/tickets/ticket-reads.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import { emailDigest } from '../../lib/personal-data/digest.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import { BookingPasses } from '../../lib/security/booking-passes.ts';
import { QueueStatus } from '../../query-api/queue/queue-status.ts';
import { readCheckpointPosition } from '../../read-models/checkpoints.ts';
import type { ProjectionAdmin } from '../../read-models/projection-status.ts';
import { ReadSources } from '../../read-models/replicas.ts';
import { SeatCache } from '../../read-models/seat-cache.ts';
import type { Closers } from './closers.ts';
import type { Shared } from './shared.ts';

export interface QueryRole {
  /** What the query API's routes are given. */
  readonly api: QueryApiDeps;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
}

export interface QueryInputs {
  readonly readModels: Knex;
  readonly personalData: PersonalData;
  /** The keys that sign tickets' QR codes (secrets.ticketSigningKeys): the first signs. */
  readonly ticketSigningKeys: readonly Buffer[];
  /** Keys the email digests the back office searches bookings by (secrets.personalDataDigestKey). */
  readonly personalDataDigestKey: Buffer;
  /** The deployment's JWT secret: booking passes are signed under a key derived from it. */
  readonly jwtSecret: string;
  /**
   * Status and rebuilds of the projections: the projector's own in a process that also plays
   * the projector, else requests left in the read models for the projector process to take.
   */
  readonly projections: ProjectionAdmin;
}

export async function wireQuery(shared: Shared, inputs: QueryInputs, closers: Closers): Promise<QueryRole> {
  const { config, metrics, positions, redis, onBackgroundError } = shared;
  const { readModels, personalData, projections, ticketSigningKeys, personalDataDigestKey, jwtSecret } = inputs;
  const sources = await ReadSources.open(readModels, config.mysqlReplicaUrls, {
    onReplicaDown: (name, error) => onBackgroundError(error, `read replica ${name} set aside`),
  });
  closers.add('read-model sources', () => sources.close());
  const waiter = new ProjectionWaiter(positions, (name) => readCheckpointPosition(readModels, name), { timeoutMs: config.readWaitTimeoutMs });
  closers.add('read-your-writes waiter', async () => waiter.close());
  const seatCache = redis === undefined ? undefined : new SeatCache(redis, `${config.redisKeyPrefix}:seats`);
  const answeredFrom = { cache: metrics.availabilityReads.labels({ source: 'cache' }), database: metrics.availabilityReads.labels({ source: 'database' }) };
  const readiness: Record<string, ReadinessCheck> = { 'read models': async () => void (await readModels.raw('SELECT 1')) };
  if (redis !== undefined) readiness.redis = async () => void (await redis.ping());
  // The door's admissions, read from their small counts table at each scrape.
  metrics.measureAdmissions(() => admissionsByClass(readModels));
  return {
    api: {
      availability: new AvailabilityReader(seatCache, (error) => onBackgroundError(error, 'seat cache read'), (source) => answeredFrom[source].inc()),
      concerts: new ConcertReads(),
      bookings: new BookingReads(personalData),
      tickets: new TicketReads(personalData, new TicketCodes(ticketSigningKeys)),
      projections,
      waiter,
      sources,
      emailDigest: (email) => emailDigest(personalDataDigestKey, email),
      queueStatus: new QueueStatus(shared.queueBoard, new BookingPasses(jwtSecret), () => shared.now().getTime(), shared.config.bookingPassTtlSeconds),
    },
    readiness,
  };
}
