/**
 * The one place that reads process.env. Every variable is declared once, in SETTINGS below: its
 * name, what it means, the values it accepts, its default and the Config field it fills. The
 * `Config` type, the validation at boot (a bad variable stops the process with a message that
 * names it) and the README's configuration table (`npm run docs:config`) all come from there.
 * Composition roots call `loadConfig()` once and pass the result down.
 */
import {
  checkedUrl, computed, ConfigError, flag, member, oneOf, optional, readSettings, secret, text, together, url, urlList, wholeNumber, withDefault,
  type ConfigOf, type Kind, type Settings,
} from './config-schema.ts';

export { ConfigError } from './config-schema.ts';

const origins: Kind<readonly string[]> = {
  accepts: 'a comma-separated list of origins like https://tickets.example.com',
  pattern: '^.*$',
  parse: (list, variable) => {
    const result = list.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
    for (const origin of result) {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new ConfigError(variable, `must list origins like https://tickets.example.com (got ${JSON.stringify(origin)})`);
      }
      if (parsed.origin !== origin) {
        throw new ConfigError(variable, `must list bare origins without a path (got ${JSON.stringify(origin)})`);
      }
    }
    return result;
  },
};

const proxies: Kind<boolean | string[]> = {
  accepts: 'true, false, or a comma-separated list of proxy addresses',
  pattern: '^.+$',
  parse: (value) => value === 'false' ? false : value === 'true' ? true : value.split(',').map((address) => address.trim()),
};

const base64Key: Kind<Buffer> = {
  accepts: '32 random bytes, base64-encoded',
  pattern: '^[A-Za-z0-9+/]{43}=$',
  parse: (value) => Buffer.from(value, 'base64'),
};

const signingSeeds: Kind<readonly Buffer[]> = {
  accepts: 'comma-separated Ed25519 signing keys, each 32 random bytes base64-encoded; the first signs, every one verifies',
  pattern: '^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$',
  parse: (value) => value.split(',').map((seed) => Buffer.from(seed, 'base64')),
};

const ports: Kind<readonly number[]> = {
  accepts: 'a comma-separated list of TCP port numbers (1-65535)',
  pattern: '^[0-9]{1,5}(,[0-9]{1,5})*$',
  parse: (list, variable) => {
    const result = list.split(',').map((port) => wholeNumber(1, 65_535).parse(port, variable));
    if (new Set(result).size !== result.length) throw new ConfigError(variable, `must not name a port twice (got ${JSON.stringify(list)})`);
    return result;
  },
};

const ROLES = ['all', 'command', 'query', 'projector'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LIMIT = 1_000_000;
const GATEWAYS = ['sandbox', 'midtrans'] as const;
export type PaymentGatewayName = (typeof GATEWAYS)[number];

// Midtrans's own base URLs (those of its official clients): Snap's `/transactions`, the Core API's `/v2/<order id>/status`.
const MIDTRANS_URLS = {
  sandbox: { api: 'https://api.sandbox.midtrans.com', snap: 'https://app.sandbox.midtrans.com' },
  production: { api: 'https://api.midtrans.com', snap: 'https://app.midtrans.com' },
} as const;
interface MidtransMode { readonly midtrans: { readonly production: boolean } }
const midtransUrls = (config: MidtransMode) => MIDTRANS_URLS[config.midtrans.production ? 'production' : 'sandbox'];
const baseUrl = (accepts: string): Kind<string> => ({
  ...url(accepts, '^https?://'),
  parse: (value, variable) => checkedUrl(value, variable).replace(/\/$/, ''),
});

/** Every variable boxoffice reads, each once, shaped as the Config it fills. */
export const SETTINGS = {
  nodeEnv: withDefault('NODE_ENV', '`development` lets the session cookie travel over plain http; `test` lowers the default log level', oneOf(NODE_ENVS), 'production'),
  /** What this process does: every role (the embedded default), or one of them. */
  role: withDefault('BOXOFFICE_ROLE', 'what this process does: `all`, or one role: `command` (command routes, reactors), `query` (read routes), `projector` (projections); `serve --role` sets it too', oneOf(ROLES), 'all'),
  logLevel: computed('LOG_LEVEL', 'the least severe log line written', oneOf(LOG_LEVELS), '`info` (`warn` when `NODE_ENV` is `test`)',
    (config: { readonly nodeEnv: string }) => config.nodeEnv === 'test' ? 'warn' : 'info'),
  host: withDefault('HOST', 'the address the server listens on', text('a host name or address to listen on', '^\\S+$'), '0.0.0.0'),
  port: withDefault('PORT', 'the port the server listens on (0: any free port, printed at start)', { ...wholeNumber(0, 65_535), accepts: 'a TCP port number (0-65535)', pattern: '^[0-9]{1,5}$' }, '3000'),
  /** Where /metrics is served, and who may read it: the API port and anyone, unless these say otherwise. */
  metrics: {
    port: optional('METRICS_PORT', 'serve `/metrics` only on this port, a listener of its own (on the API port it then answers `404`)',
      { ...wholeNumber(1, 65_535), accepts: 'a TCP port number (1-65535)', pattern: '^[0-9]{1,5}$' }, 'none: `/metrics` is on the API port'),
    host: withDefault('METRICS_HOST', 'the address the `METRICS_PORT` listener binds to (keep it private: a container network, a VPN)', text('a host name or address to listen on', '^\\S+$'), '127.0.0.1'),
    token: optional('METRICS_TOKEN', '`/metrics` then needs `Authorization: Bearer <METRICS_TOKEN>` (`401` otherwise), on whichever port serves it', secret(16, 'a token'), 'none: no token asked'),
  },
  /** Embedded default: SQLite files, the JWT key and the mail outbox live here. */
  dataDir: withDefault('BOXOFFICE_DATA_DIR', "the embedded default's data: SQLite files, generated secrets, the mail outbox", text('a directory path', '^.+$'), './data'),
  adminPassword: optional('BOXOFFICE_ADMIN_PASSWORD', 'makes sure a verified `admin` account with this password exists before the server answers', secret(10, 'a password'), 'none'),
  /** null: the embedded default makes one and keeps it in the data dir. */
  jwtSecret: optional('JWT_SECRET', 'signs the access tokens; every instance of a deployment shares it', secret(32), 'generated'),
  jwtTtlSeconds: withDefault('JWT_TTL_SECONDS', 'how long an access token works', wholeNumber(60, 86_400, 'seconds'), '900'),
  /** null: not chosen; `paymentGatewayOf` tells which gateway a process then takes payments through, if any. */
  paymentGateway: optional('PAYMENT_GATEWAY', 'who takes the money: `midtrans` (Snap checkout), or `sandbox`, a checkout page of our own that pays nothing (free tickets: tests and demos only)',
    oneOf(GATEWAYS), '`sandbox` for `npm start` with no service configured; any other start (a role alone, or a service configured) refuses to run without it'),
  paymentWebhookSecret: optional('PAYMENT_WEBHOOK_SECRET', "HMAC key of the sandbox gateway's webhook; every instance shares it", secret(16), 'generated'),
  midtrans: {
    serverKey: optional('MIDTRANS_SERVER_KEY', "Midtrans's server key (with `PAYMENT_GATEWAY=midtrans`): calls its API, checks its notifications", secret(8, 'a server key'), 'none'),
    clientKey: optional('MIDTRANS_CLIENT_KEY', "Midtrans's client key (with `PAYMENT_GATEWAY=midtrans`)", secret(8, 'a client key'), 'none'),
    production: withDefault('MIDTRANS_PRODUCTION', "`true` takes real money at Midtrans's production URLs; `false` uses its sandbox", flag('true', 'false'), 'false'),
    apiUrl: computed('MIDTRANS_API_URL', "replaces the base URL of Midtrans's Core API (status, refunds), e.g. for a local test server",
      baseUrl('an http(s):// base URL'), `\`${MIDTRANS_URLS.sandbox.api}\` (\`${MIDTRANS_URLS.production.api}\` with \`MIDTRANS_PRODUCTION=true\`)`, (config: MidtransMode) => midtransUrls(config).api),
    snapUrl: computed('MIDTRANS_SNAP_URL', "replaces the base URL of Midtrans's Snap API (checkouts), e.g. for a local test server",
      baseUrl('an http(s):// base URL'), `\`${MIDTRANS_URLS.sandbox.snap}\` (\`${MIDTRANS_URLS.production.snap}\` with \`MIDTRANS_PRODUCTION=true\`)`, (config: MidtransMode) => midtransUrls(config).snap),
  },
  /** Refunds owed are paid through the gateway as soon as they are owed; `false` waits for an admin. */
  autoRefund: withDefault('AUTO_REFUND', "`false` leaves refunds owed until an admin pays them (`POST /api/v1/admin/refunds/:paymentId`); `true` pays them through the gateway at once", flag('true', 'false'), 'true'),
  corsOrigins: withDefault('CORS_ORIGINS', 'the browser origins allowed to call the API', origins, 'http://localhost:5173,http://localhost:3000'),
  rateLimit: withDefault('RATE_LIMIT', '`off` disables rate limits (load tests only)', flag('on', 'off'), 'on'),
  requireEmailVerification: withDefault('REQUIRE_EMAIL_VERIFICATION', '`false` lets unverified users book', flag('true', 'false'), 'true'),
  holdTtlSeconds: withDefault('HOLD_TTL_SECONDS', 'how long a pending booking holds its seats', wholeNumber(1, 86_400, 'seconds'), '900'),
  /** Commands waiting per concert before 503 OVERLOADED. */
  commandQueueLimit: withDefault('COMMAND_QUEUE_LIMIT', 'commands waiting per concert before `503 OVERLOADED`', wholeNumber(1, LIMIT, 'commands'), '5000'),
  /** How long a waiting room's booking pass may be used once its holder is admitted. */
  bookingPassTtlSeconds: withDefault('BOOKING_PASS_TTL_SECONDS', "how long a waiting room's booking pass stays valid once its holder is admitted", wholeNumber(10, 3_600, 'seconds'), '300'),
  /** How often each waiting room is looked after: the lottery at the opening, admissions, expired passes, sold out. */
  waitingRoomTickMs: withDefault('WAITING_ROOM_TICK_MS', 'how often the waiting rooms are looked after: the lottery at the opening, admissions, expired passes, sold out', wholeNumber(50, 10_000, 'milliseconds'), '250'),
  /** How often unpaid holds past their time are looked for. */
  expiryCheckIntervalMs: withDefault('EXPIRY_CHECK_INTERVAL_MS', 'how often unpaid holds past their time are looked for and released', wholeNumber(50, 60_000, 'milliseconds'), '1000'),
  /** How long a read with min_position waits for the projection before 503 PROJECTION_LAGGING. */
  readWaitTimeoutMs: withDefault('READ_WAIT_TIMEOUT_MS', 'how long a read with `min_position` waits for the projection before `503 PROJECTION_LAGGING`', wholeNumber(0, 60_000, 'milliseconds'), '5000'),
  /** Base of the links in mails; defaults to http://localhost:PORT. */
  publicUrl: computed('PUBLIC_URL', 'the base of the links in mails', {
    ...url('the URL clients reach this service at (http(s)://host[:port])', '^https?://'),
    parse: (value, variable) => checkedUrl(value, variable).replace(/\/$/, ''),
  }, '`http://localhost:PORT`', (config: { readonly port: number }) => `http://localhost:${config.port}`),
  /** Whom to believe about the client address (X-Forwarded-For); nobody by default. */
  trustProxy: withDefault('TRUST_PROXY', 'whose X-Forwarded-For to believe about the client address: `true` for any proxy, or their addresses', proxies, 'false'),
  /** Sign tickets' QR codes; null: the embedded default makes one in the data dir. */
  ticketSigningKeys: optional('TICKET_SIGNING_KEYS', "sign tickets' QR codes (Ed25519): the first key signs, every key listed still verifies, so a rotation puts the new key first and drops the old one after the concerts it signed; every instance shares them",
    signingSeeds, 'generated'),
  /** Wraps every per-user data key; null: the embedded default makes one in the data dir. */
  personalDataKey: optional('PERSONAL_DATA_KEY', 'wraps every per-user data key; every instance of a deployment shares it', base64Key, 'generated'),
  /** Keys the digests of personal data (email claims, KTP fingerprints); null: the embedded default makes one in the data dir. */
  personalDataDigestKey: optional('PERSONAL_DATA_DIGEST_KEY',
    'keys the digests of email addresses and KTP numbers in the events (nobody without it can confirm a guess); every instance of a deployment shares it; keep it apart from the data',
    base64Key, 'generated'),
  argon2: {
    // OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    memoryKib: withDefault('ARGON2_MEMORY_KIB', 'argon2id cost of a password hash: memory', wholeNumber(8_192, 1_048_576, 'KiB'), '19456'),
    iterations: withDefault('ARGON2_ITERATIONS', 'argon2id cost: iterations', wholeNumber(1, 10), '2'),
    parallelism: withDefault('ARGON2_PARALLELISM', 'argon2id cost: lanes', wholeNumber(1, 16), '1'),
  },
  captcha: together({
    verifyUrl: member('CAPTCHA_VERIFY_URL', 'an hCaptcha/reCAPTCHA/Turnstile siteverify URL; registration then needs `captcha_token`',
      url('the https:// siteverify URL of an hCaptcha/reCAPTCHA-style service', '^https?://')),
    secret: member('CAPTCHA_SECRET', 'the secret key of that CAPTCHA service', text('the secret key of the CAPTCHA service', '^.+$')),
  }),
  smtpUrl: optional('SMTP_URL', 'send mail over SMTP instead of writing it to the outbox file', url('an SMTP URL (smtp://user:password@host:port or smtps://…)', '^smtps?://'), 'the outbox file'),
  mailFrom: withDefault('MAIL_FROM', 'the sender of the mails', text('a sender address like "boxoffice <no-reply@example.com>"', '^.+@.+$'), 'boxoffice <no-reply@localhost>'),
  verifyRedirectUrl: optional('VERIFY_REDIRECT_URL', 'where the email verification link lands (with `status` and `code`)', url('a URL to send people to after they verify their email', '^https?://'), "a page of boxoffice's own"),
  emailTokenTtlSeconds: withDefault('EMAIL_TOKEN_TTL_SECONDS', 'how long a verification link works', wholeNumber(300, 604_800, 'seconds'), '86400'),
  adminEmail: withDefault('ADMIN_EMAIL', "the bootstrap admin's address", text('an email address', '^[^@\\s]+@[^@\\s]+$'), 'admin@localhost'),
  limits: {
    registerPerHourPerIp: withDefault('REGISTER_LIMIT_PER_HOUR', 'registrations per client address per hour', wholeNumber(1, LIMIT, 'registrations per IP per hour'), '20'),
    loginPerMinutePerIp: withDefault('LOGIN_LIMIT_PER_MINUTE', 'sign-in attempts per client address per minute', wholeNumber(1, LIMIT, 'login attempts per IP per minute'), '30'),
    // Per account AND address: a per-account limit from any address let a stranger shut the owner out.
    loginPerMinutePerAccount: withDefault('LOGIN_ACCOUNT_LIMIT_PER_MINUTE', 'sign-in attempts per account from one client address per minute', wholeNumber(1, LIMIT, 'login attempts per account per minute'), '10'),
    lockoutAfterFailures: withDefault('LOGIN_LOCKOUT_AFTER', 'failed sign-ins on one account from one client address before each further attempt from there waits a growing delay (1 s, 2 s, 4 s …; `429 ACCOUNT_LOCKED` with `Retry-After`); other addresses are not affected', wholeNumber(1, 1_000, 'failed logins'), '5'),
    lockoutSeconds: withDefault('LOGIN_LOCKOUT_SECONDS', 'how long failed sign-ins are remembered, from the first one', wholeNumber(1, 86_400, 'seconds'), '900'),
    lockoutMaxDelaySeconds: withDefault('LOGIN_DELAY_MAX_SECONDS', 'the longest wait between two sign-in attempts on one account from one client address', wholeNumber(1, 86_400, 'seconds'), '300'),
    captchaAfterFailures: withDefault('LOGIN_CAPTCHA_AFTER', "failed sign-ins on one account from all addresses together after which its sign-ins need `captcha_token` (without a CAPTCHA service: addresses that already tried it wait an account-wide delay of up to 60 s, while the right password from an address with no attempts still signs in)", wholeNumber(1, 100_000, 'failed logins'), '20'),
    bookingsPerMinutePerAccount: withDefault('BOOKING_LIMIT_PER_MINUTE', 'bookings per account per minute', wholeNumber(1, LIMIT, 'bookings per account per minute'), '30'),
    bookingsPerMinutePerIp: withDefault('BOOKING_IP_LIMIT_PER_MINUTE', 'bookings per client address per minute', wholeNumber(1, LIMIT, 'bookings per IP per minute'), '600'),
  },
  eventstoreUrl: optional('EVENTSTORE_URL', 'keep the events in EventStoreDB', url('an EventStoreDB connection string (esdb://…)', '^(esdb|esdb\\+discover|kurrentdb|kurrentdb\\+discover|kurrent)://'),
    'SQLite in the data dir, or MySQL with `MYSQL_URL`'),
  mysqlUrl: optional('MYSQL_URL', 'keep the read models (and, without `EVENTSTORE_URL`, the events) in MySQL/MariaDB', url('a MySQL/MariaDB URL (mysql://user:password@host:port/database)', '^mysql://'),
    'SQLite in the data dir'),
  mysqlReplicaUrls: computed('MYSQL_REPLICA_URLS', 'read replicas the query API reads from in turn', urlList('a comma-separated list of mysql:// URLs', '^(mysql://[^,]+)(,mysql://[^,]+)*$'),
    'none: reads go to the primary', () => []),
  redisUrl: optional('REDIS_URL', 'a Redis for the seat caches and revoked tokens, shared by every instance', url('a Redis URL (redis://host:port or rediss://…)', '^rediss?://'), 'none: no seat cache; revoked tokens and session marks kept in SQL (the MySQL database, or expiring-keys.sqlite in the data dir)'),
  /** Begins every key boxoffice writes in Redis (several deployments can share one Redis). */
  redisKeyPrefix: withDefault('REDIS_KEY_PREFIX', 'begins every Redis key boxoffice writes (deployments sharing a Redis)', text('letters, digits, _ . : or - (1-64 of them)', '^[A-Za-z0-9_.:-]{1,64}$'), 'boxoffice'),
  natsUrl: optional('NATS_URL', 'announce projection positions over NATS, between processes', text('a NATS URL (nats://host:port), or several separated by commas', '^(nats|tls)://'), 'in process'),
  /** The older system's API on these ports too (legacy-api/): its web front end calls 8080, 8081 and 8082. */
  legacyPorts: optional('LEGACY_PORTS', "extra listeners that speak the older system's API (bare arrays, integer ids, its field names) over the same engine; every role in one process only", ports, 'none'),
} satisfies Settings;

export type Config = ConfigOf<typeof SETTINGS>;
export type Role = (typeof ROLES)[number];

/** The default CORS origins, as CORS_ORIGINS's declaration gives them. */
export const DEFAULT_CORS_ORIGINS: readonly string[] = loadConfig({}).corsOrigins;

/** Whether this process plays `role` (the all-in-one plays every one). */
export function plays(config: Pick<Config, 'role'>, role: Exclude<Role, 'all'>): boolean {
  return config.role === 'all' || config.role === role;
}

/** The secrets every instance of a role must share, so they cannot be made up per process. */
const SHARED_SECRETS: Readonly<Record<Role, readonly ('jwtSecret' | 'personalDataKey' | 'personalDataDigestKey' | 'paymentWebhookSecret' | 'ticketSigningKeys')[]>> = {
  all: [],
  // Signs tokens, seals personal data, digests addresses and KTP numbers, checks the gateway's webhooks and tickets at the door.
  command: ['jwtSecret', 'personalDataKey', 'personalDataDigestKey', 'paymentWebhookSecret', 'ticketSigningKeys'],
  // Checks tokens, opens buyers' details for their owners, finds them by a keyed digest, signs their tickets.
  query: ['jwtSecret', 'personalDataKey', 'personalDataDigestKey', 'ticketSigningKeys'],
  // Reads events into tables: no secret at all.
  projector: [],
};

/**
 * A role run on its own is one of several processes: the secrets it uses must be given, not made
 * up in its data dir (a token signed by one command-api would not pass another's check). The
 * all-in-one makes its own when none is given, and keeps it.
 */
export function checkRoleConfig(config: Config): void {
  if (config.metrics.port === config.port) throw new ConfigError('METRICS_PORT', 'must differ from PORT: /metrics gets a listener of its own');
  checkLegacyPorts(config);
  for (const field of SHARED_SECRETS[config.role]) {
    if (config[field] === null) {
      throw new ConfigError(SETTINGS[field].variable, `must be set when running the ${config.role} role alone: every instance of a deployment shares it`);
    }
  }
  checkPaymentGateway(config);
}

/**
 * The legacy listeners answer the older system's commands and reads alike, so they need the
 * command and the query role in one process; a split deployment runs them where role is `all`.
 */
export function checkLegacyPorts(config: Config): void {
  const legacy = config.legacyPorts;
  if (legacy === null) return;
  if (config.role !== 'all') throw new ConfigError(SETTINGS.legacyPorts.variable, `needs every role in one process (BOXOFFICE_ROLE=all), not the ${config.role} role alone: the older API's routes both change and read`);
  for (const port of [config.port, config.metrics.port]) {
    if (port !== null && legacy.includes(port)) throw new ConfigError(SETTINGS.legacyPorts.variable, `must not name PORT or METRICS_PORT (${port})`);
  }
}

/**
 * `npm start` on a fresh machine: every role in one process, no service configured. The only start
 * the sandbox gateway (which pays nothing, so hands out free tickets) is the default of.
 */
export function isEmbeddedDefault(config: Pick<Config, 'role' | 'eventstoreUrl' | 'mysqlUrl' | 'redisUrl' | 'natsUrl'>): boolean {
  return config.role === 'all' && usesEmbeddedServices(config);
}

/** No service configured: the event store, the read models, the cache and the bus all live in the data dir (or in the process). */
export function usesEmbeddedServices(config: Pick<Config, 'eventstoreUrl' | 'mysqlUrl' | 'redisUrl' | 'natsUrl'>): boolean {
  return config.eventstoreUrl === null && config.mysqlUrl === null && config.redisUrl === null && config.natsUrl === null;
}

/**
 * The gateway an operator's command (the CLI, whatever role it wires) uses: PAYMENT_GATEWAY, or on
 * the embedded data dir the sandbox, as `npm start` on that data dir does; null on real services
 * with none chosen: a command that takes or pays money then refuses, naming PAYMENT_GATEWAY, and
 * the others, which never reach a gateway, work.
 */
export function commandLineGatewayOf(config: Pick<Config, 'paymentGateway' | 'eventstoreUrl' | 'mysqlUrl' | 'redisUrl' | 'natsUrl'>): PaymentGatewayName | null {
  return config.paymentGateway ?? (usesEmbeddedServices(config) ? 'sandbox' : null);
}

/**
 * The gateway this configuration takes payments through: PAYMENT_GATEWAY, or the sandbox in the
 * embedded default; null when none was chosen (a process that takes payments then refuses to
 * start: `checkPaymentGateway`). Worked out from the role actually played (`serve --role` sets it
 * after the variables are read), never from a default fixed before.
 */
export function paymentGatewayOf(config: Pick<Config, 'paymentGateway' | 'role' | 'eventstoreUrl' | 'mysqlUrl' | 'redisUrl' | 'natsUrl'>): PaymentGatewayName | null {
  return config.paymentGateway ?? (isEmbeddedDefault(config) ? 'sandbox' : null);
}

/**
 * A server needs a gateway chosen on purpose: the sandbox pays nothing, so it is the default only
 * of the embedded default, never of a deployment by accident. Any other start refuses without
 * PAYMENT_GATEWAY (API.md), also a role alone that takes no payment itself (query, projector): a
 * deployment names its gateway once, for every process. The operator's commands are not starts
 * (`commandLineGatewayOf`).
 */
export function checkPaymentGateway(config: Config): void {
  if (paymentGatewayOf(config) !== null) return;
  const where = config.role === 'all' ? 'when a service is configured (MYSQL_URL, EVENTSTORE_URL, REDIS_URL or NATS_URL)' : `when running the ${config.role} role alone`;
  throw new ConfigError(SETTINGS.paymentGateway.variable, `must be set ${where}: midtrans takes real payments, sandbox pays nothing (free tickets)`);
}

/** For a process's entry point: the configuration, or the bad variable named on stderr and exit code 2. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

/** Reads and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config = readSettings(SETTINGS, env);
  if (config.paymentGateway === 'midtrans') {
    for (const field of ['serverKey', 'clientKey'] as const) {
      if (config.midtrans[field] === null) throw new ConfigError(SETTINGS.midtrans[field].variable, 'must be set with PAYMENT_GATEWAY=midtrans');
    }
  }
  return config;
}
