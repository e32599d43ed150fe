/** CPU time a server process and the bench's MariaDB have spent, from /proc (both run on this machine), and the statements MariaDB was sent. */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import knex, { type Knex } from 'knex';

export interface Spent {
  /** utime + stime so far, ms, of the server process, its stime alone, and mariadbd's. */
  readonly serverMs: number;
  readonly serverSystemMs: number;
  readonly databaseMs: number;
  /** Statements MariaDB has been sent (`Questions`, every database). */
  readonly statements: number;
}

export interface CpuTime {
  /** The server's pid and mariadbd's. */
  readonly pids: readonly number[];
  read(): Promise<Spent>;
  close(): Promise<void>;
}

/** utime + stime of a process, ms: clock ticks (100 a second on Linux), after the command name's closing parenthesis. */
export async function cpuMsOf(pid: number): Promise<number> {
  const { user, system } = await cpuOf(pid);
  return user + system;
}

/** utime + stime of the processes that exist among `known` (a pid of 0 or none is left out), summed, ms. */
async function cpuMsOfAll(known: readonly number[]): Promise<number> {
  const pids = known.filter((pid) => Number.isInteger(pid) && pid > 0);
  return (await Promise.all(pids.map(cpuMsOf))).reduce((sum, ms) => sum + ms, 0);
}

/** utime and stime of a process, ms. */
async function cpuOf(pid: number): Promise<{ user: number; system: number }> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** MariaDB runs on this machine (the bench's own server): its pid file, asked of the server itself, says which process it is. */
export async function databasePid(db: Knex): Promise<number> {
  const [rows] = (await db.raw('SELECT @@pid_file AS file')) as [{ file: string }[]];
  return Number((await readFile(rows[0]?.file ?? '', 'utf8')).trim());
}

/** Statements MariaDB has been sent, every database (`Questions`). */
export async function statementsSent(db: Knex): Promise<number> {
  const [rows] = (await db.raw("SHOW GLOBAL STATUS LIKE 'Questions'")) as [{ Value: string }[]];
  return Number(rows[0]?.Value);
}

/** The machine's CPU time so far, in clock ticks, from /proc/stat's first line. */
export interface MachineTicks {
  readonly total: number;
  /** Idle, waiting for I/O included. */
  readonly idle: number;
  /** Time the hypervisor gave this machine's virtual cores to other guests: work here waited for it. */
  readonly steal: number;
}

export async function machineTicks(): Promise<MachineTicks> {
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is counted in user already)
  const fields = ((await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((sum, ticks) => sum + ticks, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
}

/** Of the machine's CPU time between two readings, the share that was steal, %. */
export function stealPercent(from: MachineTicks, to: MachineTicks): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.steal - from.steal) / total) * 100 : 0;
}

/** What else a measured phase shared the machine with, as shares of the machine's CPU time, %. */
export interface Disturbance {
  /** Taken by the hypervisor for other guests (stealPercent). */
  readonly stealPercent: number;
  /**
   * Used by anything but the bench itself and the processes it measures (the server, MariaDB,
   * Redis): another program on the machine, and the kernel's own threads (0.0–0.7% in the flash
   * sale's phases here, 2026-12-07).
   */
  readonly othersPercent: number;
}

/** Starts watching the machine; `stop` says what a phase shared it with. `known` are the pids the phase measures. */
export async function watchMachine(known: readonly number[]): Promise<{ stop(): Promise<Disturbance> }> {
  const read = async () => ({ machine: await machineTicks(), knownMs: await cpuMsOfAll(known), self: process.cpuUsage() });
  const before = await read();
  return {
    async stop() {
      const after = await read();
      const totalMs = (after.machine.total - before.machine.total) * 10;
      if (totalMs <= 0) return { stealPercent: 0, othersPercent: 0 };
      const busyMs = totalMs - (after.machine.idle - before.machine.idle) * 10 - (after.machine.steal - before.machine.steal) * 10;
      const selfMs = (after.self.user + after.self.system - before.self.user - before.self.system) / 1_000;
      const othersMs = busyMs - (after.knownMs - before.knownMs) - selfMs;
      return { stealPercent: stealPercent(before.machine, after.machine), othersPercent: Math.max(0, (othersMs / totalMs) * 100) };
    },
  };
}

/**
 * Waits until the processes have gone quiet: at most `quietMs` of CPU between them over
 * `windowMs` (one clock tick in 100 ms by default), and returns the ms it waited (`maxMs` at
 * most). When a warm-up's load stops, the requests it had in flight are still being answered,
 * into sockets already closed: a phase measured right after would spend its first few hundred
 * ms on them, and count their latency into its own.
 */
export async function settled(known: readonly number[], options: { windowMs?: number; quietMs?: number; maxMs?: number } = {}): Promise<number> {
  const { windowMs = 100, quietMs = 10, maxMs = 5_000 } = options;
  const started = Date.now();
  let before = await cpuMsOfAll(known);
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = await cpuMsOfAll(known);
    if (now - before <= quietMs) break;
    before = now;
  }
  return Math.min(maxMs, Date.now() - started);
}

/** The server's pid is the child's; MariaDB's comes from its pid file. */
export async function cpuTime(server: ChildProcess, mysqlUrl: string): Promise<CpuTime> {
  const db = knex({ client: 'mysql2', connection: mysqlUrl, pool: { min: 0, max: 1 } });
  const database = await databasePid(db);
  const serverPid = server.pid ?? 0;
  return {
    pids: [serverPid, database],
    async read() {
      const statements = await statementsSent(db);
      const serverCpu = await cpuOf(serverPid);
      return { serverMs: serverCpu.user + serverCpu.system, serverSystemMs: serverCpu.system, databaseMs: await cpuMsOf(database), statements };
    },
    close: () => db.destroy(),
  };
}
