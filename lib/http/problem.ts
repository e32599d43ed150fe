/**
 * Every error leaves as RFC 9457 problem details (`application/problem+json`):
 * `{type, title, status, detail, code, error}` with a stable UPPER_SNAKE `code`; `error` repeats
 * `detail` for the older system's clients. Routes never hand-roll error JSON: they throw a
 * DomainError or an HttpProblem and this handler answers. A 500 logs its cause with the request
 * id and sends a generic body.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { isDomainError, type DomainErrorCode } from '../../domain/index.ts';

/** An HTTP-level refusal that is not a business rule (auth, validation, limits). */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';

  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

export const unauthorized = (detail = 'sign in first: a valid access token is required'): HttpProblem =>
  new HttpProblem(401, 'UNAUTHORIZED', detail, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail = 'your role does not allow this'): HttpProblem => new HttpProblem(403, 'FORBIDDEN', detail);
export const notFound = (detail = 'no such resource'): HttpProblem => new HttpProblem(404, 'NOT_FOUND', detail);
export const badRequest = (code: string, detail: string): HttpProblem => new HttpProblem(400, code, detail);

/** The status of each business refusal. A new code fails compilation until it is placed here. */
const DOMAIN_STATUS: Record<DomainErrorCode, number> = {
  CONCERT_NOT_FOUND: 404,
  BOOKING_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  HOLD_NOT_FOUND: 404,
  PAYMENT_NOT_FOUND: 404,
  USER_FORGOTTEN: 410,
  CONCERT_ALREADY_SCHEDULED: 409,
  CONCERT_CANCELLED: 409,
  CONCERT_NOT_ON_SALE: 409,
  SALES_NOT_OPEN: 409,
  SALES_CLOSED: 409,
  BOOKING_ALREADY_EXISTS: 409,
  ACTIVE_BOOKING_EXISTS: 409,
  KTP_LIMIT_REACHED: 409,
  SOLD_OUT: 409,
  SEAT_UNAVAILABLE: 409,
  HOLD_NOT_EXPIRED: 409,
  HOLD_EXPIRED: 409,
  HOLD_RELEASED: 409,
  HOLD_ALREADY_SOLD: 409,
  BOOKING_NOT_CANCELLABLE: 409,
  BOOKING_NOT_PAYABLE: 409,
  PAYMENT_IN_PROGRESS: 409,
  PAYMENT_ALREADY_EXISTS: 409,
  PAYMENT_ALREADY_SETTLED: 409,
  REFUND_NOT_APPLICABLE: 409,
  USER_ALREADY_EXISTS: 409,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  CLAIM_NOT_OWNED: 409,
  INVALID_SALES_WINDOW: 400,
  NO_TICKET_CLASSES: 400,
  DUPLICATE_TICKET_CLASS: 400,
  INVALID_TICKET_CLASS: 400,
  TOO_MANY_SEATS: 400,
  UNKNOWN_TICKET_CLASS: 400,
  UNKNOWN_SEAT: 400,
  DUPLICATE_SEAT: 400,
  INVALID_QUANTITY: 400,
  NO_TICKETS: 400,
  TOO_MANY_TICKETS: 400,
  HOLDER_COUNT_MISMATCH: 400,
  INVALID_HOLD_EXPIRY: 400,
  TOTAL_PRICE_MISMATCH: 400,
  AMOUNT_MISMATCH: 400,
  VERIFICATION_TOKEN_STALE: 400,
  EMAIL_ALREADY_VERIFIED: 400,
};

export function domainStatus(code: DomainErrorCode): number {
  return DOMAIN_STATUS[code];
}

/** fastify's own client errors, by their error code. */
const FRAMEWORK_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 400, code: 'PAYLOAD_TOO_LARGE', detail: 'the request body is larger than 64 KiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'send JSON (Content-Type: application/json)' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON', detail: 'the JSON body is empty' },
  // Also what fastify says of a body with a __proto__ or constructor.prototype key.
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON', detail: 'the body is not valid JSON, or has a __proto__ or constructor key' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: 'INVALID_CONTENT_TYPE' },
};

export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string, headers: Readonly<Record<string, string>> = {}): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .type('application/problem+json')
    .send({
      type: `urn:boxoffice:problem:${code.toLowerCase().replace(/_/g, '-')}`,
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      code,
      error: detail,
    });
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isDomainError(error)) return sendProblem(reply, domainStatus(error.code), error.code, error.message);
  if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.code, error.message, error.headers);
  if (error.validation) {
    return sendProblem(reply, 400, 'VALIDATION_FAILED', error.message);
  }
  const known = FRAMEWORK_CODES[error.code];
  if (known) return sendProblem(reply, known.status, known.code, known.detail ?? error.message);
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return sendProblem(reply, status, error.code ? error.code.replace(/^FST_ERR_/, '') : 'BAD_REQUEST', error.message);
  }
  // Log the cause (with the request id pino adds); send nothing of it.
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, 500, 'INTERNAL_ERROR', 'something went wrong on our side; it has been logged');
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 404, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`);
}
