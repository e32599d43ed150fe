/**
 * Throwaway MariaDB, Redis and NATS (JetStream) servers on free ports, with their data in a temp
 * dir. Used once per test run by run.ts, and by chaos tests that need to kill, pause or restart
 * a server of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ManagedServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** The pid of the running server process (changes on restart). */
  pid(): number | undefined;
  /** SIGTERM, awaited; SIGKILL if it has not exited after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL, awaited: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port with the same data. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs without closing connections. */
  pause(): void;
  resume(): void;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/sbin', '/bin'];

/** Finds a server binary on PATH or in the sbin directories Debian packages install into. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function requireBinary(name: string, debianPackage: string): string {
  const path = findBinary(name);
  if (path === undefined) {
    throw new Error(`${name} not found: install it with \`apt-get install -y ${debianPackage}\` (npm test does this for you)`);
  }
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntil(what: string, probe: () => Promise<boolean>, process: () => ChildProcess | undefined, timeoutMs: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const child = process();
    if (child?.exitCode !== null && child?.exitCode !== undefined) {
      const tail = log ? await readFile(log, 'utf8').then((s) => s.split('\n').slice(-20).join('\n'), () => '') : '';
      throw new Error(`${what} exited with code ${child.exitCode} before answering${tail ? `:\n${tail}` : ''}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

/** Sends `request` on a fresh TCP connection and resolves with the first bytes answered. */
function ask(port: number, request: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), 1_000);
    socket.once('connect', () => {
      if (request !== null) socket.write(request);
    });
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString('utf8'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly url: string;
  readonly log: string;
  readonly ready: () => Promise<boolean>;
  readonly startTimeoutMs: number;
  readonly cleanup: () => Promise<void>;
}

async function manage(spec: ProcessSpec): Promise<ManagedServer> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const fd = openSync(spec.log, 'a');
    try {
      child = spawn(spec.command, spec.args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.on('error', () => undefined); // surfaced by waitUntil through exitCode
    await waitUntil(spec.name, spec.ready, () => child, spec.startTimeoutMs, spec.log);
  };
  const signal = async (name: NodeJS.Signals, graceMs: number): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    if (name === 'SIGTERM' || name === 'SIGKILL') current.kill('SIGCONT'); // a paused server cannot exit
    current.kill(name);
    const timer = setTimeout(() => current.kill('SIGKILL'), graceMs);
    await exited(current);
    clearTimeout(timer);
  };
  await start();
  return {
    name: spec.name,
    url: spec.url,
    port: spec.port,
    pid: () => child?.pid,
    stop: async () => {
      await signal('SIGTERM', 15_000);
      await spec.cleanup();
    },
    kill: () => signal('SIGKILL', 5_000),
    restart: async () => {
      await signal('SIGTERM', 15_000);
      await start();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

export interface MariaDbOptions {
  readonly port?: number;
  readonly bufferPool?: string;
  readonly logFileSize?: string;
  /** More [mysqld] lines (replication settings, say). */
  readonly settings?: readonly string[];
}

export async function startMariaDb(options: MariaDbOptions = {}): Promise<ManagedServer> {
  const mariadbd = requireBinary('mariadbd', 'mariadb-server');
  const installDb = requireBinary('mariadb-install-db', 'mariadb-server');
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-mariadb-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const cnf = join(dir, 'my.cnf');
  await writeFile(cnf, [
    '[mysqld]',
    `datadir=${dataDir}`,
    `socket=${join(dir, 'mysqld.sock')}`,
    `pid-file=${join(dir, 'mysqld.pid')}`,
    `port=${port}`,
    'bind-address=127.0.0.1',
    'user=root',
    'skip-name-resolve',
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_unicode_ci',
    'max_connections=1000',
    `innodb_buffer_pool_size=${options.bufferPool ?? '256M'}`,
    `innodb_log_file_size=${options.logFileSize ?? '96M'}`,
    // Throwaway data: trade crash durability for test speed.
    'innodb_flush_log_at_trx_commit=2',
    'innodb_doublewrite=0',
    ...(options.settings ?? []),
    '',
  ].join('\n'));
  const log = join(dir, 'server.log');
  await runToCompletion(installDb, [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db'], log);
  return manage({
    name: 'mariadb',
    command: mariadbd,
    args: [`--defaults-file=${cnf}`],
    port,
    url: `mysql://root@127.0.0.1:${port}`,
    log,
    // The MySQL protocol starts with a server greeting naming the version.
    ready: async () => /MariaDB/.test(await ask(port, null)),
    startTimeoutMs: 60_000,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}

export async function startRedis(options: { port?: number } = {}): Promise<ManagedServer> {
  const redis = requireBinary('redis-server', 'redis-server');
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-redis-'));
  return manage({
    name: 'redis',
    command: redis,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    port,
    url: `redis://127.0.0.1:${port}`,
    log: join(dir, 'server.log'),
    ready: async () => (await ask(port, 'PING\r\n')).startsWith('+PONG'),
    startTimeoutMs: 20_000,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}

export async function startNats(options: { port?: number } = {}): Promise<ManagedServer> {
  const nats = requireBinary('nats-server', 'nats-server');
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'boxoffice-nats-'));
  return manage({
    name: 'nats',
    command: nats,
    args: ['-js', '-sd', join(dir, 'jetstream'), '-a', '127.0.0.1', '-p', String(port)],
    port,
    url: `nats://127.0.0.1:${port}`,
    log: join(dir, 'server.log'),
    // A NATS server greets every connection with INFO; JetStream shows in it.
    ready: async () => /"jetstream":true/.test(await ask(port, null)),
    startTimeoutMs: 20_000,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}

async function runToCompletion(command: string, args: readonly string[], log: string): Promise<void> {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) {
      const tail = (await readFile(log, 'utf8')).split('\n').slice(-20).join('\n');
      throw new Error(`${command} exited with ${code}:\n${tail}`);
    }
  } finally {
    closeSync(fd);
  }
}
