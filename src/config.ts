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
  BOXOFFICE_ADMIN_PASSWORD: text('a password of at least 10 characters', '^.{10,}$'),
  JWT_SECRET: text('a secret of at least 32 characters', '^.{32,}$'),
  JWT_TTL_SECONDS: text('a whole number of seconds (60-86400)', '^[0-9]+$'),
  PAYMENT_WEBHOOK_SECRET: text('a secret of at least 16 characters', '^.{16,}$'),
  CORS_ORIGINS: text('a comma-separated list of origins like https://tickets.example.com', '^.*$'),
  RATE_LIMIT: text('on or off', '^(on|off)$'),
  REQUIRE_EMAIL_VERIFICATION: text('true or false', '^(true|false)$'),
  HOLD_TTL_SECONDS: text('a whole number of seconds (60-86400)', '^[0-9]+$'),
  READ_WAIT_TIMEOUT_MS: text('a whole number of milliseconds (0-60000)', '^[0-9]+$'),
  EVENTSTORE_URL: text('an EventStoreDB connection string (esdb://…)', '^(esdb|esdb\\+discover|kurrentdb|kurrentdb\\+discover|kurrent)://'),
  MYSQL_URL: text('a MySQL/MariaDB URL (mysql://user:password@host:port/database)', '^mysql://'),
  MYSQL_REPLICA_URLS: text('a comma-separated list of mysql:// URLs', '^(mysql://[^,]+)(,mysql://[^,]+)*$'),
  REDIS_URL: text('a Redis URL (redis://host:port or rediss://…)', '^rediss?://'),
  NATS_URL: text('a NATS URL (nats://host:port), or several separated by commas', '^(nats|tls)://'),
});
type Env = Static<typeof EnvSchema>;

export const DEFAULT_CORS_ORIGINS = ['http://localhost:5173', 'http://localhost:3000'];

export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
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
  /** How long a read with min_position waits for the projection before 503 PROJECTION_LAGGING. */
  readonly readWaitTimeoutMs: number;
  readonly eventstoreUrl: string | null;
  readonly mysqlUrl: string | null;
  readonly mysqlReplicaUrls: readonly string[];
  readonly redisUrl: string | null;
  readonly natsUrl: string | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`);
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
  return {
    nodeEnv,
    logLevel: raw.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    host: raw.HOST ?? '0.0.0.0',
    port: integerIn(raw, 'PORT', 3000, 1, 65_535),
    dataDir: raw.BOXOFFICE_DATA_DIR ?? './data',
    adminPassword: raw.BOXOFFICE_ADMIN_PASSWORD ?? null,
    jwtSecret: raw.JWT_SECRET ?? null,
    jwtTtlSeconds: integerIn(raw, 'JWT_TTL_SECONDS', 900, 60, 86_400),
    paymentWebhookSecret: raw.PAYMENT_WEBHOOK_SECRET ?? null,
    corsOrigins: raw.CORS_ORIGINS === undefined ? DEFAULT_CORS_ORIGINS : origins(raw.CORS_ORIGINS),
    rateLimit: raw.RATE_LIMIT !== 'off',
    requireEmailVerification: raw.REQUIRE_EMAIL_VERIFICATION !== 'false',
    holdTtlSeconds: integerIn(raw, 'HOLD_TTL_SECONDS', 900, 60, 86_400),
    readWaitTimeoutMs: integerIn(raw, 'READ_WAIT_TIMEOUT_MS', 5_000, 0, 60_000),
    eventstoreUrl: url(raw, 'EVENTSTORE_URL'),
    mysqlUrl: url(raw, 'MYSQL_URL'),
    mysqlReplicaUrls: raw.MYSQL_REPLICA_URLS === undefined ? [] : raw.MYSQL_REPLICA_URLS.split(',').map((u) => checkedUrl('MYSQL_REPLICA_URLS', u)),
    redisUrl: url(raw, 'REDIS_URL'),
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
