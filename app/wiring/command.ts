/**
 * The command role: everything that decides and appends — accounts, concerts, the per-concert
 * batching writers, bookings, payments — and the background work that finishes what requests
 * started (the reactors and the hold expirer). It opens no read model.
 */
import { join } from 'node:path';
import type { CommandApiDeps } from '../../command-api/app.ts';
import { BookingService } from '../../command-api/bookings/bookings.ts';
import { BookingPlacer } from '../../command-api/bookings/placer.ts';
import { bookingStreamsOf, storedWithItsBooking } from '../../command-api/bookings/placement.ts';
import { noCaptcha, type Captcha } from '../../command-api/captcha/captcha.ts';
import { HttpCaptcha } from '../../command-api/captcha/http-captcha.ts';
import { CommandHandler } from '../../command-api/command-handler.ts';
import { ConcertWriter, DEFAULT_SNAPSHOT_EVERY } from '../../command-api/concerts/concert-writer.ts';
import { ConcertService } from '../../command-api/concerts/concerts.ts';
import type { Mailer } from '../../command-api/mail/mailer.ts';
import { OutboxMailer } from '../../command-api/mail/outbox.ts';
import { SmtpMailer } from '../../command-api/mail/smtp.ts';
import { PaymentService } from '../../command-api/payments/payments.ts';
import { QueueWriter } from '../../command-api/queue/queue-writer.ts';
import { EnteringJoins } from '../../command-api/queue/entering-joins.ts';
import { DRAW_WAIT_MAX_MS, WaitingRoomKeeper } from '../../command-api/queue/keeper.ts';
import { QueueLoad } from '../../command-api/queue/queue-load.ts';
import { WaitingRoomService } from '../../command-api/queue/waiting-room.ts';
import { RefundService } from '../../command-api/payments/refunds.ts';
import { ReactorStore } from '../../command-api/reactors/reactor-store.ts';
import { bookingsReactor, HoldExpirer, HOLDS_INDEXED_EVERY_MS, HOLDS_INDEXED_TIMEOUT_MS, HoldsIndexedHere, paymentsReactor, releasesInFlight } from '../../command-api/reactors/reactors.ts';
import { refundsReactor } from '../../command-api/reactors/refunds.ts';
import { ReactorRunner } from '../../command-api/reactors/runner.ts';
import { EmailMailLimits } from '../../command-api/users/email-limits.ts';
import { EmailTokens } from '../../command-api/users/email-token.ts';
import { SessionTellingCommands } from '../../command-api/users/session-commands.ts';
import { UserService } from '../../command-api/users/users.ts';
import { Door } from '../../command-api/tickets/door.ts';
import { concertDecider, initialState } from '../../domain/concert/index.ts';
import { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import { emailDigester } from '../../lib/personal-data/digest.ts';
import { KtpFingerprints } from '../../lib/personal-data/fingerprint.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import { BookingPasses } from '../../lib/security/booking-passes.ts';
import { LoginThrottle } from '../../lib/security/login-throttle.ts';
import { PasswordHasher } from '../../lib/security/passwords.ts';
import { databaseOptions } from './adapters.ts';
import type { Closers } from './closers.ts';
import { gatewayReadiness, openGateway } from './gateway.ts';
import type { Serving, Shared } from './shared.ts';

export interface CommandRole {
  /** What the command API's routes are given. */
  readonly api: CommandApiDeps;
  readonly writer: ConcertWriter;
  /** The waiting rooms' writer (one `queue-…` stream per concert). */
  readonly queues: QueueWriter;
  /** Signs and reads the waiting room's booking passes. */
  readonly passes: BookingPasses;
  readonly reactors: ReactorStore;
  /** Each reactor's runner: its status (position, lag, parked events) and the retry of what it parked. */
  readonly runners: readonly ReactorRunner[];
  readonly expirer: HoldExpirer;
  /** Draws the waiting rooms' lotteries, admits their visitors by load, expires passes, says sold out. */
  readonly keeper: WaitingRoomKeeper;
  readonly passwords: PasswordHasher;
  readonly personalData: PersonalData;
  /** The keyed fingerprints of KTP numbers and digests of addresses, as the services use them (import:legacy). */
  readonly ktp: KtpFingerprints;
  readonly emailDigest: (email: string) => string;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Starts the reactors, the hold expirer and the waiting rooms' keeper. Once; they stop with the role's closers. */
  start(): void;
}

export async function wireCommand(shared: Shared, inputs: Serving, closers: Closers, releasedHoldsKept?: number): Promise<CommandRole> {
  const { config, store, metrics, now, onBackgroundError, logger } = shared;
  const { secrets, personalData, expiring, revocations, sessions } = inputs;

  const mailer: Mailer = config.smtpUrl !== null
    ? new SmtpMailer(config.smtpUrl, config.mailFrom)
    : new OutboxMailer(join(config.dataDir, 'mail-outbox.jsonl'));
  if (mailer.close) closers.add('mailer', () => mailer.close?.() ?? Promise.resolve());
  const captcha: Captcha = config.captcha !== null ? new HttpCaptcha(config.captcha.verifyUrl, config.captcha.secret) : noCaptcha;
  const passwords = new PasswordHasher(config.argon2);
  const commands = new CommandHandler(store);
  const users = new UserService({
    store,
    // Every change to a user that touches their tokens is told to the sessions.
    commands: new SessionTellingCommands(store, sessions),
    passwords,
    personalData,
    mailer,
    emailTokens: new EmailTokens(secrets.jwtSecret, config.emailTokenTtlSeconds, () => now().getTime()),
    emailDigest: emailDigester(secrets.personalDataDigestKey),
    emailLimits: new EmailMailLimits(expiring, (error) => logger.warn({ err: error }, 'email mail limits unavailable; the mail goes unchecked')),
    publicUrl: config.publicUrl,
    now,
    onMailError: (error) => logger.error({ err: error }, 'verification mail not sent'),
  });
  // Mail still being sent finishes before the stores close.
  closers.add('user registrations in flight', () => users.settle());

  const reactors = await ReactorStore.open(databaseOptions(config, 'reactors.sqlite'));
  closers.add('reactor store', () => reactors.close());
  // The holds of this instance's batches get their due times here, not from reading them back.
  const indexedHere = new HoldsIndexedHere(reactors, { flushMs: HOLDS_INDEXED_EVERY_MS, timeoutMs: HOLDS_INDEXED_TIMEOUT_MS, onError: (error) => onBackgroundError(error, 'holds indexed here') });
  closers.add('holds indexed here', () => indexedHere.close());
  const writer = new ConcertWriter(store, {
    queueLimit: config.commandQueueLimit,
    maxBatch: 500,
    snapshotEvery: DEFAULT_SNAPSHOT_EVERY,
    onBackgroundError,
    onBatch: (batch) => metrics.batchSize.observe(batch),
    // Each hold's booking stream is committed with its batch: one transaction, not two, and the
    // buyer's sealed details stored once, in the booking stream.
    companionsOf: bookingStreamsOf,
    storedWithCompanions: storedWithItsBooking,
    writingTogether: (writes, events) => indexedHere.writing(writes, events),
    ...(releasedHoldsKept === undefined ? {} : { decider: { ...concertDecider, initialState: () => initialState(releasedHoldsKept) } }),
  });
  closers.add('concert writer', () => writer.drain());
  metrics.measureQueueDepth(() => writer.queueDepth());
  // Joins in the on-sale minute come to every instance at once: a lane that keeps losing races backs off and tries again for longer.
  const queues = new QueueWriter(store, { queueLimit: config.commandQueueLimit, maxBatch: 500, maxAttempts: 200, onBackgroundError });
  closers.add('queue writer', () => queues.drain());
  const passes = new BookingPasses(secrets.jwtSecret);
  // Each instance's depth stands for a few ticks (at least a second): the keepers admit by the deepest lately.
  const queueLoad = new QueueLoad(expiring, config.commandQueueLimit, { freshMs: Math.max(1_000, 4 * config.waitingRoomTickMs) });
  // Joins received before an opening and still queued here hold every instance's draw back.
  const entering = new EnteringJoins(queueLoad, onBackgroundError, { drawWaitMaxMs: DRAW_WAIT_MAX_MS, now: () => now().getTime() });
  closers.add('waiting-room joins', async () => entering.close());
  const keeper = new WaitingRoomKeeper({
    store,
    queues,
    concerts: writer,
    load: queueLoad,
    now,
    tickMs: config.waitingRoomTickMs,
    queueLimit: config.commandQueueLimit,
    passTtlSeconds: config.bookingPassTtlSeconds,
    onError: onBackgroundError,
    onAdmitted: (concertId, count) => metrics.waitingRoomAdmitted.inc({ concert_id: concertId }, count),
  });
  metrics.measureWaitingRooms(() => keeper.figures());

  const gateway = openGateway(config, { store, webhookSecret: secrets.paymentWebhookSecret });
  const payments = new PaymentService({ store, commands, writer, gateway: gateway.gateway, now });
  const refunds = new RefundService({ store, commands, gateway: gateway.gateway, now });
  const placer = new BookingPlacer(store, commands);
  const ktp = new KtpFingerprints(secrets.personalDataDigestKey);
  const ticketCodes = new TicketCodes(secrets.ticketSigningKeys);
  const bookings = new BookingService({
    store,
    writer,
    commands,
    placer,
    personalData,
    ktp,
    emailDigest: emailDigester(secrets.personalDataDigestKey),
    holdTtlSeconds: config.holdTtlSeconds,
    requireEmailVerification: config.requireEmailVerification,
    now,
    queues,
    passes,
  });
  const expirer = new HoldExpirer({
    reactors, writer, store, commands, now, intervalMs: config.expiryCheckIntervalMs, releasesInFlight: releasesInFlight(config.commandQueueLimit),
    onError: (error) => onBackgroundError(error, 'hold expiry'),
  });
  const runners = [
    bookingsReactor({ store, commands, writer, placer, reactors, queues, now, indexedHere }),
    paymentsReactor({ commands, payments, now }),
    refundsReactor({ refunds, autoRefund: config.autoRefund, now }),
  ].map((reactor) => new ReactorRunner(store, reactors, reactor, (error, name) => onBackgroundError(error, `reactor ${name}`)));
  metrics.measureReactors(async () => (await Promise.all(runners.map((runner) => runner.status(0))))
    .map(({ name, parked_count: parked, lag }) => ({ name, parked, lag })));

  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    for (const runner of runners) runner.start();
    expirer.start();
    keeper.start();
    closers.add('reactors', () => Promise.all(runners.map((runner) => runner.stop())));
    closers.add('hold expirer', () => expirer.stop());
    closers.add('waiting-room keeper', () => keeper.stop());
  };

  return {
    api: {
      config,
      store,
      users,
      captcha,
      loginThrottle: new LoginThrottle(expiring, {
        freeAttempts: config.limits.lockoutAfterFailures,
        windowSeconds: config.limits.lockoutSeconds,
        maxDelaySeconds: config.limits.lockoutMaxDelaySeconds,
        guardAfter: config.limits.captchaAfterFailures,
      }),
      revocations,
      concerts: new ConcertService(store, writer, now, queues),
      bookings,
      payments,
      refunds,
      now,
      webhookSecret: secrets.paymentWebhookSecret,
      gateway,
      reactors: runners,
      door: new Door({ store, writer, codes: ticketCodes, personalData, ktp, reactors, now }),
      ticketCodes,
      waitingRoom: new WaitingRoomService({ writer, queues, requireVerified: (principal) => bookings.requireVerified(principal), now, entering }),
    },
    writer,
    queues,
    passes,
    reactors,
    runners,
    expirer,
    keeper,
    passwords,
    personalData,
    ktp,
    emailDigest: emailDigester(secrets.personalDataDigestKey),
    readiness: { 'event store': async () => void (await store.headPosition()), ...gatewayReadiness(config) },
    start,
  };
}
