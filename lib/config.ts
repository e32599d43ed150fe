/**
 * The one place that reads process.env. Every variable is validated at boot; a bad one stops the
 * process with a message that names it. Composition roots call `loadConfig()` once and pass the
 * result down.
 */
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

const text = (description: string, pattern?: string) =>
  Type.Optional(Type.String(pattern === undefined ? { description } : { description, pattern }));

const EnvSchema = Type.Object({
  NODE_ENV: text('one of development, production, test', '^(development|production|test)$'),
  LOG_LEVEL: text('one of fatal, error, warn, info, debug, trace, silent', '^(fatal|error|warn|info|debug|trace|silent)$'),
  HOST: text('a host name or address to listen on', '^\\S+$'),
  PORT: text('a TCP port number (1-65535)', '^[0-9]{1,5}$'),
  BOXOFFICE_DATA_DIR: text('a directory path', '^.+$'),
  BOXOFFICE_ROLE: text('one of all, command, query, projector', '^(all|command|query|projector)$'),
  BOXOFFICE_ADMIN_PASSWORD: text('a password of at least 10 characters', '^.{10,}$'),
  JWT_SECRET: text('a secret of at least 32 characters', '^.{32,}$'),
  JWT_TTL_SECONDS: text('a whole number of seconds (60-86400)', '^[0-9]+$'),
  PAYMENT_WEBHOOK_SECRET: text('a secret of at least 16 characters', '^.{16,}$'),
  CORS_ORIGINS: text('a comma-separated list of origins like https://tickets.example.com', '^.*$'),
  RATE_LIMIT: text('on or off', '^(on|off)$'),
  REQUIRE_EMAIL_VERIFICATION: text('true or false', '^(true|false)$'),
  HOLD_TTL_SECONDS: text('a whole number of seconds (1-86400)', '^[0-9]+$'),
  COMMAND_QUEUE_LIMIT: text('a whole number of commands (1-1000000)', '^[0-9]+$'),
  BOOKING_LIMIT_PER_MINUTE: text('a whole number of bookings per account per minute', '^[0-9]+$'),
  BOOKING_IP_LIMIT_PER_MINUTE: text('a whole number of bookings per IP per minute', '^[0-9]+$'),
  EXPIRY_CHECK_INTERVAL_MS: text('a whole number of milliseconds (50-60000)', '^[0-9]+$'),
  READ_WAIT_TIMEOUT_MS: text('a whole number of milliseconds (0-60000)', '^[0-9]+$'),
  PUBLIC_URL: text('the URL clients reach this service at (http(s)://host[:port])', '^https?://'),
  TRUST_PROXY: text('true, false, or a comma-separated list of proxy addresses', '^.+$'),
  PERSONAL_DATA_KEY: text('32 random bytes, base64-encoded', '^[A-Za-z0-9+/]{43}=$'),
  ARGON2_MEMORY_KIB: text('a whole number of KiB (8192-1048576)', '^[0-9]+$'),
  ARGON2_ITERATIONS: text('a whole number (1-10)', '^[0-9]+$'),
  ARGON2_PARALLELISM: text('a whole number (1-16)', '^[0-9]+$'),
  CAPTCHA_VERIFY_URL: text('the https:// siteverify URL of an hCaptcha/reCAPTCHA-style service', '^https?://'),
  CAPTCHA_SECRET: text('the secret key of the CAPTCHA service', '^.+$'),
  SMTP_URL: text('an SMTP URL (smtp://user:password@host:port or smtps://…)', '^smtps?://'),
  MAIL_FROM: text('a sender address like "boxoffice <no-reply@example.com>"', '^.+@.+$'),
  VERIFY_REDIRECT_URL: text('a URL to send people to after they verify their email', '^https?://'),
  EMAIL_TOKEN_TTL_SECONDS: text('a whole number of seconds (300-604800)', '^[0-9]+$'),
  ADMIN_EMAIL: text('an email address', '^[^@\\s]+@[^@\\s]+$'),
  REGISTER_LIMIT_PER_HOUR: text('a whole number of registrations per IP per hour', '^[0-9]+$'),
  LOGIN_LIMIT_PER_MINUTE: text('a whole number of login attempts per IP per minute', '^[0-9]+$'),
  LOGIN_ACCOUNT_LIMIT_PER_MINUTE: text('a whole number of login attempts per account per minute', '^[0-9]+$'),
  LOGIN_LOCKOUT_AFTER: text('a whole number of failed logins', '^[0-9]+$'),
  LOGIN_LOCKOUT_SECONDS: text('a whole number of seconds', '^[0-9]+$'),
  EVENTSTORE_URL: text('an EventStoreDB connection string (esdb://…)', '^(esdb|esdb\\+discover|kurrentdb|kurrentdb\\+discover|kurrent)://'),
  MYSQL_URL: text('a MySQL/MariaDB URL (mysql://user:password@host:port/database)', '^mysql://'),
  MYSQL_REPLICA_URLS: text('a comma-separated list of mysql:// URLs', '^(mysql://[^,]+)(,mysql://[^,]+)*$'),
  REDIS_URL: text('a Redis URL (redis://host:port or rediss://…)', '^rediss?://'),
  REDIS_KEY_PREFIX: text('letters, digits, _ . : or - (1-64 of them)', '^[A-Za-z0-9_.:-]{1,64}$'),
  NATS_URL: text('a NATS URL (nats://host:port), or several separated by commas', '^(nats|tls)://'),
});
type Env = Static<typeof EnvSchema>;

export const DEFAULT_CORS_ORIGINS = ['http://localhost:5173', 'http://localhost:3000'];

export type Role = 'all' | 'command' | 'query' | 'projector';

export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** What this process does: every role (the embedded default), or one of them. */
  readonly role: Role;
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  /** Embedded default: SQLite files, the JWT key and the mail outbox live here. */
  readonly dataDir: string;
  readonly adminPassword: string | null;
  /** null: the embedded default makes one and keeps it in the data dir. */
  readonly jwtSecret: string | null;
  readonly jwtTtlSeconds: number;
  readonly paymentWebhookSecret: string | null;
  readonly corsOrigins: readonly string[];
  readonly rateLimit: boolean;
  readonly requireEmailVerification: boolean;
  readonly holdTtlSeconds: number;
  /** Commands waiting per concert before 503 OVERLOADED. */
  readonly commandQueueLimit: number;
  /** How often unpaid holds past their time are looked for. */
  readonly expiryCheckIntervalMs: number;
  /** How long a read with min_position waits for the projection before 503 PROJECTION_LAGGING. */
  readonly readWaitTimeoutMs: number;
  /** Base of the links in mails; defaults to http://localhost:PORT. */
  readonly publicUrl: string;
  /** Whom to believe about the client address (X-Forwarded-For); nobody by default. */
  readonly trustProxy: boolean | string[];
  /** Wraps every per-user data key; null: the embedded default makes one in the data dir. */
  readonly personalDataKey: Buffer | null;
  readonly argon2: { readonly memoryKib: number; readonly iterations: number; readonly parallelism: number };
  readonly captcha: { readonly verifyUrl: string; readonly secret: string } | null;
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  readonly verifyRedirectUrl: string | null;
  readonly emailTokenTtlSeconds: number;
  readonly adminEmail: string;
  readonly limits: {
    readonly registerPerHourPerIp: number;
    readonly loginPerMinutePerIp: number;
    readonly loginPerMinutePerAccount: number;
    readonly lockoutAfterFailures: number;
    readonly lockoutSeconds: number;
    readonly bookingsPerMinutePerAccount: number;
    readonly bookingsPerMinutePerIp: number;
  };
  readonly eventstoreUrl: string | null;
  readonly mysqlUrl: string | null;
  readonly mysqlReplicaUrls: readonly string[];
  readonly redisUrl: string | null;
  /** Begins every key boxoffice writes in Redis (several deployments can share one Redis). */
  readonly redisKeyPrefix: string;
  readonly natsUrl: string | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

/** Whether this process plays `role` (the all-in-one plays every one). */
export function plays(config: Pick<Config, 'role'>, role: Exclude<Role, 'all'>): boolean {
  return config.role === 'all' || config.role === role;
}

/** For a process's entry point: the configuration, or the bad variable named on stderr and exit code 2. */
/** The secrets every instance of a role must share, so they cannot be made up per process. */
const SHARED_SECRETS: Readonly<Record<Role, readonly (keyof Config & ('jwtSecret' | 'personalDataKey' | 'paymentWebhookSecret'))[]>> = {
  all: [],
  // Signs tokens, seals personal data, checks the gateway's webhooks.
  command: ['jwtSecret', 'personalDataKey', 'paymentWebhookSecret'],
  // Checks tokens, opens buyers' details for their owners.
  query: ['jwtSecret', 'personalDataKey'],
  // Reads events into tables: no secret at all.
  projector: [],
};

const VARIABLE_OF = { jwtSecret: 'JWT_SECRET', personalDataKey: 'PERSONAL_DATA_KEY', paymentWebhookSecret: 'PAYMENT_WEBHOOK_SECRET' } as const;

/**
 * A role run on its own is one of several processes: the secrets it uses must be given, not made
 * up in its data dir (a token signed by one command-api would not pass another's check). The
 * all-in-one makes its own when none is given, and keeps it.
 */
export function checkRoleConfig(config: Config): void {
  for (const secret of SHARED_SECRETS[config.role]) {
    if (config[secret] === null) {
      throw new ConfigError(VARIABLE_OF[secret], `must be set when running the ${config.role} role alone: every instance of a deployment shares it`);
    }
  }
}

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
  const raw = pickKnown(env);
  for (const error of Value.Errors(EnvSchema, raw)) {
    const variable = error.instancePath.replace(/^\//, '');
    const property = EnvSchema.properties[variable as keyof Env] as { description?: string } | undefined;
    throw new ConfigError(variable, `must be ${property?.description ?? 'valid'} (got ${JSON.stringify(raw[variable as keyof Env])})`);
  }
  const nodeEnv = (raw.NODE_ENV ?? 'production') as Config['nodeEnv'];
  const port = integerIn(raw, 'PORT', 3000, 1, 65_535);
  if ((raw.CAPTCHA_VERIFY_URL === undefined) !== (raw.CAPTCHA_SECRET === undefined)) {
    throw new ConfigError(raw.CAPTCHA_VERIFY_URL === undefined ? 'CAPTCHA_VERIFY_URL' : 'CAPTCHA_SECRET', 'must be set together with its partner (CAPTCHA_VERIFY_URL and CAPTCHA_SECRET)');
  }
  return {
    nodeEnv,
    role: (raw.BOXOFFICE_ROLE ?? 'all') as Role,
    logLevel: raw.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    host: raw.HOST ?? '0.0.0.0',
    port,
    dataDir: raw.BOXOFFICE_DATA_DIR ?? './data',
    adminPassword: raw.BOXOFFICE_ADMIN_PASSWORD ?? null,
    jwtSecret: raw.JWT_SECRET ?? null,
    jwtTtlSeconds: integerIn(raw, 'JWT_TTL_SECONDS', 900, 60, 86_400),
    paymentWebhookSecret: raw.PAYMENT_WEBHOOK_SECRET ?? null,
    corsOrigins: raw.CORS_ORIGINS === undefined ? DEFAULT_CORS_ORIGINS : origins(raw.CORS_ORIGINS),
    rateLimit: raw.RATE_LIMIT !== 'off',
    requireEmailVerification: raw.REQUIRE_EMAIL_VERIFICATION !== 'false',
    holdTtlSeconds: integerIn(raw, 'HOLD_TTL_SECONDS', 900, 1, 86_400),
    commandQueueLimit: integerIn(raw, 'COMMAND_QUEUE_LIMIT', 5_000, 1, 1_000_000),
    expiryCheckIntervalMs: integerIn(raw, 'EXPIRY_CHECK_INTERVAL_MS', 1_000, 50, 60_000),
    readWaitTimeoutMs: integerIn(raw, 'READ_WAIT_TIMEOUT_MS', 5_000, 0, 60_000),
    publicUrl: (url(raw, 'PUBLIC_URL') ?? `http://localhost:${port}`).replace(/\/$/, ''),
    trustProxy: raw.TRUST_PROXY === undefined || raw.TRUST_PROXY === 'false' ? false
      : raw.TRUST_PROXY === 'true' ? true : raw.TRUST_PROXY.split(',').map((address) => address.trim()),
    personalDataKey: raw.PERSONAL_DATA_KEY === undefined ? null : Buffer.from(raw.PERSONAL_DATA_KEY, 'base64'),
    argon2: {
      // OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
      memoryKib: integerIn(raw, 'ARGON2_MEMORY_KIB', 19_456, 8_192, 1_048_576),
      iterations: integerIn(raw, 'ARGON2_ITERATIONS', 2, 1, 10),
      parallelism: integerIn(raw, 'ARGON2_PARALLELISM', 1, 1, 16),
    },
    captcha: raw.CAPTCHA_VERIFY_URL !== undefined && raw.CAPTCHA_SECRET !== undefined
      ? { verifyUrl: checkedUrl('CAPTCHA_VERIFY_URL', raw.CAPTCHA_VERIFY_URL), secret: raw.CAPTCHA_SECRET }
      : null,
    smtpUrl: url(raw, 'SMTP_URL'),
    mailFrom: raw.MAIL_FROM ?? 'boxoffice <no-reply@localhost>',
    verifyRedirectUrl: url(raw, 'VERIFY_REDIRECT_URL'),
    emailTokenTtlSeconds: integerIn(raw, 'EMAIL_TOKEN_TTL_SECONDS', 86_400, 300, 604_800),
    adminEmail: raw.ADMIN_EMAIL ?? 'admin@localhost',
    limits: {
      registerPerHourPerIp: integerIn(raw, 'REGISTER_LIMIT_PER_HOUR', 20, 1, 1_000_000),
      loginPerMinutePerIp: integerIn(raw, 'LOGIN_LIMIT_PER_MINUTE', 30, 1, 1_000_000),
      loginPerMinutePerAccount: integerIn(raw, 'LOGIN_ACCOUNT_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
      lockoutAfterFailures: integerIn(raw, 'LOGIN_LOCKOUT_AFTER', 5, 1, 1_000),
      lockoutSeconds: integerIn(raw, 'LOGIN_LOCKOUT_SECONDS', 900, 1, 86_400),
      bookingsPerMinutePerAccount: integerIn(raw, 'BOOKING_LIMIT_PER_MINUTE', 30, 1, 1_000_000),
      bookingsPerMinutePerIp: integerIn(raw, 'BOOKING_IP_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    },
    eventstoreUrl: url(raw, 'EVENTSTORE_URL'),
    mysqlUrl: url(raw, 'MYSQL_URL'),
    mysqlReplicaUrls: raw.MYSQL_REPLICA_URLS === undefined ? [] : raw.MYSQL_REPLICA_URLS.split(',').map((u) => checkedUrl('MYSQL_REPLICA_URLS', u)),
    redisUrl: url(raw, 'REDIS_URL'),
    redisKeyPrefix: raw.REDIS_KEY_PREFIX ?? 'boxoffice',
    natsUrl: raw.NATS_URL ?? null,
  };
}

/** Only our variables, and an empty value counts as unset (as `FOO= npm start` means). */
function pickKnown(env: NodeJS.ProcessEnv): Env {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  return raw;
}

function integerIn(raw: Env, variable: keyof Env, fallback: number, min: number, max: number): number {
  const value = raw[variable];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new ConfigError(variable, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return number;
}

function url(raw: Env, variable: keyof Env): string | null {
  const value = raw[variable];
  return value === undefined ? null : checkedUrl(variable, value);
}

function checkedUrl(variable: string, value: string): string {
  try {
    new URL(value);
  } catch {
    throw new ConfigError(variable, `must be a URL (got ${JSON.stringify(value)})`);
  }
  return value;
}

function origins(list: string): string[] {
  const result = list.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of result) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `must list origins like https://tickets.example.com (got ${JSON.stringify(origin)})`);
    }
    if (parsed.origin !== origin) {
      throw new ConfigError('CORS_ORIGINS', `must list bare origins without a path (got ${JSON.stringify(origin)})`);
    }
  }
  return result;
}
