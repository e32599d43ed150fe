import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';

/**
 * Logs never carry credentials or personal data: these paths are censored wherever they appear
 * in a logged object (request headers, bodies logged on error, error details).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.token',
  '*.access_token',
  '*.email',
  '*.full_name',
  '*.phone_number',
  '*.ktp_number',
  '*.buyer_info',
  '*.ticket_holder_info',
];

/** Query parameters that carry secrets (the verification link's token) or personal data (the back office's email filter). */
const SECRET_QUERY = /([?&](?:token|access_token|captcha_token|email)=)[^&#]*/gi;

/** A waiting room's place token is in the path, and is the capability to read the place (and its booking pass). */
const SECRET_PATH = /(\/api\/v1\/queue\/)[^/?#]+/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]').replace(SECRET_PATH, '$1[redacted]');
}

interface LoggedRequest {
  method: string;
  url: string;
  id: string;
  ip: string;
}

export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // What a request log line says of the request: never its headers, body or secret query.
      req: (request: LoggedRequest) => ({ method: request.method, url: redactUrl(request.url), request_id: request.id, ip: request.ip }),
    },
  };
}

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;
type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, which becomes a pino child only when something is logged at an enabled
 * level: a child costs a few microseconds (its bindings go through the redaction), which the
 * availability read of a sale would pay on every request for nothing at the warn level. A class,
 * so a request allocates one small object and no closures.
 */
class LazyChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly root: Logger,
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  #log(level: LogLevel, args: unknown[]): void {
    if (!this.root.isLevelEnabled(level)) return;
    const target = this.#real();
    Reflect.apply(target[level], target, args);
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#log('error', args);
  }

  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }

  info(...args: unknown[]): void {
    this.#log('info', args);
  }

  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** A process's logger, and the factory of its HTTP server's per-request children. */
export interface ServerLogger {
  readonly root: Logger;
  readonly childLoggerFactory: ChildLoggerFactory;
}

/** The process's logger (stdout, or `stream`: tests capture it), and its per-request children (lazy, above). */
export function serverLogger(config: Pick<Config, 'logLevel'>, stream?: DestinationStream): ServerLogger {
  const root = stream === undefined ? pino(loggerOptions(config)) : pino(loggerOptions(config), stream);
  const childLoggerFactory: ChildLoggerFactory = (logger, bindings, options) =>
    // A route with a log level or serializers of its own gets a real child at once.
    (options.level !== undefined || options.serializers !== undefined ? logger.child(bindings, options) : new LazyChildLogger(root, logger, bindings, options));
  return { root, childLoggerFactory };
}
