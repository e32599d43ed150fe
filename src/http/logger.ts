import type { LoggerOptions } from 'pino';
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

/** Query parameters that carry secrets (the verification link's token). */
const SECRET_QUERY = /([?&](?:token|access_token|captcha_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
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
