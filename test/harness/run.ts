/**
 * The test run: start MariaDB, Redis and NATS once (unless MYSQL_URL / REDIS_URL / NATS_URL are
 * already set) and a local Midtrans (unless MIDTRANS_LOCAL_URL is), hand their URLs to every
 * spec through the environment, run tap, and stop the servers afterwards, whether the specs
 * passed, failed or were interrupted. Exits with tap's code.
 *
 *   node --import tsx test/harness/run.ts [tap args…]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startLocalMidtrans } from './midtrans-server.ts';
import { startMariaDb, startNats, startRedis, type ManagedServer } from './servers.ts';

const SERVICES = [
  { variable: 'MYSQL_URL', start: startMariaDb },
  { variable: 'REDIS_URL', start: startRedis },
  { variable: 'NATS_URL', start: startNats },
] as const;

const say = (line: string): void => void process.stderr.write(`harness: ${line}\n`);

async function main(): Promise<number> {
  const started: Pick<ManagedServer, 'name' | 'stop'>[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => (stopping ??= Promise.allSettled(started.map((server) => server.stop())).then(() => {
    say(`stopped ${started.map((server) => server.name).join(', ') || 'nothing'}`);
  }));

  let tap: ReturnType<typeof spawn> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping`);
      tap?.kill(signal);
      void stopAll().then(() => process.exit(130));
    });
  }

  try {
    const results = await Promise.allSettled(SERVICES.map(async ({ variable, start }) => {
      if (env[variable]) {
        say(`${variable} is set: using ${redact(env[variable])}`);
        return;
      }
      const server = await start();
      started.push(server);
      env[variable] = server.url;
      say(`${server.name} on port ${server.port} (pid ${server.pid()})`);
    }));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
    // In this process, not a child: the payment specs talk to it instead of to Midtrans.
    if (!env['MIDTRANS_LOCAL_URL']) {
      const midtrans = await startLocalMidtrans();
      started.push(midtrans);
      env['MIDTRANS_LOCAL_URL'] = midtrans.url;
      env['MIDTRANS_LOCAL_SERVER_KEY'] = midtrans.serverKey;
      say(`${midtrans.name} on ${midtrans.url}`);
    }

    const tapBin = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tap');
    tap = spawn(tapBin, process.argv.slice(2), { stdio: 'inherit', env });
    const child = tap;
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await stopAll();
  }
}

/** Shows where a service is without showing its password. */
function redact(url: string | undefined): string {
  try {
    const parsed = new URL(url ?? '');
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
