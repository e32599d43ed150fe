/**
 * `npm start` as a new user runs it: one process, no services, listening on PORT, answering its
 * health check, and stopping cleanly on SIGTERM. Its payments are simulated, and say so; any other
 * start must choose its payment gateway.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import t from 'tap';
import { freePort } from '../harness/servers.ts';
import { startServer } from '../support/process.ts';
import { freshMysqlDatabase } from '../support/services.ts';

const start = startServer;

t.test('npm start serves /health/live on PORT and stops on SIGTERM', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const server = start({ PORT: String(port), BOXOFFICE_DATA_DIR: dataDir });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.listening();
  t.match(server.output(), `http://127.0.0.1:${port}`, 'prints its URL');

  for (const path of ['/health/live', '/health/live/']) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    t.equal(response.status, 200, path);
    t.strictSame(await response.json(), { status: 'ok' });
  }
  const missing = await fetch(`http://127.0.0.1:${port}/no/such/route`);
  t.equal(missing.status, 404);

  server.child.kill('SIGTERM');
  t.equal(await server.exit, 0, 'exits 0 after a graceful shutdown');
});

t.test('a signal relayed during the stop (npm, the terminal\'s process group) does not cut it short', async (t) => {
  // A terminal's Ctrl-C, or a SIGTERM to `npm start`'s group, reaches the server twice: once
  // itself, and once more when npm relays the one it got.
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = start({ PORT: '0', BOXOFFICE_DATA_DIR: dataDir });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.listening();
  // A request in flight, its body not all sent yet: the drain waits for it.
  const { hostname, port } = new URL(server.url());
  const socket = connect(Number(port), hostname);
  t.teardown(() => void socket.destroy());
  await once(socket, 'connect');
  const body = JSON.stringify({ username: 'nobody-here', password: 'Not-The-Password-1' });
  socket.write(`POST /api/v1/users/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  const answered = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
  });
  await setTimeout(200);

  // Back to back, as npm relays (a second SIGTERM may merge with the first while pending; a SIGINT does not).
  server.child.kill('SIGTERM');
  server.child.kill('SIGTERM');
  t.ok(server.child.kill('SIGINT'), 'a SIGINT right after');
  await server.printed('"msg":"shutting down"');
  await setTimeout(300);
  t.equal(server.child.exitCode, null, 'still draining: the signals did not end it');
  t.equal(server.child.signalCode, null);
  t.match(server.output(), /"msg":"already shutting down"/, 'the repeats are logged, not acted on');

  socket.write(body.slice(10));
  // Then its keep-alive connection is closed, not kept for fastify's keepAliveTimeout (72 s).
  const closed = await Promise.race([answered, setTimeout(10_000, 'still open after 10 s')]);
  t.match(closed, /^HTTP\/1\.1 401 /, 'the request in flight is answered, and its connection closed');
  t.equal(await server.exit, 0, 'exits 0: the drain ran to its end');
  t.equal(server.child.signalCode, null, 'not ended by a signal');
  t.equal(server.output().match(/"msg":"shutting down"/g)?.length, 1, 'one shutdown');
  t.match(server.output(), /"clean":true,"msg":"stopped"/);
});

t.test('a signal during start-up stops it where it is: it closes what it opened and exits 0, not "failed to start"', async (t) => {
  // A deploy that is rolled back, or a Ctrl-C, while a process is still migrating and seeding.
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = start({ PORT: '0', BOXOFFICE_DATA_DIR: dataDir, BOXOFFICE_ADMIN_PASSWORD: 'Start-Up-Admin-Passw0rd' });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await server.printed('"msg":"starting"');
  server.child.kill('SIGTERM');
  t.equal(await server.exit, 0, 'exits 0');
  t.equal(server.child.signalCode, null, 'not ended by the signal');
  const output = server.output();
  t.notMatch(output, /failed to start/);
  t.match(output, /"signal":"SIGTERM","duringStartUp":true,"msg":"shutting down"/);
  t.match(output, /"clean":true,"msg":"stopped"/);
  t.notMatch(output, /is running at/, 'it stopped before it listened');
});

t.test('a start-up that fails (its port taken) closes what it had opened and started, then says why and exits 1', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const { port } = taken.address() as AddressInfo;
  const server = start({ PORT: String(port), BOXOFFICE_DATA_DIR: dataDir });
  t.teardown(() => void server.child.kill('SIGKILL'));
  t.equal(await server.exit, 1, 'exits 1');
  const output = server.output();
  t.match(output, /EADDRINUSE.*"msg":"failed to start; closing what start-up opened"/, 'the reason is logged first');
  t.match(output, /"clean":true,"msg":"closed after a failed start-up"/, 'the services, reactors and projectors it had started were closed');
  t.ok(output.indexOf('failed to start; closing') < output.indexOf('closed after a failed start-up'), 'in that order (one stream)');
  t.match(output, /boxoffice failed to start: .*EADDRINUSE/, 'and said on stderr');
});

t.test('with BOXOFFICE_ADMIN_PASSWORD the admin can sign in once ready, and accounts survive a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { PORT: String(port), BOXOFFICE_DATA_DIR: dataDir, BOXOFFICE_ADMIN_PASSWORD: 'Start-Admin-Pass-1', ARGON2_MEMORY_KIB: '8192' };
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const first = start(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  await first.listening();
  t.match(first.output(), `${base}/docs`, 'prints the docs URL');
  const ready = await fetch(`${base}/health/ready`);
  t.equal(ready.status, 200, 'ready');
  t.match(await ready.json(), { status: 'ok', checks: { payments: 'simulated' } }, 'and says payments are simulated');
  t.match(first.output(), /payments: SIMULATED \(sandbox gateway: every payment is free\)/, 'so does the banner');
  t.notMatch(first.output(), /PAYMENT_GATEWAY=sandbox/, 'the embedded default needs no warning: the sandbox is its default');
  t.equal((await post('/api/v1/users/login', { username: 'admin', password: 'Start-Admin-Pass-1' })).status, 200, 'the admin signs in');
  const account = { username: 'tari.restart', email: 'tari@example.test', password: 'Restart-Pass-2-ok' };
  t.equal((await post('/api/v1/users/register', account)).status, 201);
  first.child.kill('SIGTERM');
  t.equal(await first.exit, 0);

  const second = start(env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  await second.listening();
  const login = await post('/api/v1/users/login', { username: account.username, password: account.password });
  t.equal(login.status, 200, 'the account is still there');
  t.equal((await login.json() as { user: { email: string } }).user.email, 'tari@example.test', 'and its sealed address still opens');
  const outbox = await readFile(join(dataDir, 'mail-outbox.jsonl'), 'utf8');
  t.match(outbox, /"to":"tari@example.test"/, 'the verification mail is in the outbox');
  second.child.kill('SIGTERM');
  t.equal(await second.exit, 0);
});

t.test('a bad variable stops boot with a message naming it', async (t) => {
  const server = start({ PORT: 'eighty' });
  t.equal(await server.exit, 2);
  t.match(server.output(), /Invalid configuration: PORT must be a TCP port/);
});

t.test('any start but the embedded default refuses to run until PAYMENT_GATEWAY is chosen', async (t) => {
  const secrets = { JWT_SECRET: 'j'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    PERSONAL_DATA_DIGEST_KEY: Buffer.alloc(32, 9).toString('base64'), TICKET_SIGNING_KEYS: Buffer.alloc(32, 5).toString('base64'), PAYMENT_WEBHOOK_SECRET: 'w'.repeat(20) };
  const starts: [string, Record<string, string>][] = [
    ['MYSQL_URL set', { MYSQL_URL: 'mysql://nobody:nothing@127.0.0.1:1/none' }],
    ['EVENTSTORE_URL set', { EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' }],
    ['the command role alone', { BOXOFFICE_ROLE: 'command', ...secrets }],
    ['the query role alone', { BOXOFFICE_ROLE: 'query', ...secrets }],
    ['the projector alone', { BOXOFFICE_ROLE: 'projector' }],
    ['REDIS_URL set', { REDIS_URL: 'redis://127.0.0.1:1' }],
    ['NATS_URL set', { NATS_URL: 'nats://127.0.0.1:1' }],
  ];
  for (const [what, env] of starts) {
    const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const server = start({ PORT: String(await freePort()), BOXOFFICE_DATA_DIR: dataDir, ...env });
    t.teardown(() => void server.child.kill('SIGKILL'));
    t.equal(await server.exit, 2, `${what}: exit code 2`);
    t.match(server.output(), /Invalid configuration: PAYMENT_GATEWAY must be set/, `${what}: names PAYMENT_GATEWAY`);
  }
});

t.test('PAYMENT_GATEWAY=sandbox chosen on MariaDB: it starts, warns at every start, and says payments are simulated', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-start-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env = { PORT: String(port), BOXOFFICE_DATA_DIR: dataDir, MYSQL_URL: await freshMysqlDatabase(t), PAYMENT_GATEWAY: 'sandbox', LOG_LEVEL: 'warn' };
  for (const round of ['first', 'second']) {
    const server = start(env);
    t.teardown(() => void server.child.kill('SIGKILL'));
    await server.listening();
    t.match(server.output(), /"level":40.*PAYMENT_GATEWAY=sandbox: payments are simulated/, `${round} start: a warning`);
    t.match(server.output(), /payments: SIMULATED/, `${round} start: the banner`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    t.equal(ready.status, 200);
    t.match(await ready.json(), { status: 'ok', checks: { payments: 'simulated' } });
    server.child.kill('SIGTERM');
    t.equal(await server.exit, 0);
  }
});
