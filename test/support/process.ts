/** The server as a real process (`src/server.ts`, as `npm start` runs it), for e2e tests. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exit: Promise<number | null>;
  /** Resolves once it prints that it is listening. */
  listening(): Promise<void>;
  output(): string;
}

export function startServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = () => new Promise<void>((resolve, reject) => {
    if (output.includes('boxoffice is running at')) return resolve();
    const timer = setTimeout(() => reject(new Error(`not listening after 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      if (output.includes('boxoffice is running at')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { child, exit, listening, output: () => output };
}
