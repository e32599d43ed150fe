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
      case 'ConcertCancelled': return null;
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
