/**
 * Seat ids are derived, not stored: a 50,000-seat concert is scheduled with one small event
 * instead of a multi-megabyte list of ids (EventStoreDB refuses events over 1 MiB).
 *
 * A ticket class id is a UUID; the seat id keeps its first four groups and puts the seat number,
 * as 12 hex digits, in the last group. The result is still UUID-shaped, unique per class, and
 * maps back to (class, number) without a lookup table.
 */
const PREFIX_LENGTH = 24; // "xxxxxxxx-xxxx-xxxx-xxxx-"
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_SEAT_NUMBER = 0xffff_ffff_ffff;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function seatIdPrefix(ticketClassId: string): string {
  return ticketClassId.slice(0, PREFIX_LENGTH);
}

export function seatId(ticketClassId: string, seatNumber: number): string {
  return seatIdPrefix(ticketClassId) + seatNumber.toString(16).padStart(12, '0');
}

/** Splits a seat id into its class prefix and seat number; undefined when it cannot be one. */
export function parseSeatId(id: string): { prefix: string; seatNumber: number } | undefined {
  if (!UUID.test(id)) return undefined;
  const seatNumber = Number.parseInt(id.slice(PREFIX_LENGTH), 16);
  if (seatNumber < 1) return undefined;
  return { prefix: id.slice(0, PREFIX_LENGTH), seatNumber };
}
