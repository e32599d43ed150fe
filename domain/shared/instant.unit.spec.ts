import t from 'tap';
import { Compile } from 'typebox/compile';
import Type from 'typebox';
import { Format, IsDateTime } from 'typebox/format';
import { canonicalInstant, Instant, parseInstant, readRecordedInstant } from './instant.ts';

const REFUSED: Record<string, string> = {
  'a leap second': '2027-12-31T23:59:60Z',
  'a leap second at an offset': '2028-01-01T06:59:60+07:00',
  'February 30': '2027-02-30T20:00:00Z',
  'February 29 of a common year': '2027-02-29T20:00:00Z',
  'February 29 of 2100 (not a leap year)': '2100-02-29T20:00:00Z',
  'April 31': '2027-04-31T20:00:00Z',
  'month 13': '2027-13-01T20:00:00Z',
  'day 0': '2027-06-00T20:00:00Z',
  'hour 24': '2027-06-01T24:00:00Z',
  'minute 60': '2027-06-01T20:60:00Z',
  'offset +24:00': '2027-06-01T20:00:00+24:00',
  'offset +14:01': '2027-06-01T20:00:00+14:01',
  'offset -15:00': '2027-06-01T20:00:00-15:00',
  'offset minutes 60': '2027-06-01T20:00:00+07:60',
  'offset without a colon': '2027-06-01T20:00:00+0700',
  'year 0070 (Date.UTC would read 1970)': '0070-06-01T20:00:00Z',
  'year 0001': '0001-01-01T00:00:00Z',
  'before 1970 in UTC': '1969-12-31T23:59:59Z',
  'before 1970 by its offset': '1970-01-01T00:30:00+01:00',
  'after 9999 by its offset': '9999-12-31T23:30:00-01:00',
  'a five-digit year': '+012027-06-01T20:00:00Z',
  'no zone': '2027-06-01T20:00:00',
  'a date alone': '2027-06-01',
  'no seconds': '2027-06-01T20:00Z',
  'a space for the T': '2027-06-01 20:00:00Z',
  'lower-case t and z': '2027-06-01t20:00:00z',
  'an RFC 9557 suffix': '2027-06-01T20:00:00+07:00[Asia/Jakarta]',
  'words': 'Dec 31 2027 20:00:00 GMT',
  'an RFC 2822 date': 'Fri, 31 Dec 2027 20:00:00 +0000',
  'a fraction of ten digits': '2027-06-01T20:00:00.1234567890Z',
  'an empty fraction': '2027-06-01T20:00:00.Z',
  'a trailing newline': '2027-06-01T20:00:00Z\n',
  'a leading space': ' 2027-06-01T20:00:00Z',
  'Arabic-Indic digits': '٢٠٢٧-06-01T20:00:00Z',
  'empty': '',
};

t.test('parseInstant refuses what is no real instant, also what Date.parse reads', async (t) => {
  for (const [what, text] of Object.entries(REFUSED)) {
    t.equal(parseInstant(text), undefined, `${what}: ${JSON.stringify(text)}`);
  }
  t.ok(Object.values(REFUSED).some((text) => !Number.isNaN(Date.parse(text))), 'Date.parse reads some of them');
});

/** Each refused time written in the canonical form's 24 characters, where it has the shape: the fast path's cases. */
const CANONICAL_SHAPED: Record<string, string> = {
  ...Object.fromEntries(Object.entries(REFUSED)
    .filter(([, text]) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text))
    .map(([what, text]) => [what, text.replace('Z', '.000Z')])),
  'a letter for a digit of the milliseconds': '2027-06-01T20:00:00.0a0Z',
  'a sign in the milliseconds': '2027-06-01T20:00:00.-10Z',
  'a full-width digit': '２027-06-01T20:00:00.000Z',
  'a comma for the point': '2027-06-01T20:00:00,000Z',
};

t.test('a time in the canonical form\'s shape is refused as the regular expression refuses it', async (t) => {
  t.ok(Object.keys(CANONICAL_SHAPED).length >= 12, 'most refusals have the shape');
  for (const [what, text] of Object.entries(CANONICAL_SHAPED)) t.equal(parseInstant(text), undefined, `${what}: ${text}`);
  t.equal(parseInstant('1970-01-01T00:00:00.000Z'), 0, 'the first instant');
  t.equal(parseInstant('9999-12-31T23:59:59.999Z'), 253_402_300_799_999, 'the last instant');
  t.equal(parseInstant('2024-02-29T23:59:59.999Z'), Date.parse('2024-02-29T23:59:59.999Z'), 'February 29 of a leap year');
});

t.test('TypeBox\'s date-time format answers every string as its own check does', async (t) => {
  const check = Format.Get('date-time');
  t.not(check, IsDateTime, 'the registered check is ours (a fast path for canonical instants)');
  const texts = [...Object.values(REFUSED), ...Object.values(CANONICAL_SHAPED), '2027-12-31T23:59:60.000Z', '2027-06-01T20:00:00.000Z', '2027-06-01T20:00:00+07:00', '1969-12-31T23:59:59.999Z'];
  for (const text of texts) t.equal(check?.(text), IsDateTime(text), JSON.stringify(text));
});

t.test('every day 28 to 32 of every month of leap and common years, in the canonical form: the fast path agrees with Date and with TypeBox', async (t) => {
  const check = Format.Get('date-time');
  let accepted = 0;
  let disagreements = 0;
  for (const year of [1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999]) {
    for (let month = 0; month <= 13; month++) {
      for (const day of [0, 1, 28, 29, 30, 31, 32]) {
        for (const time of ['00:00:00.000', '23:59:59.999', '24:00:00.000', '12:60:00.000', '12:00:60.000']) {
          const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${time}Z`;
          // What Date reads back to the same text is a real instant; the rest is none.
          const date = new Date(text);
          const real = !Number.isNaN(date.getTime()) && date.toISOString() === text;
          const parsed = parseInstant(text);
          if (parsed !== (real ? date.getTime() : undefined) || check?.(text) !== IsDateTime(text)) disagreements++;
          if (parsed !== undefined) accepted++;
        }
      }
    }
  }
  t.equal(disagreements, 0, 'no disagreement');
  t.ok(accepted > 500, `real instants among them (${accepted})`);
});

t.test('parseInstant reads real instants to the millisecond; canonicalInstant writes them as toISOString does', async (t) => {
  const cases: [string, string][] = [
    ['2027-06-01T20:00:00Z', '2027-06-01T20:00:00.000Z'],
    ['2027-06-01T20:00:00+07:00', '2027-06-01T13:00:00.000Z'],
    ['2027-06-01T20:00:00-00:00', '2027-06-01T20:00:00.000Z'],
    ['2027-06-01T00:30:00+14:00', '2027-05-31T10:30:00.000Z'],
    ['2027-06-01T20:00:00-14:00', '2027-06-02T10:00:00.000Z'],
    ['2027-06-01T20:00:00.5Z', '2027-06-01T20:00:00.500Z'],
    ['2027-12-31T23:59:59.999999999Z', '2027-12-31T23:59:59.999Z'],
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['1969-12-31T23:00:00-01:00', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ];
  for (const [text, canonical] of cases) {
    t.equal(canonicalInstant(text), canonical, text);
    t.equal(parseInstant(text), Date.parse(canonical), `${text}: the same moment Date reads from the canonical form`);
  }
});

t.test('the Instant schema checks with the same parser, and reports the time it refuses', async (t) => {
  const check = Compile(Type.Object({ at: Instant, until: Type.Union([Instant, Type.Null()]) }));
  t.ok(check.Check({ at: '2027-06-01T20:00:00+07:00', until: null }));
  for (const [what, text] of Object.entries(REFUSED)) {
    t.notOk(check.Check({ at: text, until: null }), `at: ${what}`);
    t.notOk(check.Check({ at: '2027-06-01T20:00:00Z', until: text }), `until: ${what}`);
  }
  t.notOk(check.Check({ at: 20_270_601, until: null }), 'a number is no time');
  const [error] = check.Errors({ at: '2027-12-31T23:59:60Z', until: null });
  t.equal(error?.instancePath, '/at');
  t.match(error?.message, /no leap second/);
  t.notMatch(JSON.stringify(Instant), /refine/, 'the OpenAPI document sees a plain date-time string');
});

t.test('readRecordedInstant reads what older releases let in, in canonical form, and refuses what they refused too', async (t) => {
  const cases: [string, string, string][] = [
    ['a leap second is the next second', '2027-12-31T23:59:60Z', '2028-01-01T00:00:00.000Z'],
    ['a leap second at an offset', '2028-01-01T06:59:60+07:00', '2028-01-01T00:00:00.000Z'],
    ['a leap second with a fraction', '2016-12-31T23:59:60.5Z', '2017-01-01T00:00:00.500Z'],
    ['lower-case t and z', '2027-06-01t20:00:00z', '2027-06-01T20:00:00.000Z'],
    ['an RFC 9557 suffix', '2027-06-01T20:00:00+07:00[Asia/Jakarta]', '2027-06-01T13:00:00.000Z'],
    ['an offset beyond 14 h', '2027-06-01T20:00:00+23:59', '2027-05-31T20:01:00.000Z'],
    ['many fraction digits', '2027-06-01T20:00:00.123456789012Z', '2027-06-01T20:00:00.123Z'],
    ['year 0001 reads as the first instant', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['year 0070 is not 1970', '0070-06-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['past 9999 by its offset reads as the last instant', '9999-12-31T23:30:00-01:00', '9999-12-31T23:59:59.999Z'],
    ['an instant reads as itself', '2027-06-01T20:00:00+07:00', '2027-06-01T13:00:00.000Z'],
  ];
  for (const [what, text, canonical] of cases) t.equal(readRecordedInstant(text), canonical, what);
  for (const text of ['2027-02-30T20:00:00Z', '2027-06-01T24:00:00Z', '2027-06-01T20:00:00', 'Dec 31 2027', '2027-06-01', '2027-06-01T20:00:61Z', '2027-06-01T20:00:00+24:00']) {
    t.equal(readRecordedInstant(text), undefined, `still none: ${text}`);
  }
});
