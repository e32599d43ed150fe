import type { FastifyServerOptions } from 'fastify';
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

export function loggerOptions(config: Pick<Config, 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}
