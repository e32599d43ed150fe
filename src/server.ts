/**
 * `npm start`: the embedded all-in-one process. Reads the configuration once, opens every
 * service, makes sure the admin account exists (BOXOFFICE_ADMIN_PASSWORD), listens, and closes
 * cleanly on SIGTERM/SIGINT.
 */
import { buildApp } from './app.ts';
import { loadConfigOrExit, plays } from './config.ts';
import { openServices } from './services.ts';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger: { app?: Awaited<ReturnType<typeof buildApp>> } = {};
  const services = await openServices(config, {
    onMailError: (error) => logger.app?.log.error({ err: error }, 'verification mail not sent'),
    onBackgroundError: (error, what) => logger.app?.log.error({ err: error, what }, 'background work failed; it will be retried'),
  });
  const running = await buildApp(services);
  logger.app = running;
  if (plays(config, 'command')) services.startReactors();
  if (plays(config, 'projector')) services.startProjectors();
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    running.log.info({ signal }, 'shutting down');
    await running.close();
    await services.users.settle();
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));

  // Before the first request is served, so /health/ready never answers without the admin.
  if (config.adminPassword !== null) await services.users.ensureAdmin(config.adminPassword, config.adminEmail);

  const address = await running.listen({ host: config.host, port: config.port });
  const local = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  process.stdout.write([
    `boxoffice is running at ${local}${config.role === 'all' ? '' : ` (role: ${config.role})`}`,
    `  API docs: ${local}/docs`,
    `  health:   ${local}/health/live`,
    config.adminPassword !== null
      ? '  admin:    sign in as "admin" with BOXOFFICE_ADMIN_PASSWORD (POST /api/v1/users/login)'
      : '  admin:    set BOXOFFICE_ADMIN_PASSWORD to have an "admin" account',
    '',
  ].join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`boxoffice failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
