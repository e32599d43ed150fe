/**
 * Where a process's CPU time went, from the profile `node --cpu-prof` writes: self time per
 * function and per file (or package), the largest first, as Markdown tables.
 *
 *   node --import tsx bench/cpu-profile.ts <file.cpuprofile> [per=<count>]
 *
 * `per` divides every figure by a count (bookings), so the tables read as µs per booking.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs on the monotonic clock (`process.hrtime`'s), as is every sample's time. */
  readonly startTime: number;
  readonly samples: readonly number[];
  /** µs between a sample and the one before it. */
  readonly timeDeltas: readonly number[];
}

export interface Cost {
  readonly name: string;
  /** Self time, ms. */
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time, ms, without idle. */
  readonly busyMs: number;
  readonly functions: readonly Cost[];
  readonly files: readonly Cost[];
}

const root = relative('/', `${import.meta.dirname}/..`);

/** A file's name as a reader knows it: a package, a node internal, or a path in this repository. */
function fileOf(url: string): string {
  if (url === '') return '(native or VM)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? path);
  }
  const inRepo = path.indexOf(`/${root}/`);
  return inRepo >= 0 ? path.slice(inRepo + root.length + 2) : path;
}

/** A span of the monotonic clock, µs (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * Self times of the samples taken inside `window` (all of them without one). A sample counts as
 * one sampling interval (the median gap between samples), not as the gap before it: a thread
 * that was waiting for a core is sampled once when it runs again, and the long gap is time the
 * process did not run (on a shared machine, mostly right after a write woke MariaDB).
 */
export function summarize(profile: CpuProfile, window?: Window): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const gaps = [...profile.timeDeltas].sort((a, b) => a - b);
  const interval = gaps[Math.floor(gaps.length / 2)] ?? 1_000;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busyUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)?.callFrame;
    at += profile.timeDeltas[index] ?? 0;
    const us = interval;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) return;
    if (frame === undefined || frame.functionName === '(idle)') return;
    busyUs += us;
    const file = fileOf(frame.url);
    const name = frame.url === '' ? frame.functionName : `${frame.functionName || '(anonymous)'} (${file}:${frame.lineNumber + 1})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  });
  const ranked = (costs: Map<string, number>): Cost[] => [...costs]
    .map(([name, us]) => ({ name, selfMs: us / 1_000, share: busyUs === 0 ? 0 : us / busyUs }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { busyMs: busyUs / 1_000, functions: ranked(byFunction), files: ranked(byFile) };
}

export async function readProfile(file: string, window?: Window): Promise<ProfileSummary> {
  return summarize(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, window);
}

/** The top `count` of a ranking as a Markdown table; with `per`, in µs per that many operations. */
export function costTable(heading: string, costs: readonly Cost[], count = 10, per?: number): string {
  const unit = per === undefined ? 'self ms' : 'self µs per booking';
  return [
    `| ${heading} | ${unit} | share |`,
    '|---|---|---|',
    ...costs.slice(0, count).map((c) => `| ${c.name.replaceAll('|', '\\|')} | ${per === undefined ? c.selfMs.toFixed(0) : ((c.selfMs * 1_000) / per).toFixed(1)} | ${(c.share * 100).toFixed(1)}% |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const [file, perArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: bench/cpu-profile.ts <file.cpuprofile> [per=<count>]');
  const per = perArg?.startsWith('per=') ? Number(perArg.slice(4)) : undefined;
  const summary = await readProfile(file);
  process.stdout.write(`busy ${summary.busyMs.toFixed(0)} ms${per === undefined ? '' : `, ${((summary.busyMs * 1_000) / per).toFixed(1)} µs per booking`}\n\n`);
  process.stdout.write(`${costTable('function', summary.functions, 25, per)}\n\n${costTable('file or package', summary.files, 25, per)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
