/**
 * `npm start`: the embedded all-in-one process. Reads the configuration once, builds the app,
 * listens, and closes cleanly on SIGTERM/SIGINT.
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config);
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));

  const address = await app.listen({ host: config.host, port: config.port });
  const local = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  process.stdout.write(`boxoffice is running at ${local}\n  health: ${local}/health/live\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`boxoffice failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
