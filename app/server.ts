/**
 * A boxoffice server: `npm start` (the embedded all-in-one) and `boxoffice serve --role …`.
 * Opens every service the role needs, makes sure the admin account exists
 * (BOXOFFICE_ADMIN_PASSWORD), seeds the demo concert in the embedded default, listens, and on
 * SIGTERM/SIGINT stops accepting, lets requests in flight finish, drains the batching writer and
 * the mail, finishes the projector batch and closes every client.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { AdminUsernameHeld, type UserService } from '../command-api/users/users.ts';
import { buildApp } from './app.ts';
import { buildLegacyApps } from './legacy.ts';
import { checkRoleConfig, ConfigError, isEmbeddedDefault, loadConfigOrExit, paymentGatewayOf, type Config } from '../lib/config.ts';
import { serverLogger } from '../lib/http/logger.ts';
import { metricsServer } from '../lib/http/metrics-route.ts';
import { seedDemoConcert } from './demo.ts';
import { wireProcess } from './wiring/process.ts';

export async function serve(config: Config): Promise<void> {
  checkRoleConfig(config);
  const logger = serverLogger(config);
  const wired = await wireProcess(config, logger.root);
  // The sandbox pays nothing: outside the embedded default it was chosen on purpose, and every start says so (every role's: the deployment's choice).
  const simulated = wired.command !== undefined && paymentGatewayOf(config) === 'sandbox';
  if (paymentGatewayOf(config) === 'sandbox' && !isEmbeddedDefault(config)) {
    logger.root.warn({ paymentGateway: 'sandbox' }, 'PAYMENT_GATEWAY=sandbox: payments are simulated and every booking can be confirmed for free; use it for tests and demos only');
  }
  const running = await buildApp(wired, logger);
  const legacy = await buildLegacyApps(wired, logger);
  const metrics = await metricsServer(config, wired.shared.metrics, logger.root);
  wired.start();
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    running.log.info({ signal }, 'shutting down');
    await running.close();
    await Promise.all(legacy.map(({ app }) => app.close()));
    await metrics?.close();
    const unclean = await wired.close();
    running.log.info({ clean: unclean.length === 0 }, 'stopped');
    // Something was left unclosed (each is logged): an orchestrator sees a shutdown that was not clean.
    process.exit(unclean.length === 0 ? 0 : 1);
  };
  // Once, however many signals come: a terminal's Ctrl-C or a group's SIGTERM reaches this process
  // and also npm's, which relays it here again. A second signal must not end the drain half-way.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      running.log.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    void shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // Before the first request is served, so /health/ready never answers without the admin.
  const admin = config.adminPassword !== null && wired.command !== undefined
    ? await ensureAdmin(wired.command.api.users, config.adminPassword, config.adminEmail, logger.root)
    : null;
  const embedded = config.mysqlUrl === null && config.eventstoreUrl === null;
  const demo = embedded && config.role === 'all' && wired.command !== undefined ? await seedDemoConcert(wired.command.api.concerts) : null;

  const address = await running.listen({ host: config.host, port: config.port });
  const local = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  const legacyAt = await Promise.all(legacy.map(async ({ port, app }) => (await app.listen({ host: config.host, port })).replace('0.0.0.0', 'localhost').replace('[::]', 'localhost')));
  const metricsAt = metrics === null ? `${local}/metrics` : `${await metrics.listen({ host: config.metrics.host, port: config.metrics.port ?? 0 })}/metrics`;
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
      process.exit(2);
    }
    process.stderr.write(`boxoffice failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
