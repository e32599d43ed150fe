/**
 * The one parser of times. An instant is an RFC 3339 date-time that names a real moment:
 *
 *   YYYY-MM-DDTHH:MM:SS[.fraction]Z   or   …±HH:MM
 *
 * with an upper-case `T` and `Z`, seconds 00–59 (no leap second: Date, MySQL and every read model
 * count 86,400 seconds a day), a day that its month has, an offset of at most 14 hours (no zone has
 * more), a fraction of 1–9 digits (kept to the millisecond), and a moment from 1970-01-01T00:00:00Z
 * to 9999-12-31T23:59:59.999Z (so its canonical form is always the 24 characters the read models
 * store and compare as text). Everything else — also what Date.parse takes (`Dec 31 2027`, a date
 * alone, no zone, `24:00`, lower-case `t`, an RFC 9557 `[zone]` suffix) — is not an instant.
 *
 * The canonical form, the one the events and read models hold, is `Date.toISOString()`'s:
 * `2027-06-01T13:00:00.000Z`. The `Instant` schema checks with this parser, so every request,
 * query string and event schema that carries a time refuses what it refuses.
 */
import Type from 'typebox';
import { Format, IsDateTime } from 'typebox/format';

const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** 1970-01-01T00:00:00.000Z: the first instant. */
export const FIRST_INSTANT_MS = 0;
/** 9999-12-31T23:59:59.999Z: the last instant with a four-digit year. */
export const LAST_INSTANT_MS = 253_402_300_799_999;

const MAX_OFFSET_MINUTES = 14 * 60;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The fields of a date-time matched by RFC_3339 or RECORDED, as numbers; the offset in signed minutes; the fraction cut to milliseconds. */
function fieldsOf(match: RegExpExecArray) {
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om] = match;
  return {
    year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s),
    millis: fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
    offsetHour: Number(oh ?? 0),
    offsetMinute: Number(om ?? 0),
    offsetMinutes: sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)),
  };
}

/** The value of the ASCII digits of `text` from `from` to `to` (exclusive), or NaN when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let value = 0;
  for (let at = from; at < to; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Epoch milliseconds of `text` when it is an instant in the canonical form (24 characters,
 * `2027-06-01T13:00:00.000Z`), undefined for anything else. What every event and read model holds,
 * so decoding a stored event's times takes this path, without the regular expression.
 */
function canonicalMs(text: string): number | undefined {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84
    || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  const millis = digitsAt(text, 20, 23);
  // NaN fails every comparison: a non-digit anywhere is not canonical.
  if (!(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59 && millis >= 0)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

/** Epoch milliseconds of the instant `text` names, or undefined when it names none (see above). */
export function parseInstant(text: string): number | undefined {
  const canonical = canonicalMs(text);
  if (canonical !== undefined) return canonical;
  const match = RFC_3339.exec(text);
  if (match === null) return undefined;
  const { year, month, day, hour, minute, second, millis, offsetMinute, offsetMinutes } = fieldsOf(match);
  // Below 1969 no offset brings it to 1970 (and Date.UTC would read 0070 as 1970).
  if (year < 1969 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetMinute > 59 || Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS ? ms : undefined;
}

/** True when `value` is a string that names an instant. */
export function isInstant(value: unknown): value is string {
  return typeof value === 'string' && parseInstant(value) !== undefined;
}

/** The canonical form (`2027-06-01T13:00:00.000Z`) of the instant `text` names, or undefined. */
export function canonicalInstant(text: string): string | undefined {
  const ms = parseInstant(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** The canonical form of a time already checked to be an instant (by its schema); throws if it is not. */
export function toCanonicalInstant(text: string): string {
  const canonical = canonicalInstant(text);
  if (canonical === undefined) throw new RangeError(`not an instant: ${JSON.stringify(text)}`);
  return canonical;
}

/**
 * TypeBox's own `date-time` check, answering a canonical instant without its regular expressions
 * and string splits: the same answer for every value (a canonical instant is an RFC 3339
 * date-time), at a fraction of the cost. Every stored event's times pass through it when read.
 * Registered before any schema is compiled (a compiled check takes the format's function then).
 */
Format.Set('date-time', (value: string) => canonicalMs(value) !== undefined || IsDateTime(value));

/**
 * An instant in JSON: `format: date-time` for the OpenAPI document, checked by parseInstant.
 * Every schema that carries a time uses it — request bodies, query strings and events.
 */
export const Instant = Type.Refine(
  Type.String({
    format: 'date-time',
    maxLength: 64,
    description: 'an RFC 3339 instant with a zone (Z or ±HH:MM, at most 14 h), 1970–9999, no leap second; answered in UTC as 2027-06-01T13:00:00.000Z',
  }),
  isInstant,
  () => 'must be an RFC 3339 instant with a zone, 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, no leap second',
);

// What older releases recorded. Their schema was TypeBox's `date-time`: it let through a leap
// second, lower-case `t`/`z`, an RFC 9557 `[zone]` suffix, offsets up to ±23:59, any number of
// fraction digits and any four-digit year.
const RECORDED = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))(?:\[[^\]]*\])*$/;

/**
 * The canonical form of a time an event of an older release holds, or undefined when it is none
 * even by that release's rules. An instant as parseInstant reads it is read the same; besides:
 * - a leap second (`23:59:60`) is the next second (`00:00:00.000` of the next day), as POSIX
 *   clocks and every database here count it;
 * - lower-case `t`/`z` are read as upper-case; an RFC 9557 `[zone]` suffix is ignored (the
 *   offset names the instant); an offset beyond 14 h is applied as written; extra fraction digits
 *   are cut to the millisecond;
 * - a moment before 1970 or after 9999 reads as the first or last instant, so it still fits the
 *   read models' columns and orders the way it was meant to.
 * Events are never rewritten: this is how they are read (eventstore/decode.ts), so a projection
 * and its rebuild apply what the API once accepted.
 */
export function readRecordedInstant(text: string): string | undefined {
  const canonical = canonicalInstant(text);
  if (canonical !== undefined) return canonical;
  const match = RECORDED.exec(text);
  if (match === null) return undefined;
  const { year, month, day, hour, minute, second, millis, offsetHour, offsetMinute, offsetMinutes } = fieldsOf(match);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60) return undefined;
  if (offsetHour > 23 || offsetMinute > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: years 0–99 are years, not 1900–1999. Second 60 rolls over.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const ms = date.getTime() - offsetMinutes * 60_000;
  return new Date(Math.min(LAST_INSTANT_MS, Math.max(FIRST_INSTANT_MS, ms))).toISOString();
}
