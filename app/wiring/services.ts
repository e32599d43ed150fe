/**
 * The composition root's building blocks: every adapter chosen from the configuration and
 * wired together once, then passed down. Real services where their URL is set; the embedded
 * default (SQLite files in the data dir, in-memory counters, the mail outbox file) otherwise.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { noCaptcha, type Captcha } from '../../command-api/captcha/captcha.ts';
import { HttpCaptcha } from '../../command-api/captcha/http-captcha.ts';
import { CommandHandler } from '../../command-api/command-handler.ts';
import type { Mailer } from '../../command-api/mail/mailer.ts';
import { OutboxMailer } from '../../command-api/mail/outbox.ts';
import { SmtpMailer } from '../../command-api/mail/smtp.ts';
import { EmailTokens } from '../../command-api/users/email-token.ts';
import { UserService } from '../../command-api/users/users.ts';
import { BookingService } from '../../command-api/bookings/bookings.ts';
import { BookingPlacer } from '../../command-api/bookings/placer.ts';
import { ConcertWriter } from '../../command-api/concerts/concert-writer.ts';
import { ConcertService } from '../../command-api/concerts/concerts.ts';
import { PaymentService } from '../../command-api/payments/payments.ts';
import { SandboxGateway } from '../../command-api/payments/sandbox-gateway.ts';
import { ReactorStore } from '../../command-api/reactors/reactor-store.ts';
import { bookingsReactor, HoldExpirer, paymentsReactor } from '../../command-api/reactors/reactors.ts';
import { ReactorRunner } from '../../command-api/reactors/runner.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { Projectors } from '../../projectors/projectors.ts';
import { BookingReads } from '../../query-api/bookings/booking-reads.ts';
import { AvailabilityReader } from '../../query-api/concerts/availability.ts';
import { ConcertReads } from '../../query-api/concerts/concert-reads.ts';
import { ProjectionWaiter } from '../../query-api/read-your-writes/waiter.ts';
import { connectRedis, databaseOptions, openEventStore, openPositions, openReadModelDatabase } from './adapters.ts';
import type { Config } from '../../lib/config.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import { KtpFingerprints } from '../../lib/personal-data/fingerprint.ts';
import { KeyStore } from '../../lib/personal-data/key-store.ts';
import { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { InstrumentedEventStore, Metrics } from '../../lib/observability/metrics.ts';
import type { ProjectionPositions } from '../../read-models/positions.ts';
import { ReadSources } from '../../read-models/replicas.ts';
import { loadSecrets, type Secrets } from '../secrets.ts';
import { MemoryExpiringKeys, RedisExpiringKeys, type ExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { LoginThrottle } from '../../lib/security/login-throttle.ts';
import { PasswordHasher } from '../../lib/security/passwords.ts';
import { RevocationList } from '../../lib/security/revocations.ts';

export interface Services {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly store: EventStore;
  readonly keys: KeyStore;
  readonly redis: Redis | undefined;
  readonly revocations: RevocationList;
  readonly loginThrottle: LoginThrottle;
  readonly passwords: PasswordHasher;
  readonly personalData: PersonalData;
  readonly mailer: Mailer;
  readonly captcha: Captcha;
  readonly commands: CommandHandler;
  readonly users: UserService;
  readonly writer: ConcertWriter;
  readonly concerts: ConcertService;
  readonly bookings: BookingService;
  readonly payments: PaymentService;
  readonly reactors: ReactorStore;
  readonly expirer: HoldExpirer;
  readonly webhookSecret: string;
  /** The read models (MySQL/MariaDB, or read-models.sqlite in the data dir). */
  readonly readModels: Knex;
  /** Where the query API reads: MYSQL_REPLICA_URLS in turn, the primary where it must. */
  readonly readSources: ReadSources;
  readonly positions: ProjectionPositions;
  readonly projectors: Projectors;
  readonly availability: AvailabilityReader;
  readonly concertReads: ConcertReads;
  readonly bookingReads: BookingReads;
  /** Read-your-writes: waits for a projection to reach a position. */
  readonly waiter: ProjectionWaiter;
  readonly readiness: Record<string, ReadinessCheck>;
  readonly metrics: Metrics;
  /** Starts the reactors and the hold expirer (the command role's background work). */
  startReactors(): void;
  /** Starts the projections (the projector role's work). */
  startProjectors(): void;
  close(): Promise<void>;
}

export interface ServiceHooks {
  readonly now?: () => Date;
  /** Where a mail that could not be sent is reported. */
  readonly onMailError?: (error: unknown) => void;
  /** Where background work (reactors, snapshots, expiry) reports failures it will retry. */
  readonly onBackgroundError?: (error: unknown, what: string) => void;
}

export async function openServices(config: Config, hooks: ServiceHooks = {}): Promise<Services> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // SQLite files live in the data dir.
    if (config.mysqlUrl === null) await mkdir(config.dataDir, { recursive: true });
    const secrets = await loadSecrets(config);

    const metrics = new Metrics();
    const store = new InstrumentedEventStore(await openEventStore(config), metrics);
    closers.push(() => store.close());

    const keys = await KeyStore.open(databaseOptions(config, 'keys.sqlite'), secrets.personalDataKey);
    closers.push(() => keys.close());

    let redis: Redis | undefined;
    let expiring: ExpiringKeys;
    if (config.redisUrl !== null) {
      const client = await connectRedis(config.redisUrl);
      closers.push(async () => client.disconnect());
      redis = client;
      expiring = new RedisExpiringKeys(client, `${config.redisKeyPrefix}:`);
    } else {
      const memory = new MemoryExpiringKeys();
      closers.push(async () => memory.close());
      expiring = memory;
    }

    const mailer: Mailer = config.smtpUrl !== null
      ? new SmtpMailer(config.smtpUrl, config.mailFrom)
      : new OutboxMailer(join(config.dataDir, 'mail-outbox.jsonl'));
    if (mailer.close) closers.push(() => mailer.close?.() ?? Promise.resolve());

    const captcha: Captcha = config.captcha !== null ? new HttpCaptcha(config.captcha.verifyUrl, config.captcha.secret) : noCaptcha;
    const passwords = new PasswordHasher(config.argon2);
    const personalData = new PersonalData(keys);
    const commands = new CommandHandler(store);
    const now = hooks.now ?? (() => new Date());
    const users = new UserService({
      store,
      commands,
      passwords,
      personalData,
      mailer,
      emailTokens: new EmailTokens(secrets.jwtSecret, config.emailTokenTtlSeconds, () => now().getTime()),
      publicUrl: config.publicUrl,
      now,
      onMailError: hooks.onMailError ?? (() => undefined),
    });

    const onBackgroundError = hooks.onBackgroundError ?? (() => undefined);
    const writer = new ConcertWriter(store, {
      queueLimit: config.commandQueueLimit,
      maxBatch: 500,
      snapshotEvery: 10_000,
      onBackgroundError,
      onBatch: (commands) => metrics.batchSize.observe(commands),
    });
    metrics.sources.queueDepth = () => writer.queueDepth();
    const answeredFrom = { cache: metrics.availabilityReads.labels({ source: 'cache' }), database: metrics.availabilityReads.labels({ source: 'database' }) };
    closers.push(() => writer.drain());
    const reactors = await ReactorStore.open(databaseOptions(config, 'reactors.sqlite'));
    closers.push(() => reactors.close());
    const payments = new PaymentService({ store, commands, writer, gateway: new SandboxGateway(config.publicUrl), now });
    const expirer = new HoldExpirer({ reactors, writer, now, intervalMs: config.expiryCheckIntervalMs, onError: (error) => onBackgroundError(error, 'hold expiry') });
    const placer = new BookingPlacer(store, commands);
    const runners = [
      bookingsReactor({ store, commands, writer, placer, reactors, now }),
      paymentsReactor({ commands, payments, now }),
    ].map((reactor) => new ReactorRunner(store, reactors, reactor, (error, name) => onBackgroundError(error, `reactor ${name}`)));
    let reactorsStarted = false;
    const startReactors = (): void => {
      if (reactorsStarted) return;
      reactorsStarted = true;
      for (const runner of runners) runner.start();
      expirer.start();
      closers.push(async () => {
        await expirer.stop();
        await Promise.all(runners.map((runner) => runner.stop()));
      });
    };

    const readModels = await openReadModelDatabase(config);
    closers.push(() => readModels.destroy());
    const readSources = await ReadSources.open(readModels, config.mysqlReplicaUrls, {
      onReplicaDown: (name, error) => onBackgroundError(error, `read replica ${name} set aside`),
    });
    closers.push(() => readSources.close());
    const positions = openPositions(config, (error) => onBackgroundError(error, 'NATS'));
    closers.push(() => positions.close());
    // This process's appends are announced to the others, and theirs wake this process's
    // subscriptions to the store: a projector learns of new events at once, not at its next poll.
    store.onAppended = (position) => positions.announceAppend(position);
    const stopHearingAppends = positions.listenAppends((position) => store.appendedElsewhere(position));
    closers.push(async () => stopHearingAppends());
    const waiter = new ProjectionWaiter(positions, async (name) => {
      const row = await readModels('projection_checkpoints').where({ name }).first<{ position: number | string } | undefined>('position');
      return Number(row?.position ?? 0);
    }, { timeoutMs: config.readWaitTimeoutMs });
    closers.push(async () => waiter.close());
    const projectors = await Projectors.open({
      db: readModels,
      store,
      positions,
      redis,
      cachePrefix: `${config.redisKeyPrefix}:seats`,
      onError: onBackgroundError,
      now,
    });
    metrics.sources.projectionLag = async () => (await projectors.status()).map(({ name, lag }) => ({ name, lag }));
    let projectorsStarted = false;
    const startProjectors = (): void => {
      if (projectorsStarted) return;
      projectorsStarted = true;
      projectors.start();
      closers.push(() => projectors.stop());
    };

    const readiness: Record<string, ReadinessCheck> = {
      'event store': async () => void (await store.headPosition()),
      'read models': async () => void (await readModels.raw('SELECT 1')),
    };
    if (redis !== undefined) {
      const client = redis;
      readiness.redis = async () => void (await client.ping());
    }

    return {
      config,
      secrets,
      store,
      keys,
      redis,
      revocations: new RevocationList(expiring),
      loginThrottle: new LoginThrottle(expiring, config.limits.lockoutAfterFailures, config.limits.lockoutSeconds),
      passwords,
      personalData,
      mailer,
      captcha,
      commands,
      users,
      writer,
      concerts: new ConcertService(store, writer, now),
      bookings: new BookingService({
        store,
        writer,
        commands,
        placer,
        personalData,
        ktp: new KtpFingerprints(secrets.personalDataKey),
        holdTtlSeconds: config.holdTtlSeconds,
        requireEmailVerification: config.requireEmailVerification,
        now,
      }),
      payments,
      reactors,
      expirer,
      webhookSecret: secrets.paymentWebhookSecret,
      readModels,
      readSources,
      positions,
      projectors,
      waiter,
      concertReads: new ConcertReads(),
      bookingReads: new BookingReads(personalData),
      availability: new AvailabilityReader(projectors.seatCache, (error) => onBackgroundError(error, 'seat cache read'), (source) => answeredFrom[source].inc()),
      readiness,
      metrics,
      startReactors,
      startProjectors,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
