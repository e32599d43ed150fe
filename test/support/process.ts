/** boxoffice's processes for e2e tests: the server as `npm start` runs it, and the projector role. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exit: Promise<number | null>;
  /** Resolves once it prints that it is up (listening, projecting). */
  listening(): Promise<void>;
  output(): string;
}

function startProcess(script: string, env: Record<string, string>, upMarker: string): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = () => new Promise<void>((resolve, reject) => {
    if (output.includes(upMarker)) return resolve();
    const timer = setTimeout(() => reject(new Error(`${script} not up after 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      if (output.includes(upMarker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
  return { child, exit, listening, output: () => output };
}

export function startServer(env: Record<string, string>): ServerProcess {
  return startProcess('src/server.ts', env, 'boxoffice is running at');
}

export function startProjector(env: Record<string, string>): ServerProcess {
  return startProcess('src/projector.ts', env, '"msg":"projecting"');
}
