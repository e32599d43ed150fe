/** boxoffice's processes for e2e tests: the server as `npm start` runs it, and the projector role. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exit: Promise<number | null>;
  /** Resolves when every process of the tree has let go of its output (all of them ended). */
  readonly closed: Promise<void>;
  /** Signals the process, or its whole process group when it was started as one (npm start). */
  signal(name: NodeJS.Signals): void;
  /** Resolves once it prints that it is up (listening, projecting). */
  listening(): Promise<void>;
  /** Resolves once it has printed `text` (a log line's message, say); rejects when it exits first or after 60 s. */
  printed(text: string): Promise<void>;
  /** The address it printed when up (`http://127.0.0.1:<port>`): start it with PORT=0 and no other process can take its port first. */
  url(): string;
  output(): string;
}

function startProcess(
  script: string,
  env: Record<string, string>,
  upMarker: string,
  command: readonly string[] = [process.execPath, '--import', 'tsx', script],
  group = false,
): ServerProcess {
  // Without NODE_OPTIONS: under tap it names tap's process-info hook, whose exit handlers would
  // hold SIGTERM and SIGINT in the server. It runs here as it runs in production, on its own.
  const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', ...command], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    detached: group,
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      if (group) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const printed = (text: string) => new Promise<void>((resolve, reject) => {
    if (output.includes(text)) return resolve();
    const timer = setTimeout(() => reject(new Error(`${script} did not print ${JSON.stringify(text)} within 60 s:\n${output}`)), 60_000);
    const seen = (): void => {
      if (!output.includes(text)) return;
      clearTimeout(timer);
      child.stdout.off('data', seen);
      child.stderr.off('data', seen);
      resolve();
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
  const listening = () => printed(upMarker);
  const url = (): string => {
    const address = /boxoffice is running at (http:\/\/\S+)/.exec(output)?.[1];
    if (address === undefined) throw new Error(`${script} has not printed its address yet`);
    return address.replace('localhost', '127.0.0.1');
  };
  return { child, exit, closed, signal, listening, printed, url, output: () => output };
}

export function startServer(env: Record<string, string>): ServerProcess {
  return startProcess('app/server.ts', env, 'boxoffice is running at');
}

/**
 * `npm start`, literally, as the README tells a new user: npm, a shell and the server, in a
 * process group of their own that signal() reaches whole, as a terminal's Ctrl-C would.
 */
export function startNpmStart(env: Record<string, string>): ServerProcess {
  return startProcess('npm start', env, 'boxoffice is running at', ['npm', 'start', '--silent'], true);
}

/**
 * The projector role exactly as production runs it: docker-compose.yml's projector service is the
 * image's entry point `node bin/boxoffice.js` with `serve --role projector` (PROJECTOR_COMMAND),
 * with its health and metrics routes on PORT.
 */
export const PROJECTOR_COMMAND = ['bin/boxoffice.js', 'serve', '--role', 'projector'] as const;

export function startProjector(env: Record<string, string> & { PORT: string }): ServerProcess {
  return startProcess('boxoffice serve --role projector', env, 'boxoffice is running at', [process.execPath, ...PROJECTOR_COMMAND]);
}

/** A command-api instance as production runs one: `node bin/boxoffice.js serve --role command`. */
export function startCommandApi(env: Record<string, string> & { PORT: string }): ServerProcess {
  return startProcess('boxoffice serve --role command', env, 'boxoffice is running at', [process.execPath, 'bin/boxoffice.js', 'serve', '--role', 'command']);
}
