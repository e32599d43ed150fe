/**
 * Every refusal a decider can give. The HTTP layer maps each code to a status with a
 * `Record<…, number>` over every code, so adding a code here fails compilation until it is mapped.
 */
export const DOMAIN_ERROR_CODES = [
  // concert inventory
  'CONCERT_NOT_FOUND',
  'CONCERT_ALREADY_SCHEDULED',
  'CONCERT_CANCELLED',
  'CONCERT_NOT_ON_SALE',
  'SALES_NOT_OPEN',
  'SALES_CLOSED',
  'INVALID_SALES_WINDOW',
  'INVALID_CONCERT_DETAILS',
  'NO_TICKET_CLASSES',
  'DUPLICATE_TICKET_CLASS',
  'INVALID_TICKET_CLASS',
  'TOO_MANY_SEATS',
  'UNKNOWN_TICKET_CLASS',
  'UNKNOWN_SEAT',
  'DUPLICATE_SEAT',
  'INVALID_QUANTITY',
  'NO_TICKETS',
  'TOO_MANY_TICKETS',
  'HOLDER_COUNT_MISMATCH',
  'INVALID_HOLD_EXPIRY',
  'BOOKING_ALREADY_EXISTS',
  'ACTIVE_BOOKING_EXISTS',
  'KTP_LIMIT_REACHED',
  'SOLD_OUT',
  'SEAT_UNAVAILABLE',
  'HOLD_NOT_FOUND',
  'HOLD_NOT_EXPIRED',
  'HOLD_EXPIRED',
  'HOLD_RELEASED',
  'HOLD_ALREADY_SOLD',
  'HOLD_FORGOTTEN',
  // tickets and the door
  'TICKET_NOT_FOUND',
  'TICKET_VOID',
  'TICKET_SUPERSEDED',
  'INVALID_TICKET',
  'ALREADY_ADMITTED',
  'TRANSFER_CLOSED',
  'WRONG_CONCERT',
  // booking
  'BOOKING_NOT_FOUND',
  'BOOKING_NOT_CANCELLABLE',
  'BOOKING_NOT_PAYABLE',
  'TOTAL_PRICE_MISMATCH',
  'PAYMENT_IN_PROGRESS',
  'PAYMENT_NOT_FOUND',
  'PAYMENT_ALREADY_EXISTS',
  'PAYMENT_ALREADY_SETTLED',
  'AMOUNT_MISMATCH',
  'REFUND_NOT_APPLICABLE',
  'REFUND_NOT_DUE',
  'REFUND_ALREADY_PAID',
  'REFUND_NOT_IN_PROGRESS',
  // users and uniqueness claims
  'USER_NOT_FOUND',
  'USER_ALREADY_EXISTS',
  'REGISTRATION_ABANDONED',
  'USER_FORGOTTEN',
  'VERIFICATION_TOKEN_STALE',
  'EMAIL_ALREADY_VERIFIED',
  'USERNAME_TAKEN',
  'EMAIL_TAKEN',
  'CLAIM_NOT_OWNED',
  // the waiting room
  'NO_WAITING_ROOM',
  'LOTTERY_NOT_DUE',
  'LOTTERY_NOT_DRAWN',
  'INVALID_PASS',
  // the concert's waiting room is on and the hold brought no booking pass
  'QUEUE_REQUIRED',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

/** A business rule refused a command. Carries a stable code that clients can switch on. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** Makes a `switch` over a union fail to compile when a member has no case. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
