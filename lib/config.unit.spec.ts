import t from 'tap';
import { checkRoleConfig, ConfigError, DEFAULT_CORS_ORIGINS, loadConfig, plays } from './config.ts';

t.test('with no variables at all, the embedded defaults apply', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    nodeEnv: 'production',
    port: 3000,
    dataDir: './data',
    jwtSecret: null,
    rateLimit: true,
    requireEmailVerification: true,
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
    [{ PORT: '70000' }, 'PORT', /PORT must be a whole number from 1 to 65535/],
    [{ RATE_LIMIT: 'maybe' }, 'RATE_LIMIT', /RATE_LIMIT must be on or off/],
    [{ MYSQL_URL: 'postgres://x' }, 'MYSQL_URL', /MYSQL_URL must be a MySQL/],
    [{ MYSQL_REPLICA_URLS: 'mysql://a,redis://b' }, 'MYSQL_REPLICA_URLS', /MYSQL_REPLICA_URLS/],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /REDIS_URL must be a Redis URL/],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', /JWT_SECRET must be a secret of at least 32/],
    [{ HOLD_TTL_SECONDS: '0' }, 'HOLD_TTL_SECONDS', /HOLD_TTL_SECONDS must be a whole number from 1/],
    [{ CORS_ORIGINS: 'https://ok.example, not an origin' }, 'CORS_ORIGINS', /CORS_ORIGINS must list origins/],
    [{ CORS_ORIGINS: 'https://ok.example/path' }, 'CORS_ORIGINS', /without a path/],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', /NODE_ENV must be one of/],
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
  const secrets = { JWT_SECRET: 'j'.repeat(40), PERSONAL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'), PAYMENT_WEBHOOK_SECRET: 'w'.repeat(20) };
  t.doesNotThrow(() => checkRoleConfig(loadConfig({})));
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'projector' })), 'the projector uses none');
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query' })), { name: 'ConfigError', message: /JWT_SECRET must be set when running the query role alone/ });
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', JWT_SECRET: secrets.JWT_SECRET })), { message: /PERSONAL_DATA_KEY/ });
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'query', JWT_SECRET: secrets.JWT_SECRET, PERSONAL_DATA_KEY: secrets.PERSONAL_DATA_KEY })), 'the query role needs no webhook secret');
  t.throws(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'command', JWT_SECRET: secrets.JWT_SECRET, PERSONAL_DATA_KEY: secrets.PERSONAL_DATA_KEY })), { message: /PAYMENT_WEBHOOK_SECRET/ });
  t.doesNotThrow(() => checkRoleConfig(loadConfig({ BOXOFFICE_ROLE: 'command', ...secrets })));
});
