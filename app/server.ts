/**
 * A boxoffice server: `npm start` (the embedded all-in-one) and `boxoffice serve --role …`.
 * Opens every service the role needs, makes sure the admin account exists
 * (BOXOFFICE_ADMIN_PASSWORD), seeds the demo concert in the embedded default, listens, and on
 * SIGTERM/SIGINT (stop.ts) stops accepting, lets requests in flight finish, drains the batching
 * writer and the mail, finishes the projector batch and closes every client.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { AdminUsernameHeld, type UserService } from '../command-api/users/users.ts';
import { buildApp } from './app.ts';
import { buildLegacyApps } from './legacy.ts';
import { checkRoleConfig, ConfigError, isEmbeddedDefault, loadConfigOrExit, paymentGatewayOf, type Config } from '../lib/config.ts';
import { serverLogger, type ServerLogger } from '../lib/http/logger.ts';
import { metricsServer } from '../lib/http/metrics-route.ts';
import { seedDemoConcert } from './demo.ts';
import { wireProcess } from './wiring/process.ts';
import { ProcessStop } from './stop.ts';

/** How a process that a bad variable stopped ends (as loadConfigOrExit does). */
const CONFIG_ERROR_EXIT_CODE = 2;

export async function serve(config: Config): Promise<void> {
  checkRoleConfig(config);
  const logger = serverLogger(config);
  // Listening for the signals before anything is opened: one during start-up is a stop too.
  const stop = new ProcessStop(logger.root);
  logger.root.info({ role: config.role }, 'starting');
  try {
    await startUp(config, logger, stop);
  } catch (error) {
    // A step that fails after a signal came is part of the stop (which may have caused it).
    if (stop.stopping) return stop.startUpFailed(error);
    // Otherwise what start-up opened (and started) is closed before the error ends the process.
    await stop.closeAfterFailedStartUp(error, error instanceof ConfigError ? CONFIG_ERROR_EXIT_CODE : 1);
    throw error;
  }
}

/** Opens, builds and listens, registering what it opens with `stop`, and going no further once it is stopping. */
async function startUp(config: Config, logger: ServerLogger, stop: ProcessStop): Promise<void> {
  const wired = await wireProcess(config, logger.root);
  stop.opened('services', async () => (await wired.close()).length === 0);
  if (stop.stopping) return stop.startedUp();
  // The sandbox pays nothing: outside the embedded default it was chosen on purpose, and every start says so (every role's: the deployment's choice).
  const simulated = wired.command !== undefined && paymentGatewayOf(config) === 'sandbox';
  if (paymentGatewayOf(config) === 'sandbox' && !isEmbeddedDefault(config)) {
    logger.root.warn({ paymentGateway: 'sandbox' }, 'PAYMENT_GATEWAY=sandbox: payments are simulated and every booking can be confirmed for free; use it for tests and demos only');
  }
  const running = await buildApp(wired, logger);
  // Every HTTP server stops accepting at once, and their requests in flight drain together.
  const servers: { close(): Promise<unknown> }[] = [running];
  stop.opened('http', async () => {
    await Promise.all(servers.map((server) => server.close()));
    return true;
  });
  const legacy = await buildLegacyApps(wired, logger);
  servers.push(...legacy.map(({ app }) => app));
  const metrics = await metricsServer(config, wired.shared.metrics, logger.root);
  if (metrics !== null) servers.push(metrics);
  if (stop.stopping) return stop.startedUp();
  wired.start();

  // Before the first request is served, so /health/ready never answers without the admin.
  const admin = config.adminPassword !== null && wired.command !== undefined
    ? await ensureAdmin(wired.command.api.users, config.adminPassword, config.adminEmail, logger.root)
    : null;
  const embedded = config.mysqlUrl === null && config.eventstoreUrl === null;
  const demo = embedded && config.role === 'all' && wired.command !== undefined ? await seedDemoConcert(wired.command.api.concerts) : null;
  if (stop.stopping) return stop.startedUp();

  const address = await running.listen({ host: config.host, port: config.port });
  const local = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  const legacyAt = await Promise.all(legacy.map(async ({ port, app }) => (await app.listen({ host: config.host, port })).replace('0.0.0.0', 'localhost').replace('[::]', 'localhost')));
  const metricsAt = metrics === null ? `${local}/metrics` : `${await metrics.listen({ host: config.metrics.host, port: config.metrics.port ?? 0 })}/metrics`;
  // Not "running" when a signal came while it began to listen: it is stopping.
  if (stop.stopping) return stop.startedUp();
  process.stdout.write([
    `boxoffice is running at ${local}${config.role === 'all' ? '' : ` (role: ${config.role})`}`,
    `  API docs: ${local}/docs`,
    `  health:   ${local}/health/live`,
    `  metrics:  ${metricsAt}${config.metrics.token === null ? '' : ' (Authorization: Bearer <METRICS_TOKEN>)'}`,
    admin === 'held by another account'
      ? '  admin:    NONE: the username "admin" belongs to an account that is not an admin (see the error above)'
      : config.adminPassword !== null
        ? '  admin:    sign in as "admin" with BOXOFFICE_ADMIN_PASSWORD (POST /api/v1/users/login)'
        : '  admin:    set BOXOFFICE_ADMIN_PASSWORD to have an "admin" account',
    ...(demo === null ? [] : [`  demo:     ${local}/api/v1/concerts/${demo.id}`]),
    ...(legacyAt.length === 0 ? [] : [`  legacy:   the older system's API at ${legacyAt.map((at) => `${at}/api/v1`).join(', ')}`]),
    ...(simulated ? ['  payments: SIMULATED (sandbox gateway: every payment is free)'] : []),
    '',
  ].join('\n'));
  stop.startedUp();
}

/**
 * The admin account, made or brought in line with BOXOFFICE_ADMIN_PASSWORD. A data dir where
 * another account holds the name `admin` (a customer registered it before the name was reserved)
 * still starts: that account gets no admin rights, and the operator is told which one it is.
 */
async function ensureAdmin(users: UserService, password: string, email: string, log: Logger): Promise<'ready' | 'held by another account'> {
  try {
    await users.ensureAdmin(password, email);
    return 'ready';
  } catch (error) {
    if (!(error instanceof AdminUsernameHeld)) throw error;
    log.error({ accountId: error.accountId }, `${error.message}: starting without an admin account (that account keeps its own role and gets no admin rights)`);
    return 'held by another account';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  serve(loadConfigOrExit()).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(CONFIG_ERROR_EXIT_CODE);
    }
    process.stderr.write(`boxoffice failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
