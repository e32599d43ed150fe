import t from 'tap';
import { declaredVariables } from './config-schema.ts';
import { checkRoleConfig, commandLineGatewayOf, ConfigError, DEFAULT_CORS_ORIGINS, loadConfig, loadConfigOrExit, paymentGatewayOf, plays, SETTINGS } from './config.ts';

t.test('with no variables at all, the embedded defaults apply', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    nodeEnv: 'production',
    port: 3000,
    dataDir: './data',
    jwtSecret: null,
    rateLimit: true,
    requireEmailVerification: true,
    autoRefund: true,
    holdTtlSeconds: 900,
    readWaitTimeoutMs: 5000,
    eventstoreUrl: null,
    mysqlUrl: null,
    redisUrl: null,
    natsUrl: null,
  });
  t.strictSame(config.corsOrigins, DEFAULT_CORS_ORIGINS);
  t.strictSame(config.mysqlReplicaUrls, []);
});

t.test('variables are read and converted', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    RATE_LIMIT: 'off',
    REQUIRE_EMAIL_VERIFICATION: 'false',
    AUTO_REFUND: 'false',
    HOLD_TTL_SECONDS: '120',
    CORS_ORIGINS: 'https://tickets.example.com, http://localhost:5173',
    MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice',
    MYSQL_REPLICA_URLS: 'mysql://app:secret@replica1:3306/boxoffice,mysql://app:secret@replica2:3306/boxoffice',
    REDIS_URL: 'redis://cache:6379',
    NATS_URL: 'nats://bus:4222',
    EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false',
    UNRELATED: 'ignored',
  });
  t.equal(config.port, 8080);
  t.equal(config.rateLimit, false);
  t.equal(config.requireEmailVerification, false);
  t.equal(config.autoRefund, false);
  t.equal(config.holdTtlSeconds, 120);
  t.strictSame(config.corsOrigins, ['https://tickets.example.com', 'http://localhost:5173']);
  t.equal(config.mysqlReplicaUrls.length, 2);
  t.equal(config.eventstoreUrl, 'esdb://eventstore:2113?tls=false');
});

t.test('an empty variable counts as unset', async (t) => {
  t.equal(loadConfig({ PORT: '' }).port, 3000);
});

t.test('a bad variable stops boot with a message that names it', async (t) => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'eighty' }, 'PORT', /PORT must be a TCP port/],
    [{ PORT: '70000' }, 'PORT', /PORT must be a whole number from 0 to 65535/],
    [{ RATE_LIMIT: 'maybe' }, 'RATE_LIMIT', /RATE_LIMIT must be on or off/],
    [{ MYSQL_URL: 'postgres://x' }, 'MYSQL_URL', /MYSQL_URL must be a MySQL/],
    [{ MYSQL_REPLICA_URLS: 'mysql://a,redis://b' }, 'MYSQL_REPLICA_URLS', /MYSQL_REPLICA_URLS/],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /REDIS_URL must be a Redis URL/],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', /JWT_SECRET must be a secret of at least 32/],
    [{ HOLD_TTL_SECONDS: '0' }, 'HOLD_TTL_SECONDS', /HOLD_TTL_SECONDS must be a whole number from 1/],
    [{ CORS_ORIGINS: 'https://ok.example, not an origin' }, 'CORS_ORIGINS', /CORS_ORIGINS must list origins/],
    [{ CORS_ORIGINS: 'https://ok.example/path' }, 'CORS_ORIGINS', /without a path/],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', /NODE_ENV must be one of/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)/],
    [{ ARGON2_ITERATIONS: '11' }, 'ARGON2_ITERATIONS', /ARGON2_ITERATIONS must be a whole number from 1 to 10/],
    [{ LOGIN_LOCKOUT_AFTER: '1001' }, 'LOGIN_LOCKOUT_AFTER', /must be a whole number from 1 to 1000/],
    [{ EXPIRY_CHECK_INTERVAL_MS: '49' }, 'EXPIRY_CHECK_INTERVAL_MS', /must be a whole number from 50 to 60000/],
    [{ REGISTER_LIMIT_PER_HOUR: 'lots' }, 'REGISTER_LIMIT_PER_HOUR', /must be a whole number of registrations per IP per hour \(1-1000000\)/],
    [{ PUBLIC_URL: 'http://' }, 'PUBLIC_URL', /PUBLIC_URL must be a URL \(got "http:\/\/"\)/],
    [{ MYSQL_REPLICA_URLS: 'mysql://a/b,mysql://has space' }, 'MYSQL_REPLICA_URLS', /MYSQL_REPLICA_URLS must be a URL/],
    [{ PERSONAL_DATA_KEY: 'c2hvcnQ=' }, 'PERSONAL_DATA_KEY', /PERSONAL_DATA_KEY must be 32 random bytes, base64-encoded/],
    [{ BOXOFFICE_ADMIN_PASSWORD: '😀'.repeat(9) }, 'BOXOFFICE_ADMIN_PASSWORD', /at least 10 characters/],
    [{ CAPTCHA_VERIFY_URL: 'https://captcha.example/siteverify' }, 'CAPTCHA_SECRET', /CAPTCHA_SECRET must be set together with its partner \(CAPTCHA_VERIFY_URL and CAPTCHA_SECRET\)/],
    [{ CAPTCHA_SECRET: 'shh' }, 'CAPTCHA_VERIFY_URL', /CAPTCHA_VERIFY_URL must be set together with its partner/],
    [{ PAYMENT_GATEWAY: 'paypal' }, 'PAYMENT_GATEWAY', /PAYMENT_GATEWAY must be one of sandbox, midtrans \(got "paypal"\)/],
    [{ PAYMENT_GATEWAY: 'midtrans' }, 'MIDTRANS_SERVER_KEY', /MIDTRANS_SERVER_KEY must be set with PAYMENT_GATEWAY=midtrans/],
    [{ PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test' }, 'MIDTRANS_CLIENT_KEY', /MIDTRANS_CLIENT_KEY must be set with PAYMENT_GATEWAY=midtrans/],
    [{ MIDTRANS_PRODUCTION: 'yes' }, 'MIDTRANS_PRODUCTION', /MIDTRANS_PRODUCTION must be true or false/],
    [{ MIDTRANS_API_URL: 'api.midtrans.test' }, 'MIDTRANS_API_URL', /MIDTRANS_API_URL must be an http\(s\):\/\/ base URL/],
  ];
  for (const [env, variable, message] of cases) {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    t.type(error, ConfigError, `${variable} is refused`);
    t.equal((error as ConfigError).variable, variable);
    t.match((error as Error).message, message);
  }
});

t.test('a process plays every role by default, or the one BOXOFFICE_ROLE names', async (t) => {
  const all = loadConfig({});
  t.equal(all.role, 'all');
  t.ok(plays(all, 'command') && plays(all, 'query') && plays(all, 'projector'));
  const query = loadConfig({ BOXOFFICE_ROLE: 'query' });
  t.same([plays(query, 'command'), plays(query, 'query'), plays(query, 'projector')], [false, true, false]);
  t.equal(loadConfig({ REDIS_KEY_PREFIX: 'tenant-a' }).redisKeyPrefix, 'tenant-a');
  t.throws(() => loadConfig({ BOXOFFICE_ROLE: 'everything' }), { name: 'ConfigError', message: /BOXOFFICE_ROLE must be one of all, command, query, projector/ });
  t.throws(() => loadConfig({ REDIS_KEY_PREFIX: 'has space' }), { name: 'ConfigError', message: /REDIS_KEY_PREFIX/ });
});

t.test('a role run alone needs the secrets it shares with the other instances; the all-in-one makes its own', async (t) => {
  const secrets = {
    JWT_SECRET: 'j'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'), PERSONAL_DATA_DIGEST_KEY: Buffer.alloc(32, 9).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: 'w'.repeat(20), TICKET_SIGNING_KEYS: Buffer.alloc(32, 5).toString('base64'),
  };
  t.doesNotThrow(() => checkRoleConfig(loadConfig({})));
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'projector', PAYMENT_GATEWAY: 'sandbox' })), 'the projector uses none');
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query' })), { name: 'ConfigError', message: /JWT_SECRET must be set when running the query role alone/ });
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', JWT_SECRET: secrets.JWT_SECRET })), { message: /PERSONAL_DATA_KEY/ });
  const queryKeys = { JWT_SECRET: secrets.JWT_SECRET, PERSONAL_DATA_KEY: secrets.PERSONAL_DATA_KEY };
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', ...queryKeys })), { message: /PERSONAL_DATA_DIGEST_KEY must be set when running the query role alone/ });
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'command', ...queryKeys, PAYMENT_WEBHOOK_SECRET: secrets.PAYMENT_WEBHOOK_SECRET })),
    { message: /PERSONAL_DATA_DIGEST_KEY/ }, 'the digest key comes from the environment, never made up beside the data');
  const withDigestKey = { ...queryKeys, PERSONAL_DATA_DIGEST_KEY: secrets.PERSONAL_DATA_DIGEST_KEY };
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', ...withDigestKey })), { message: /TICKET_SIGNING_KEYS must be set when running the query role alone/ },
    'the keys that sign tickets are shared, never made up per process');
  const withTicketKeys = { ...withDigestKey, TICKET_SIGNING_KEYS: secrets.TICKET_SIGNING_KEYS };
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', PAYMENT_GATEWAY: 'sandbox', ...withTicketKeys })), 'the query role needs no webhook secret');
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'command', ...withTicketKeys })), { message: /PAYMENT_WEBHOOK_SECRET/ });
  t.throws(() => loadConfig({ TICKET_SIGNING_KEYS: 'short' }), { name: 'ConfigError', message: /TICKET_SIGNING_KEYS/ });
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'command', PAYMENT_GATEWAY: 'sandbox', ...secrets })));
});

t.test('payments go through a gateway chosen on purpose: the sandbox is the default of the embedded default only', async (t) => {
  const secrets = {
    JWT_SECRET: 'j'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'), PERSONAL_DATA_DIGEST_KEY: Buffer.alloc(32, 9).toString('base64'),
    PAYMENT_WEBHOOK_SECRET: 'w'.repeat(20), TICKET_SIGNING_KEYS: Buffer.alloc(32, 5).toString('base64'),
  };
  const refused = (env: Record<string, string>, where: RegExp, why: string) => {
    let error: unknown;
    try {
      checkRoleConfig(loadConfig(env));
    } catch (caught) {
      error = caught;
    }
    t.type(error, ConfigError, why);
    t.equal((error as ConfigError | undefined)?.variable, 'PAYMENT_GATEWAY', `${why}: names PAYMENT_GATEWAY`);
    t.match((error as Error | undefined)?.message, where, why);
  };

  const embedded = loadConfig({});
  t.equal(embedded.paymentGateway, null, 'not set');
  t.equal(paymentGatewayOf(embedded), 'sandbox', '`npm start` with no service takes payments through the sandbox');
  t.doesNotThrow(() => checkRoleConfig(embedded));

  refused({ MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice' }, /PAYMENT_GATEWAY must be set when a service is configured/, 'MYSQL_URL set');
  refused({ EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false' }, /PAYMENT_GATEWAY must be set/, 'EVENTSTORE_URL set');
  refused({ REDIS_URL: 'redis://cache:6379' }, /PAYMENT_GATEWAY must be set/, 'REDIS_URL set');
  refused({ NATS_URL: 'nats://bus:4222' }, /PAYMENT_GATEWAY must be set/, 'NATS_URL set');
  refused({ BOXOFFICE_ROLE: 'command', ...secrets }, /PAYMENT_GATEWAY must be set when running the command role alone/, 'the command role alone');
  t.equal(paymentGatewayOf(loadConfig({ MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice' })), null, 'no gateway is made up for a deployment');

  // `serve --role command` sets the role after the variables are read: the sandbox does not follow it.
  let error: unknown;
  try {
    checkRoleConfig({ ...loadConfig(secrets), role: 'command' });
  } catch (caught) {
    error = caught;
  }
  t.match(error, { name: 'ConfigError', variable: 'PAYMENT_GATEWAY' }, '`serve --role command` on no service refuses too');

  // API.md: any start but the embedded default (a role alone, whichever) names its gateway, though only the command role takes payments.
  const queryKeys = { JWT_SECRET: secrets.JWT_SECRET, PERSONAL_DATA_KEY: secrets.PERSONAL_DATA_KEY, PERSONAL_DATA_DIGEST_KEY: secrets.PERSONAL_DATA_DIGEST_KEY, TICKET_SIGNING_KEYS: secrets.TICKET_SIGNING_KEYS };
  refused({ BOXOFFICE_ROLE: 'query', ...queryKeys }, /PAYMENT_GATEWAY must be set when running the query role alone/, 'the query role alone');
  refused({ BOXOFFICE_ROLE: 'projector' }, /PAYMENT_GATEWAY must be set when running the projector role alone/, 'the projector alone, on the embedded data dir');
  refused({ BOXOFFICE_ROLE: 'projector', MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice' }, /PAYMENT_GATEWAY must be set when running the projector role alone/, 'the projector alone, on MariaDB');
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-test', ...queryKeys })), 'the query role, the gateway named');
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'projector', PAYMENT_GATEWAY: 'sandbox', MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice' })), 'the projector, the gateway named');
  const chosen = loadConfig({ MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice', PAYMENT_GATEWAY: 'sandbox' });
  t.doesNotThrow(() => checkRoleConfig(chosen));
  t.equal(paymentGatewayOf(chosen), 'sandbox', 'chosen on purpose');
  const midtrans = loadConfig({ BOXOFFICE_ROLE: 'command', ...secrets, PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-test' });
  t.doesNotThrow(() => checkRoleConfig(midtrans));
  t.equal(paymentGatewayOf(midtrans), 'midtrans');
  t.equal(paymentGatewayOf(loadConfig({ PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-test' })), 'midtrans', 'also in the embedded default');
});

t.test("an operator's command uses the gateway `npm start` on the same data dir uses, whatever role it wires", async (t) => {
  t.equal(commandLineGatewayOf(loadConfig({ BOXOFFICE_ROLE: 'command' })), 'sandbox', 'the embedded data dir: the sandbox, with no variable');
  t.equal(commandLineGatewayOf(loadConfig({ PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-test' })), 'midtrans', 'the one chosen');
  for (const service of [{ MYSQL_URL: 'mysql://app:secret@db:3306/boxoffice' }, { EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false' }, { REDIS_URL: 'redis://cache:6379' }, { NATS_URL: 'nats://bus:4222' }]) {
    t.equal(commandLineGatewayOf(loadConfig(service)), null, `${Object.keys(service).join()}: none is made up for real services`);
    t.equal(commandLineGatewayOf(loadConfig({ ...service, PAYMENT_GATEWAY: 'sandbox' })), 'sandbox', 'the one chosen');
  }
});

t.test("Midtrans's keys, mode and base URLs", async (t) => {
  t.strictSame(loadConfig({}).midtrans, {
    serverKey: null, clientKey: null, production: false,
    apiUrl: 'https://api.sandbox.midtrans.com', snapUrl: 'https://app.sandbox.midtrans.com',
  }, "unset: Midtrans's sandbox");
  t.match(loadConfig({ MIDTRANS_PRODUCTION: 'true' }).midtrans, { production: true, apiUrl: 'https://api.midtrans.com', snapUrl: 'https://app.midtrans.com' }, 'production');
  t.match(loadConfig({ MIDTRANS_PRODUCTION: 'true', MIDTRANS_API_URL: 'http://127.0.0.1:9000/', MIDTRANS_SNAP_URL: 'http://127.0.0.1:9000/' }).midtrans,
    { apiUrl: 'http://127.0.0.1:9000', snapUrl: 'http://127.0.0.1:9000' }, 'a local test server replaces both; a trailing slash is dropped');
  t.match(loadConfig({ PAYMENT_GATEWAY: 'midtrans', MIDTRANS_SERVER_KEY: 'SB-Mid-server-test', MIDTRANS_CLIENT_KEY: 'SB-Mid-client-test' }).midtrans,
    { serverKey: 'SB-Mid-server-test', clientKey: 'SB-Mid-client-test' });
});

t.test('defaults that depend on other variables: PUBLIC_URL on PORT, LOG_LEVEL on NODE_ENV', async (t) => {
  t.equal(loadConfig({}).publicUrl, 'http://localhost:3000');
  t.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
  t.equal(loadConfig({ PORT: '8080', PUBLIC_URL: 'https://tickets.example.com/' }).publicUrl, 'https://tickets.example.com', 'a trailing slash is dropped');
  t.equal(loadConfig({}).logLevel, 'info');
  t.equal(loadConfig({ NODE_ENV: 'test' }).logLevel, 'warn');
  t.equal(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }).logLevel, 'silent');
  t.equal(loadConfig({ NODE_ENV: 'development' }).logLevel, 'info');
});

t.test('TRUST_PROXY: nobody, everybody, or a list of addresses', async (t) => {
  t.equal(loadConfig({}).trustProxy, false);
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  t.strictSame(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.2' }).trustProxy, ['10.0.0.1', '10.0.0.2']);
});

t.test('nested settings and the CAPTCHA pair fill their fields', async (t) => {
  const config = loadConfig({
    ARGON2_MEMORY_KIB: '65536', ARGON2_ITERATIONS: '3', BOOKING_IP_LIMIT_PER_MINUTE: '1000000',
    CAPTCHA_VERIFY_URL: 'https://captcha.example/siteverify', CAPTCHA_SECRET: 'shh',
    PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  t.strictSame(config.argon2, { memoryKib: 65_536, iterations: 3, parallelism: 1 });
  t.strictSame(config.limits, {
    registerPerHourPerIp: 20, loginPerMinutePerIp: 30, loginPerMinutePerAccount: 10, lockoutAfterFailures: 5, lockoutSeconds: 900, lockoutMaxDelaySeconds: 300, captchaAfterFailures: 20,
    bookingsPerMinutePerAccount: 30, bookingsPerMinutePerIp: 1_000_000,
  });
  t.strictSame(config.captcha, { verifyUrl: 'https://captcha.example/siteverify', secret: 'shh' });
  t.equal(loadConfig({}).captcha, null, 'neither: no CAPTCHA');
  t.ok(config.personalDataKey?.equals(Buffer.alloc(32, 7)));
});

t.test('every variable is declared once, and its default, set explicitly, is accepted and changes nothing', async (t) => {
  const declared = [...declaredVariables(SETTINGS)].map(({ setting }) => setting);
  const names = declared.map((setting) => setting.variable);
  t.equal(new Set(names).size, names.length, 'no variable fills two fields');
  const defaults = loadConfig({});
  for (const setting of declared) {
    if ('text' in setting.fallback) t.strictSame(loadConfig({ [setting.variable]: setting.fallback.text }), defaults, `${setting.variable}=${setting.fallback.text}`);
  }
});

t.test('loadConfigOrExit names the bad variable on stderr and exits with code 2', async (t) => {
  const exits: (number | undefined)[] = [];
  t.intercept(process, 'exit', { value: (code?: number) => void exits.push(code) });
  const written = t.capture(process.stderr, 'write', () => true);
  const port = process.env.PORT;
  t.teardown(() => {
    if (port === undefined) delete process.env.PORT;
    else process.env.PORT = port;
  });
  process.env.PORT = '70000';
  loadConfigOrExit();
  t.strictSame(exits, [2]);
  t.match(written.args().map((args) => String(args[0])), ['Invalid configuration: PORT must be a whole number from 0 to 65535 (got "70000")\n']);
});

t.test("LEGACY_PORTS: the older API's listeners, in a process that plays every role", async (t) => {
  t.same(loadConfig({}).legacyPorts, null, 'none by default');
  t.same(loadConfig({ LEGACY_PORTS: '8080,8081,8082' }).legacyPorts, [8080, 8081, 8082]);
  t.throws(() => loadConfig({ LEGACY_PORTS: '8080,x' }), { name: 'ConfigError', message: /LEGACY_PORTS/ });
  t.throws(() => loadConfig({ LEGACY_PORTS: '8080,70000' }), { name: 'ConfigError', message: /LEGACY_PORTS/ });
  t.throws(() => loadConfig({ LEGACY_PORTS: '8080,8080' }), { name: 'ConfigError', message: /LEGACY_PORTS must not name a port twice/ });
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ LEGACY_PORTS: '8080,8081,8082' })));
  t.throws(() => checkRoleConfig(loadConfig({ LEGACY_PORTS: '8080', BOXOFFICE_ROLE: 'query' })), { name: 'ConfigError', message: /LEGACY_PORTS needs every role in one process/ });
  t.throws(() => checkRoleConfig(loadConfig({ LEGACY_PORTS: '3000' })), { name: 'ConfigError', message: /LEGACY_PORTS must not name PORT/ });
});
