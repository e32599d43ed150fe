import t from 'tap';
import { bookingEvents } from '../domain/booking/index.ts';
import { concertEvents } from '../domain/concert/index.ts';
import { assertNever, UpcasterRegistry } from '../domain/index.ts';
import { userEvents } from '../domain/user/index.ts';
import { metadataAt, userRegisteredV1Data } from '../test/support/recorded-events.ts';
import { decode, eventsOf, UndecodableEvent } from './decode.ts';
import type { RecordedEvent } from './port.ts';

const metadata = metadataAt;

const recorded = (type: string, data: unknown, schemaVersion = 1, stream = 'concert-c1'): RecordedEvent => ({
  id: '00000000-0000-4000-8000-000000000001',
  stream,
  revision: 3,
  position: 42,
  type,
  data,
  metadata: metadata(schemaVersion),
  recordedAt: '2025-01-01T00:00:00.000Z',
});

const heldData = {
  concert_id: 'c1',
  booking_id: 'b1',
  user_id: 'u1',
  seats: [{ seat_id: 's1', ticket_class_id: 'vip', seat_number: 1, price: 500_000 }],
  total_price: 500_000,
  ktp_fingerprints: [],
  personal_data: null,
  held_at: '2025-01-01T00:00:00.000Z',
  expires_at: '2025-01-01T00:15:00.000Z',
};

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('a valid event comes back narrowed to its set, with where it is stored', async (t) => {
  const event = decode(recorded('SeatsHeld', heldData), concertEvents);
  t.equal(event.type, 'SeatsHeld');
  t.strictSame(event.data, heldData);
  t.match(event, { stream: 'concert-c1', revision: 3, position: 42, metadata: { schema_version: 1 } });
  // The switch below compiles only because decode narrowed the event to the concert's union:
  // `event.data.booking_id` exists on SeatsHeld, and assertNever proves every case is named.
  const bookingOf = (): string | null => {
    switch (event.type) {
      case 'SeatsHeld': return event.data.booking_id;
      case 'HoldReleased': return event.data.booking_id;
      case 'SeatsSold': return event.data.booking_id;
      case 'TicketTransferred':
      case 'TicketAdmitted': return event.data.booking_id;
      case 'ConcertScheduled':
      case 'ConcertPublished':
      case 'ConcertCancelled':
      case 'ConcertDetailsChanged':
      case 'TicketClassPriceChanged':
      case 'TicketClassAdded':
      case 'SeatsAdded': return null;
      default: return assertNever(event);
    }
  };
  t.equal(bookingOf(), 'b1');
  const held = decode(recorded('SeatsHeld', heldData), eventsOf('SeatsHeld'));
  // A set of one type needs no switch at all.
  t.equal(held.data.seats[0]?.seat_id, 's1');
});

t.test('an event whose type is not in the set is an UndecodableEvent naming it', async (t) => {
  const error = thrown(() => decode(recorded('SeatsHeld', heldData), bookingEvents));
  t.type(error, UndecodableEvent);
  t.match(error, { type: 'SeatsHeld', stream: 'concert-c1', revision: 3, position: 42, message: /SeatsHeld at concert-c1@3 \(position 42\): not one of/ });
  t.match(thrown(() => decode(recorded('NoSuchThing', {}), eventsOf('SeatsHeld'))), { name: 'UndecodableEvent', type: 'NoSuchThing' });
});

t.test('data that breaks its schema is an UndecodableEvent naming the field', async (t) => {
  const fractionalMoney = thrown(() => decode(recorded('SeatsHeld', { ...heldData, total_price: 1.5 }), concertEvents));
  t.type(fractionalMoney, UndecodableEvent);
  t.match(fractionalMoney, { type: 'SeatsHeld', position: 42, message: /total_price/ });
  const { expires_at: _missing, ...withoutDeadline } = heldData;
  t.match(thrown(() => decode(recorded('SeatsHeld', withoutDeadline), concertEvents)), { name: 'UndecodableEvent', message: /expires_at/ });
  t.match(thrown(() => decode(recorded('SeatsHeld', { ...heldData, held_at: 'yesterday' }), concertEvents)), { name: 'UndecodableEvent', message: /held_at/ });
  t.match(thrown(() => decode(recorded('SeatsHeld', { ...heldData, extra: 1 }), concertEvents)), { name: 'UndecodableEvent' });
  t.match(thrown(() => decode({ ...recorded('SeatsHeld', heldData), metadata: { schema_version: 1 } }, concertEvents)), { name: 'UndecodableEvent', message: /metadata/ });
});

t.test('an older version is upcast to the current shape before it is checked', async (t) => {
  // The domain's real upcaster: UserRegistered v1 predates roles.
  const v1 = userRegisteredV1Data;
  const event = decode(recorded('UserRegistered', v1, 1, 'user-u-old'), userEvents);
  t.equal(event.metadata.schema_version, 2);
  t.equal(event.type === 'UserRegistered' && event.data.role, 'customer');
  t.notOk('role' in v1, 'the stored data is not rewritten');
  // Without the upcast, v1 data breaks the v2 schema: the check runs after the upcast, not before.
  t.match(thrown(() => decode(recorded('UserRegistered', v1, 2, 'user-u-old'), userEvents)), { name: 'UndecodableEvent', message: /role/ });
  t.match(thrown(() => decode(recorded('UserRegistered', v1, 3, 'user-u-old'), userEvents)), { name: 'UndecodableEvent', message: /newer than this code/ });
});

t.test('a registry brought by the reader upcasts with its own steps', async (t) => {
  // Suppose SeatsHeld v1 called the deadline `hold_expires_at`, and v2 (today's) renamed it.
  const registry = new UpcasterRegistry({
    SeatsHeld: { current: 2, steps: { 1: ({ hold_expires_at, ...rest }) => ({ ...rest, expires_at: hold_expires_at }) } },
  });
  const { expires_at, ...rest } = heldData;
  const event = decode(recorded('SeatsHeld', { ...rest, hold_expires_at: expires_at }), eventsOf('SeatsHeld'), registry);
  t.equal(event.data.expires_at, expires_at);
  t.equal(event.metadata.schema_version, 2);
});

t.test('times are read through the one parser: canonical form, and what an older release let in reads as documented', async (t) => {
  const old = {
    ...recorded('SeatsHeld', { ...heldData, held_at: '2027-12-31T23:59:60Z', expires_at: '2028-01-01T07:14:59.5+07:00[Asia/Jakarta]' }),
    metadata: { ...metadata(1), occurred_at: '2027-12-31t23:59:60z' },
  };
  const event = decode(old, concertEvents);
  t.match(event.data, { held_at: '2028-01-01T00:00:00.000Z', expires_at: '2028-01-01T00:14:59.500Z' }, 'the leap second is the next second; the offset and suffix are applied');
  t.equal(event.metadata.occurred_at, '2028-01-01T00:00:00.000Z', 'the metadata too');
  t.equal((old.data as { held_at: string }).held_at, '2027-12-31T23:59:60Z', 'the recorded event is not changed');

  const nested = decode(recorded('ConcertScheduled', {
    concert_id: 'c1', name: 'N', artist: 'A', date: '0001-01-01T00:00:00Z', venue: 'V', description: null, image_url: null,
    max_tickets_per_ktp: null, sales_open_at: '2027-06-01T20:00:00+07:00', sales_close_at: null,
    ticket_classes: [{ ticket_class_id: '0b9a2c1e-5d4f-4a3b-9c8d-7e6f5a4b3c2d', name: 'VIP', price: 1, seat_count: 1 }], scheduled_at: '2026-12-01T10:00:00.000Z',
  }), concertEvents);
  t.match(nested.data, { date: '1970-01-01T00:00:00.000Z', sales_open_at: '2027-06-01T13:00:00.000Z', sales_close_at: null }, 'inside unions and out of range');

  const error = thrown(() => decode(recorded('SeatsHeld', { ...heldData, held_at: '2027-02-30T10:00:00Z' }), concertEvents));
  t.ok(error instanceof UndecodableEvent, 'a time no release let in is still refused');
  t.match((error as Error).message, /held_at/);
});
