/**
 * Accounts for HTTP tests, and a record of every secret or personal value the tests send, so a
 * spec can assert at its end that none of them reached the logs.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { HttpServer } from '../../lib/http/server-kit.ts';
import type { TestApp } from './app.ts';
import { eventually } from './eventually.ts';

const secrets = new Set<string>();

/** Remembers a value that must never appear in a log line. */
export function secret<T extends string>(value: T): T {
  secrets.add(value);
  return value;
}

export interface Account {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/** A fresh, unique username, email and password. */
export function newAccount(prefix = 'fan'): Omit<Account, 'id'> {
  const tag = randomBytes(4).toString('hex');
  return {
    username: `${prefix}.${tag}`,
    email: secret(`${prefix}.${tag}@example.test`),
    password: secret(`Senja-${tag}-Konser!`),
  };
}

export async function register(app: HttpServer, account = newAccount()): Promise<Account> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/users/register', payload: account });
  if (response.statusCode !== 201) throw new Error(`register answered ${response.statusCode}: ${response.body}`);
  return { ...account, id: (response.json<{ id: string }>()).id };
}

export async function login(app: HttpServer, account: Pick<Account, 'username' | 'password'>): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/users/login', payload: { username: account.username, password: account.password } });
  if (response.statusCode !== 200) throw new Error(`login answered ${response.statusCode}: ${response.body}`);
  return secret(response.json<{ access_token: string }>().access_token);
}

/** Registers, verifies the address through the mailed token, and signs in. */
export async function verifiedUser(testApp: TestApp, account = newAccount()): Promise<Account & { token: string }> {
  const registered = await register(testApp.app, account);
  const mail = await waitForMail(testApp, registered.email);
  const verified = await testApp.app.inject({ method: 'POST', url: '/api/v1/users/verify-email', payload: { token: mail.token } });
  if (verified.statusCode !== 200) throw new Error(`verify answered ${verified.statusCode}: ${verified.body}`);
  return { ...registered, token: await login(testApp.app, registered) };
}

export async function waitForMail(testApp: TestApp, to: string): Promise<{ to: string; text: string; token: string }> {
  const mail = await eventually(async () => (await testApp.mails()).find((m) => m.to === to), `a mail to ${to}`, 5_000);
  return { ...mail, token: secret(mail.token) };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The last test of a spec: nothing remembered with `secret()` is in any captured log line. */
export function assertNoSecretsInLogs(t: Test, logs: readonly string[]): void {
  t.ok(logs.length > 10, `${logs.length} log lines were captured and read`);
  const leaks: string[] = [];
  for (const value of secrets) {
    for (const line of logs) {
      if (line.includes(value)) leaks.push(`${value.slice(0, 12)}… in ${line.slice(0, 200)}`);
    }
  }
  t.strictSame(leaks, [], `none of ${secrets.size} secrets and personal values is in the logs`);
}
