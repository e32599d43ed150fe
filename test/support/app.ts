/**
 * The whole HTTP app on real stores for `inject()` tests: the event store and key store on a
 * fresh MariaDB database, the mail outbox in a temp dir, every log line captured.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { buildApp } from '../../app/app.ts';
import { everyRole, wireProcess, type AllRoles, type WireOptions, type Wired } from '../../app/wiring/process.ts';
import { loadConfig } from '../../lib/config.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import type { HttpServer } from '../../lib/http/server-kit.ts';
import { freshMysqlDatabase } from './services.ts';

export interface TestApp {
  readonly app: HttpServer;
  /** Every role of the embedded all-in-one, wired as `npm start` wires them; started only as asked. */
  readonly services: AllRoles;
  readonly dataDir: string;
  /** Every log line written so far. */
  readonly logs: string[];
  /** The mails in the outbox so far. */
  readonly mails: () => Promise<{ to: string; subject: string; text: string; token: string }[]>;
}

/** The app of a process that plays the role BOXOFFICE_ROLE names (every role by default), wired as `serve` wires it. */
export async function roleApp(t: Test, env: Record<string, string> = {}, wire: WireOptions = {}): Promise<Omit<TestApp, 'services'> & { wired: Wired }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-app-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    BOXOFFICE_DATA_DIR: dataDir,
    MYSQL_URL: await freshMysqlDatabase(t),
    // With MYSQL_URL the gateway must be chosen: the tests pay through the sandbox's checkout and webhook.
    PAYMENT_GATEWAY: 'sandbox',
    // Cheap hashing: the tests check behaviour, not argon2's cost.
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    // Tests of limits turn them on with small numbers; the rest register many users from one address.
    RATE_LIMIT: 'off',
    ...env,
  });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = serverLogger(config, logStream);
  const wired = await wireProcess(config, logger.root, wire);
  const app = await buildApp(wired, logger);
  t.teardown(async () => {
    await app.close();
    await wired.close();
  });
  return {
    app,
    wired,
    dataDir,
    logs,
    mails: async () => {
      const text = await readFile(join(dataDir, 'mail-outbox.jsonl'), 'utf8').catch(() => '');
      // Complete lines only: the mailer may be half-way through appending the last one.
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      return complete.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { to: string; subject: string; text: string; token: string });
    },
  };
}

/** The embedded all-in-one's app, every role wired; the reactors started when asked, the projections when a spec starts them. */
export async function testApp(t: Test, env: Record<string, string> = {}, options: { reactors?: boolean; wire?: WireOptions } = {}): Promise<TestApp> {
  const { wired, ...made } = await roleApp(t, env, options.wire);
  const services = everyRole(wired);
  if (options.reactors === true) services.command.start();
  return { ...made, services };
}
