/**
 * The concerts read model: concerts, their ticket classes with live counts, and every seat with
 * its status. A batch loads the concerts it touches (and their classes) once, folds its events
 * over them in memory, and writes each table in multi-row statements; seat rows of a new concert,
 * of a class added later and of seats added to a class are inserted in bulk. An admin's edit
 * (details, sales window, prices) changes the rows it names. After the commit, the Redis seat
 * caches get the same changes (a new class's count included).
 */
import type { Knex } from 'knex';
import { parseSeatId, seatId, seatIdPrefix } from '../../domain/concert/seats.ts';
import type { ConcertCacheChange, SeatCacheStatus } from '../../read-models/seat-cache.ts';
import type { AsRead, ConcertRow, SeatRow, TicketClassRow } from '../../read-models/tables.ts';
import { inKeyOrder, inParts, insertMany, instant, selectIn, upsert } from '../bulk.ts';
import type { SeatCacheFeed } from './seat-cache-feed.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type ProjectedOf, type Projection, type TableWrite } from '../projection.ts';

const EVENT_TYPES = [
  'ConcertScheduled', 'ConcertPublished', 'SeatsHeld', 'HoldReleased', 'SeatsSold', 'ConcertCancelled',
  'ConcertDetailsChanged', 'TicketClassPriceChanged', 'TicketClassAdded', 'SeatsAdded',
] as const;
type ConcertEventType = typeof EVENT_TYPES[number];

/** One concert as a batch sees it. */
interface ConcertInBatch {
  row: ConcertRow;
  /** The position the concert had before this batch (0 when the batch schedules it). */
  readonly previous: number;
  readonly isNew: boolean;
  readonly classes: Map<string, TicketClassRow>;
  /** Seat id prefix → class, to find the class of a released seat from its id. */
  readonly byPrefix: Map<string, TicketClassRow>;
  readonly seatChanges: Map<string, SeatRow>;
  /** Seats added to a concert scheduled in an earlier batch (a class added, or seats added to one): inserted. */
  readonly addedSeats: { readonly ticketClassId: string; readonly from: number; readonly to: number }[];
}

function seatClass(concert: ConcertInBatch, id: string): { ticketClass: TicketClassRow; seatNumber: number } {
  const parsed = parseSeatId(id);
  const ticketClass = parsed === undefined ? undefined : concert.byPrefix.get(parsed.prefix);
  if (parsed === undefined || ticketClass === undefined) throw new Error(`seat ${id} belongs to no class of concert ${concert.row.id}`);
  return { ticketClass, seatNumber: parsed.seatNumber };
}

/** The row as read, with `columns` (the ones a batch counts with) made numbers; it is changed in place. */
function toNumbers<R extends object>(row: AsRead<R>, columns: readonly (keyof R)[]): R {
  const converted = row as Record<keyof R, unknown>;
  for (const column of columns) converted[column] = Number(row[column]);
  return converted as R;
}

export function concertsProjection(options: { seatCache?: SeatCacheFeed } = {}): Projection {
  return {
    name: 'concerts',
    tables: ['concerts', 'ticket_classes', 'seats'],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const { trx } = context;
      const events = ofTypes(batch, EVENT_TYPES);
      const concerts = await loadConcerts(trx, context, events);

      for (const event of events) {
        const concertId = event.data.concert_id;
        const concert = concerts.get(concertId);
        switch (event.type) {
          case 'ConcertScheduled': {
            if (concert !== undefined) break; // scheduled once; the stream cannot hold a second
            const data = event.data;
            const total = data.ticket_classes.reduce((sum, ticketClass) => sum + ticketClass.seat_count, 0);
            const created: ConcertInBatch = {
              row: {
                id: data.concert_id,
                name: data.name,
                artist: data.artist,
                date: instant(data.date),
                venue: data.venue,
                description: data.description,
                image_url: data.image_url,
                status: 'scheduled',
                max_tickets_per_ktp: data.max_tickets_per_ktp,
                total_seats: total,
                available_seats: total,
                created_at: instant(data.scheduled_at),
                sales_open_at: data.sales_open_at === null ? null : instant(data.sales_open_at),
                sales_close_at: data.sales_close_at === null ? null : instant(data.sales_close_at),
                waiting_room: data.waiting_room ?? false,
                position: event.position,
              },
              previous: 0,
              isNew: true,
              classes: new Map(),
              byPrefix: new Map(),
              seatChanges: new Map(),
              addedSeats: [],
            };
            data.ticket_classes.forEach((ticketClass, index) => {
              const row: TicketClassRow = {
                id: ticketClass.ticket_class_id,
                concert_id: data.concert_id,
                name: ticketClass.name,
                price: ticketClass.price,
                total_seats_in_class: ticketClass.seat_count,
                available_seats_in_class: ticketClass.seat_count,
                sort_order: index,
              };
              created.classes.set(row.id, row);
              created.byPrefix.set(seatIdPrefix(row.id), row);
            });
            concerts.set(data.concert_id, created);
            break;
          }
          case 'ConcertPublished':
            if (concert !== undefined && concert.row.status === 'scheduled') concert.row.status = 'active';
            break;
          case 'ConcertCancelled':
            if (concert !== undefined) concert.row.status = 'cancelled';
            break;
          case 'ConcertDetailsChanged': {
            if (concert === undefined) break;
            const { concert_id: _concertId, changed_at: _changedAt, date, sales_open_at: opens, sales_close_at: closes, ...text } = event.data;
            Object.assign(concert.row, text);
            if (date !== undefined) concert.row.date = instant(date);
            if (opens !== undefined) concert.row.sales_open_at = opens === null ? null : instant(opens);
            if (closes !== undefined) concert.row.sales_close_at = closes === null ? null : instant(closes);
            break;
          }
          case 'TicketClassPriceChanged': {
            const ticketClass = concert?.classes.get(event.data.ticket_class_id);
            if (ticketClass !== undefined) ticketClass.price = event.data.price;
            break;
          }
          case 'TicketClassAdded': {
            const spec = event.data.ticket_class;
            if (concert === undefined || concert.classes.has(spec.ticket_class_id)) break;
            const row: TicketClassRow = {
              id: spec.ticket_class_id,
              concert_id: concert.row.id,
              name: spec.name,
              price: spec.price,
              total_seats_in_class: spec.seat_count,
              available_seats_in_class: spec.seat_count,
              sort_order: Math.max(-1, ...[...concert.classes.values()].map((c) => c.sort_order)) + 1,
            };
            concert.classes.set(row.id, row);
            concert.byPrefix.set(seatIdPrefix(row.id), row);
            grow(concert, row.id, 1, spec.seat_count);
            break;
          }
          case 'SeatsAdded': {
            const ticketClass = concert?.classes.get(event.data.ticket_class_id);
            if (concert === undefined || ticketClass === undefined) break;
            const from = ticketClass.total_seats_in_class + 1;
            ticketClass.total_seats_in_class = event.data.seat_count;
            ticketClass.available_seats_in_class += event.data.seat_count - from + 1;
            grow(concert, ticketClass.id, from, event.data.seat_count);
            break;
          }
          case 'SeatsHeld':
            if (concert === undefined) break;
            for (const seat of event.data.seats) {
              const ticketClass = concert.classes.get(seat.ticket_class_id);
              if (ticketClass === undefined) throw new Error(`seat ${seat.seat_id} belongs to no class of concert ${concert.row.id}`);
              ticketClass.available_seats_in_class--;
              concert.row.available_seats--;
              concert.seatChanges.set(seat.seat_id, {
                id: seat.seat_id,
                concert_id: concert.row.id,
                ticket_class_id: seat.ticket_class_id,
                seat_number: seat.seat_number,
                status: 'reserved',
                booking_id: event.data.booking_id,
              });
            }
            break;
          case 'HoldReleased':
          case 'SeatsSold':
            if (concert === undefined) break;
            for (const id of event.data.seat_ids) {
              const { ticketClass, seatNumber } = seatClass(concert, id);
              const sold = event.type === 'SeatsSold';
              if (!sold) {
                ticketClass.available_seats_in_class++;
                concert.row.available_seats++;
              }
              concert.seatChanges.set(id, {
                id,
                concert_id: concert.row.id,
                ticket_class_id: ticketClass.id,
                seat_number: seatNumber,
                status: sold ? 'booked' : 'available',
                booking_id: sold ? event.data.booking_id : null,
              });
            }
            break;
        }
        const touched = concerts.get(concertId);
        if (touched !== undefined) touched.row.position = event.position;
      }

      const writes = concertWrites(context, [...concerts.values()]);
      const seatCache = options.seatCache;
      if (seatCache === undefined) return { writes };
      const changes = [...concerts.values()].filter((concert) => concert.row.position > concert.previous).map(toCacheChange);
      return { writes, afterCommit: () => seatCache.committed(context.generation, changes, context.position) };
    },

    async activated(generation: number): Promise<void> {
      await options.seatCache?.cache.activate(generation);
    },
  };
}

async function loadConcerts(trx: Knex.Transaction, context: ApplyContext, events: readonly ProjectedOf<ConcertEventType>[]): Promise<Map<string, ConcertInBatch>> {
  const ids = [...new Set(events.map((event) => event.data.concert_id))];
  const rows = await selectIn<AsRead<ConcertRow>>(trx, context.table('concerts'), 'id', ids);
  const classes = await selectIn<AsRead<TicketClassRow>>(trx, context.table('ticket_classes'), 'concert_id', ids);
  const concerts = new Map<string, ConcertInBatch>();
  for (const read of rows) {
    const row = { ...toNumbers<ConcertRow>(read, ['total_seats', 'available_seats', 'position']), waiting_room: Boolean(read.waiting_room) };
    concerts.set(row.id, { row, previous: row.position, isNew: false, classes: new Map(), byPrefix: new Map(), seatChanges: new Map(), addedSeats: [] });
  }
  for (const read of classes) {
    const row = toNumbers<TicketClassRow>(read, ['price', 'total_seats_in_class', 'available_seats_in_class', 'sort_order']);
    const concert = concerts.get(row.concert_id);
    concert?.classes.set(row.id, row);
    concert?.byPrefix.set(seatIdPrefix(row.id), row);
  }
  return concerts;
}

function concertWrites(context: ApplyContext, concerts: readonly ConcertInBatch[]): TableWrite[] {
  const changed = concerts.filter((concert) => concert.row.position > concert.previous);
  if (changed.length === 0) return [];
  const writes: TableWrite[] = [
    (trx) => upsert(trx, context.table('concerts'), changed.map((concert) => concert.row), ['id'], [...EDITABLE_COLUMNS, 'status', 'total_seats', 'available_seats', 'position']),
    (trx) => upsert(trx, context.table('ticket_classes'), changed.flatMap((concert) => [...concert.classes.values()]), ['id'],
      ['price', 'total_seats_in_class', 'available_seats_in_class']),
  ];
  // New seats (a new concert's, or those added to one) are inserted once, already in their state at the end of the batch.
  const inserted = changed.flatMap((concert) => (concert.isNew ? newSeats(concert) : addedSeats(concert)));
  const updated = changed.filter((concert) => !concert.isNew).flatMap((concert) => {
    if (concert.addedSeats.length === 0) return [...concert.seatChanges.values()];
    const added = new Set(addedSeats(concert).map((seat) => seat.id));
    return [...concert.seatChanges.values()].filter((seat) => !added.has(seat.id));
  });
  return [
    ...writes,
    ...inParts(inserted, (trx, rows) => insertMany(trx, context.table('seats'), rows, context.localInfile)),
    ...inParts(inKeyOrder(updated, 'id'), (trx, rows) => upsert(trx, context.table('seats'), rows, ['id'], ['status', 'booking_id'])),
  ];
}

/** The concert columns an admin's edit may change (ConcertDetailsChanged). */
const EDITABLE_COLUMNS = ['name', 'artist', 'date', 'venue', 'description', 'image_url', 'max_tickets_per_ktp', 'sales_open_at', 'sales_close_at', 'waiting_room'] as const;

/** Seats `from..to` of a class join the concert, available. */
function grow(concert: ConcertInBatch, ticketClassId: string, from: number, to: number): void {
  const added = to - from + 1;
  concert.row.total_seats += added;
  concert.row.available_seats += added;
  // A new concert's seats are all inserted from its classes at the end of the batch.
  if (!concert.isNew) concert.addedSeats.push({ ticketClassId, from, to });
}

function addedSeats(concert: ConcertInBatch): SeatRow[] {
  return concert.addedSeats.flatMap(({ ticketClassId, from, to }) => Array.from({ length: to - from + 1 }, (_, i) => {
    const id = seatId(ticketClassId, from + i);
    return concert.seatChanges.get(id) ?? {
      id, concert_id: concert.row.id, ticket_class_id: ticketClassId, seat_number: from + i, status: 'available' as const, booking_id: null,
    };
  }));
}

function newSeats(concert: ConcertInBatch): SeatRow[] {
  const seats: SeatRow[] = [];
  for (const ticketClass of concert.classes.values()) {
    for (let number = 1; number <= ticketClass.total_seats_in_class; number++) {
      const id = seatId(ticketClass.id, number);
      seats.push(concert.seatChanges.get(id) ?? {
        id, concert_id: concert.row.id, ticket_class_id: ticketClass.id, seat_number: number, status: 'available', booking_id: null,
      });
    }
  }
  return seats;
}

function toCacheChange(concert: ConcertInBatch): ConcertCacheChange {
  const seats = new Map<string, SeatCacheStatus | null>();
  for (const [id, seat] of concert.seatChanges) seats.set(id, seat.status === 'available' ? null : seat.status);
  return {
    concertId: concert.row.id,
    previous: concert.previous,
    position: concert.row.position,
    available: new Map([...concert.classes.values()].sort((a, b) => a.sort_order - b.sort_order).map((row) => [row.id, row.available_seats_in_class])),
    seats,
  };
}
