/**
 * Every error leaves as RFC 9457 problem details (`application/problem+json`):
 * `{type, title, status, detail, code, error}` with a stable UPPER_SNAKE `code`; `error` repeats
 * `detail` for the older system's clients. Routes and services never hand-roll error JSON nor
 * name a status: they throw a DomainError or an AppError (../errors.ts) and this handler answers,
 * taking the status from one table and the headers from the code and its extras. A 500 logs its
 * cause with the request id and sends a generic body.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DomainError } from '../../domain/index.ts';
import { AppError, isRefusal, type Refusal, type RefusalCode } from '../errors.ts';

/** The status of every code, the domain's and the application's. A new code fails compilation until it is placed here. */
const STATUS: Record<RefusalCode, number> = {
  // the domain's business refusals
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
  HOLD_FORGOTTEN: 409,
  TICKET_NOT_FOUND: 404,
  TICKET_VOID: 409,
  TICKET_SUPERSEDED: 409,
  ALREADY_ADMITTED: 409,
  TRANSFER_CLOSED: 409,
  WRONG_CONCERT: 409,
  INVALID_TICKET: 400,
  BOOKING_NOT_CANCELLABLE: 409,
  BOOKING_NOT_PAYABLE: 409,
  PAYMENT_IN_PROGRESS: 409,
  PAYMENT_ALREADY_EXISTS: 409,
  PAYMENT_ALREADY_SETTLED: 409,
  REFUND_NOT_APPLICABLE: 409,
  REFUND_NOT_DUE: 409,
  REFUND_ALREADY_PAID: 409,
  REFUND_NOT_IN_PROGRESS: 409,
  USER_ALREADY_EXISTS: 409,
  REGISTRATION_ABANDONED: 409,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  CLAIM_NOT_OWNED: 409,
  INVALID_SALES_WINDOW: 400,
  INVALID_CONCERT_DETAILS: 400,
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
  NO_WAITING_ROOM: 404,
  LOTTERY_NOT_DUE: 409,
  LOTTERY_NOT_DRAWN: 409,
  INVALID_PASS: 403,
  QUEUE_REQUIRED: 409,
  // the application's own
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CSRF_REJECTED: 403,
  EMAIL_NOT_VERIFIED: 403,
  CURRENT_PASSWORD_INCORRECT: 403,
  INVALID_SIGNATURE: 401,
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  INVALID_ID: 400,
  INVALID_CURSOR: 400,
  WEAK_PASSWORD: 400,
  CAPTCHA_REQUIRED: 400,
  CAPTCHA_FAILED: 400,
  CARD_DATA_REFUSED: 400,
  VERIFICATION_TOKEN_INVALID: 400,
  VERIFICATION_TOKEN_EXPIRED: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  REBUILD_IN_PROGRESS: 409,
  NOT_CONFIRMED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_JSON: 400,
  INVALID_CONTENT_LENGTH: 400,
  INVALID_CONTENT_TYPE: 400,
  RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 429,
  EMAIL_CHANGE_LIMIT: 429,
  OVERLOADED: 503,
  PROJECTION_LAGGING: 503,
  CAPTCHA_UNAVAILABLE: 503,
  ACCOUNTS_UNAVAILABLE: 503,
  QUEUE_UNAVAILABLE: 503,
  // the gateway did not answer (or timed out); it answered something we cannot use; it knows no such transaction
  GATEWAY_UNAVAILABLE: 503,
  GATEWAY_ERROR: 502,
  UNKNOWN_TRANSACTION: 404,
  INTERNAL_ERROR: 500,
};

export function statusOf(code: RefusalCode): number {
  return STATUS[code];
}

/** How long to wait before retrying, for codes that always imply a retry; an error's own `retryAfterSeconds` wins. */
const RETRY_AFTER_SECONDS: Partial<Record<RefusalCode, number>> = {
  OVERLOADED: 1,
  PROJECTION_LAGGING: 1,
  CAPTCHA_UNAVAILABLE: 5,
  QUEUE_UNAVAILABLE: 2,
  GATEWAY_UNAVAILABLE: 5,
};

/** The headers a refusal implies: the challenge of a 401 for a missing or bad token, and when to retry. */
export function headersOf(error: Refusal): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
  const retryAfter = (error instanceof AppError ? error.extras.retryAfterSeconds : undefined) ?? RETRY_AFTER_SECONDS[error.code];
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return headers;
}

/** fastify's own client errors, by their error code. */
const FRAMEWORK_CODES: Record<string, { code: RefusalCode; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', detail: 'the request body is larger than 64 KiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'send JSON (Content-Type: application/json)' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', detail: 'the JSON body is empty' },
  // Also what fastify says of a body with a __proto__ or constructor.prototype key.
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', detail: 'the body is not valid JSON, or has a __proto__ or constructor key' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'INVALID_CONTENT_TYPE' },
};

function sendProblem(
  reply: FastifyReply, status: number, code: string, detail: string, headers: Readonly<Record<string, string>> = {}, extensions: Readonly<Record<string, unknown>> = {},
): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .type('application/problem+json')
    .send({
      ...extensions,
      type: `urn:boxoffice:problem:${code.toLowerCase().replace(/_/g, '-')}`,
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      code,
      error: detail,
    });
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AppError && error.extras.cause !== undefined) request.log.warn({ err: error.extras.cause, code: error.code }, 'refused: a dependency failed');
  // A business refusal's details (what the caller may know: when a ticket got in, at which gate) are extension members.
  if (isRefusal(error)) return sendProblem(reply, statusOf(error.code), error.code, error.message, headersOf(error), error instanceof DomainError ? error.details : {});
  if (error.validation) {
    return sendProblem(reply, statusOf('VALIDATION_FAILED'), 'VALIDATION_FAILED', error.message);
  }
  const known = FRAMEWORK_CODES[error.code];
  if (known) return sendProblem(reply, statusOf(known.code), known.code, known.detail ?? error.message);
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return sendProblem(reply, status, error.code ? error.code.replace(/^FST_ERR_/, '') : 'BAD_REQUEST', error.message);
  }
  // Log the cause (with the request id pino adds); send nothing of it.
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, statusOf('INTERNAL_ERROR'), 'INTERNAL_ERROR', 'something went wrong on our side; it has been logged');
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, statusOf('NOT_FOUND'), 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`);
}
