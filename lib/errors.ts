/**
 * The application's own refusals, beside the domain's `DomainError`: one vocabulary of stable
 * UPPER_SNAKE codes. Services throw these and never speak HTTP; the one table from code to status
 * (and the headers a code implies) sits beside the error handler in `http/problem.ts`.
 */
import { DomainError, type DomainErrorCode } from '../domain/index.ts';

/**
 * Every refusal the application (not a business rule) can give. Adding a code here fails
 * compilation until `http/problem.ts` gives it a status.
 */
export const APP_ERROR_CODES = [
  // who you are and what you may do
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CSRF_REJECTED',
  'EMAIL_NOT_VERIFIED',
  'CURRENT_PASSWORD_INCORRECT',
  'INVALID_SIGNATURE',
  // what you sent
  'NOT_FOUND',
  'VALIDATION_FAILED',
  'INVALID_ID',
  'INVALID_CURSOR',
  'WEAK_PASSWORD',
  'CAPTCHA_REQUIRED',
  'CAPTCHA_FAILED',
  'CARD_DATA_REFUSED',
  'VERIFICATION_TOKEN_INVALID',
  'VERIFICATION_TOKEN_EXPIRED',
  'IDEMPOTENCY_KEY_REUSED',
  'REBUILD_IN_PROGRESS',
  'NOT_CONFIRMED',
  // the request as the framework saw it
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INVALID_JSON',
  'INVALID_CONTENT_LENGTH',
  'INVALID_CONTENT_TYPE',
  // come back later
  'RATE_LIMITED',
  'ACCOUNT_LOCKED',
  'EMAIL_CHANGE_LIMIT',
  'OVERLOADED',
  'PROJECTION_LAGGING',
  'CAPTCHA_UNAVAILABLE',
  'ACCOUNTS_UNAVAILABLE',
  // the waiting room: its status board cannot be read now
  'QUEUE_UNAVAILABLE',
  // the payment gateway
  'GATEWAY_UNAVAILABLE',
  'GATEWAY_ERROR',
  'UNKNOWN_TRANSACTION',
  // ours
  'INTERNAL_ERROR',
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

/** Facts a refusal may carry beyond its message; the HTTP layer turns them into headers. */
export interface AppErrorExtras {
  /** When a retry may succeed (rate limits, lockouts); codes that always imply one need not say. */
  readonly retryAfterSeconds?: number;
  /** What went wrong underneath, for the log (never sent). */
  readonly cause?: unknown;
}

/** The application refused a request for a reason that is not a business rule. */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly extras: AppErrorExtras = {},
  ) {
    super(message);
  }
}

export const unauthorized = (detail = 'sign in first: a valid access token is required'): AppError => new AppError('UNAUTHORIZED', detail);
export const forbidden = (detail = 'your role does not allow this'): AppError => new AppError('FORBIDDEN', detail);
export const notFound = (detail = 'no such resource'): AppError => new AppError('NOT_FOUND', detail);

/** A code of either vocabulary: the domain's or the application's. */
export type RefusalCode = DomainErrorCode | AppErrorCode;
export type Refusal = DomainError | AppError;

/**
 * Whether `error` is a refusal (a DomainError or an AppError) with one of `codes`, or any refusal
 * when no code is named.
 */
export function isRefusal<C extends RefusalCode>(error: unknown, ...codes: C[]): error is Refusal & { readonly code: C } {
  if (!(error instanceof DomainError || error instanceof AppError)) return false;
  return codes.length === 0 || (codes as readonly RefusalCode[]).includes(error.code);
}
