/** boxoffice and baseline servers as processes of their own, for the benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/**
 * The V8 flags the image runs every server with (Dockerfile, NODE_OPTIONS). A 64 MiB young
 * generation lets a request's short-lived objects die young: in the flash sale the command role's
 * CPU per booking fell by about a quarter. Every server here gets them, the baselines too, so a
 * comparison measures the designs, not the flags.
 */
export const serverNodeFlags = ['--max-semi-space-size=64'] as const;

/**
 * Starts `node --import tsx <args>` with the servers' flags and resolves once its output matches
 * `ready`. With `cpuProfileDir`, node writes a CPU profile (`--cpu-prof`) there when the process exits.
 */
export function spawnProcess(args: string[], env: Record<string, string>, ready: RegExp, cpuProfileDir?: string): Promise<ChildProcess> {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir];
  const child = spawn(process.execPath, [...serverNodeFlags, ...profile, '--import', 'tsx', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 60 s: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

