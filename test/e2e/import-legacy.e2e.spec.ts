/**
 * `boxoffice import:legacy` as an operator runs it: killed with SIGKILL halfway, then run again,
 * it ends with the same event store as one clean run on a fresh database; a run after that
 * appends nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import t from 'tap';
import type { ReconciliationReport } from '../../command-api/legacy-import/reconciliation.ts';
import { generateLegacy, legacyDatabases } from '../support/legacy.ts';
import { freshMysqlDatabase } from '../support/services.ts';

const root = join(import.meta.dirname, '..', '..');
// Enough that the bookings take several seconds: a non-interactive run prints its progress once a
// second, and the kill waits for a line inside the bookings (400 once finished in under one).
const BOOKINGS = 2_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; with `killWhen`, SIGKILLs it the moment its progress (stderr) satisfies it. */
function importer(env: Record<string, string>, args: readonly string[], killWhen?: (done: number, total: number) => boolean): Promise<Run> {
  const child = spawn(process.execPath, [join(root, 'bin', 'boxoffice.js'), 'import:legacy', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const progress = [...stderr.matchAll(/ (\d[\d,]*)\/(\d[\d,]*) rows /g)].at(-1);
    if (killWhen !== undefined && progress !== undefined && killWhen(Number(progress[1]?.replaceAll(',', '')), Number(progress[2]?.replaceAll(',', '')))) child.kill('SIGKILL');
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Every stream's events, in order, without what differs by nature between two runs: event ids, metadata, sealed ciphertexts. */
async function history(url: string): Promise<string[]> {
  const db = knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
  try {
    const rows = await db('es_events').select('stream_id', 'revision', 'type', 'data').orderBy(['stream_id', 'revision']);
    return rows.map((row: { stream_id: string | Buffer; revision: number; type: string | Buffer; data: string }) => {
      const data = JSON.stringify(JSON.parse(row.data), (_key, value: unknown) => (value !== null && typeof value === 'object' && 'ciphertext' in value ? '<sealed>' : value));
      return `${String(row.stream_id)} ${row.revision} ${String(row.type)} ${data}`;
    });
  } finally {
    await db.destroy();
  }
}

t.test('killed halfway and resumed, the import ends as one clean run does; again, it appends nothing', async (t) => {
  const databases = await legacyDatabases(t, null);
  // Four concerts: their bookings are imported side by side, each concert's in order.
  await generateLegacy(databases, BOOKINGS, { seatsPerConcert: BOOKINGS / 4 });
  const args = ['--users-db', databases.usersDb, '--bookings-db', databases.bookingsDb, '--payments-db', databases.paymentsDb, '--json'];
  // One data dir for both stores: the same secrets, so fingerprints and digests compare.
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-import-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = (mysqlUrl: string) => ({ MYSQL_URL: mysqlUrl, PAYMENT_GATEWAY: 'sandbox', BOXOFFICE_DATA_DIR: dataDir, ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' });

  const clean = await freshMysqlDatabase(t);
  const cleanRun = await importer(env(clean), args);
  t.equal(cleanRun.code, 0, cleanRun.code === 0 ? 'a clean run' : cleanRun.stderr);
  const cleanReport = JSON.parse(cleanRun.stdout) as ReconciliationReport;
  t.equal(cleanReport.tables.bookings.taken, BOOKINGS);
  t.equal(cleanReport.tables.payments.taken, BOOKINGS);
  t.match(cleanRun.stderr, /\[#+\.*\] +\d+% {2}[\d,]+\/[\d,]+ rows/, 'a progress bar on stderr');

  const resumed = await freshMysqlDatabase(t);
  // Killed once it is into the bookings: users and concerts done, bookings partly.
  const killed = await importer(env(resumed), args, (done, total) => done > BOOKINGS + 1 + BOOKINGS / 4 && done < total);
  t.equal(killed.signal, 'SIGKILL', 'killed before it finished');
  const partial = await history(resumed);
  const whole = await history(clean);
  t.ok(partial.length > 0 && partial.length < whole.length, `killed halfway: ${partial.length} of ${whole.length} events`);

  const resume = await importer(env(resumed), args);
  t.equal(resume.code, 0, resume.code === 0 ? 'the resumed run ends' : resume.stderr);
  const resumeReport = JSON.parse(resume.stdout) as ReconciliationReport;
  t.strictSame(resumeReport.tables, cleanReport.tables, 'the same reconciliation');
  t.ok(resumeReport.events_appended > 0 && resumeReport.events_appended < cleanReport.events_appended, 'the resume appended only what was missing');
  t.strictSame(await history(resumed), whole, 'the same streams, events and data as one clean run');

  const again = await importer(env(resumed), args);
  t.equal(again.code, 0, again.code === 0 ? 'a run after that' : again.stderr);
  t.equal((JSON.parse(again.stdout) as ReconciliationReport).events_appended, 0, 'a run after that appends nothing');
  t.equal((await history(resumed)).length, whole.length);
});

t.test('a wrong call is a usage error (exit 2) and --dry-run appends nothing', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-import-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const store = await freshMysqlDatabase(t);
  const env = { MYSQL_URL: store, PAYMENT_GATEWAY: 'sandbox', BOXOFFICE_DATA_DIR: dataDir };
  const missing = await importer(env, ['--users-db', 'mysql://u@h/users']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--bookings-db is required/);
  const databases = await legacyDatabases(t);
  const dry = await importer(env, ['--users-db', databases.usersDb, '--bookings-db', databases.bookingsDb, '--payments-db', databases.paymentsDb, '--dry-run']);
  t.equal(dry.code, 0, dry.code === 0 ? 'a dry run' : dry.stderr);
  t.match(dry.stdout, /^bookings +11 +6 +5$/m, 'the reconciliation table');
  t.match(dry.stdout, /bookings: 1 refused, KTP_LIMIT_REACHED/);
  t.match(dry.stdout, /dry run: nothing was appended/);
  t.strictSame(await history(store), [], 'the store holds no event');
});
