/**
 * The auditor's commands, answered from the event store alone: export events as JSON lines,
 * replay a concert's seat map as it was at an instant, and tell a booking's story in order.
 */
import { concertDecider, concertEvents, concertStream, seatId, type ConcertState } from '../../domain/concert/index.ts';
import { bookingEvents, bookingStream } from '../../domain/booking/index.ts';
import { paymentStream } from '../../domain/payment/index.ts';
import { parseInstant } from '../../domain/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { openEventStore } from '../wiring/adapters.ts';
import type { Config } from '../../lib/config.ts';
import { redactSecrets } from '../../lib/security/redact.ts';
import { flagText, UsageError, uuidArgument, wholeNumber, type CliCommand, type CliContext } from './command.ts';

async function withStore<T>(config: Config, use: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openEventStore(config);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** One event as export prints it: what the store holds, as it holds it, but a secret's value (`[redacted]`). */
function exported(event: RecordedEvent): string {
  return JSON.stringify({ position: event.position, stream: event.stream, revision: event.revision, type: event.type, data: redactSecrets(event.data), metadata: redactSecrets(event.metadata) });
}

/** When the event happened: the command's time in its metadata, else when the store recorded it. */
function occurredAt(event: RecordedEvent): string {
  const value = event.metadata.occurred_at;
  return typeof value === 'string' ? value : event.recordedAt;
}

/** Writes and waits when the pipe is full: an export of millions of events stays in bounded memory. */
async function writeLines(context: CliContext, lines: readonly string[]): Promise<void> {
  if (lines.length > 0) context.out(`${lines.join('\n')}\n`);
  if (process.stdout.writableNeedDrain) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export const eventsExport: CliCommand = {
  name: 'events:export',
  usage: '[--stream S] [--from-position N] [--type T]',
  summary: 'every event (or those of one stream / type, from a position on) as JSON lines on stdout',
  positionals: 0,
  flags: {
    stream: { type: 'string', description: 'only this stream (e.g. concert-<id>)' },
    'from-position': { type: 'string', description: 'only events at this global position or later' },
    type: { type: 'string', description: 'only events of this type (e.g. SeatsHeld)' },
  },
  run: (context) => withStore(context.config, async (store) => {
    const from = flagText(context, 'from-position');
    const after = from === undefined ? 0 : Math.max(0, wholeNumber(from, '--from-position') - 1);
    const type = flagText(context, 'type');
    const stream = flagText(context, 'stream');
    if (stream !== undefined) {
      const events = await store.readStream(stream);
      await writeLines(context, events.filter((event) => event.position > after && (type === undefined || event.type === type)).map(exported));
      return;
    }
    const head = await store.headPosition();
    let position = after;
    while (position < head) {
      const page = await store.readAll({ after: position, maxCount: 1_000, ...(type === undefined ? {} : { filter: { eventTypes: [type] } }) });
      await writeLines(context, page.events.map(exported));
      if (page.position <= position) break;
      position = page.position;
    }
  }),
};

export interface SeatAsOf {
  readonly id: string;
  readonly seat_number: number;
  readonly ticket_class_id: string;
  readonly status: 'available' | 'reserved' | 'booked';
}

const SEAT_STATUS = ['available', 'reserved', 'booked'] as const;

/** The concert's inventory after every event that happened at or before `asOf`. */
export async function concertAsOf(store: EventStore, concertId: string, asOf: Date): Promise<{ state: ConcertState; position: number; events: number }> {
  let state = concertDecider.initialState();
  let position = 0;
  let events = 0;
  for (const recorded of await store.readStream(concertStream(concertId))) {
    if (Date.parse(occurredAt(recorded)) > asOf.getTime()) break;
    state = concertDecider.evolve(state, decode(recorded, concertEvents));
    position = recorded.position;
    events++;
  }
  return { state, position, events };
}

/** The concert's details and classes as they were: a class or seats added later are not in them yet, an edit made later is not shown. */
export function concertDetailsOf(state: ConcertState) {
  return {
    ...state.details,
    ticket_classes: state.classes.map((c) => ({ id: c.id, name: c.name, price: c.price, total_seats_in_class: c.seatCount })),
  };
}

export function seatsOf(state: ConcertState): SeatAsOf[] {
  return state.classes.flatMap((ticketClass) => Array.from({ length: ticketClass.seatCount }, (_, i) => ({
    id: seatId(ticketClass.id, i + 1),
    seat_number: i + 1,
    ticket_class_id: ticketClass.id,
    status: SEAT_STATUS[state.seatStatus[ticketClass.firstSeat + i] ?? 0] ?? 'available',
  })));
}

/** "1-3, 7, 9-10": seat numbers as ranges. */
function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    const start = numbers[i] as number;
    while (i + 1 < numbers.length && numbers[i + 1] === (numbers[i] as number) + 1) i++;
    parts.push(start === numbers[i] ? String(start) : `${start}-${numbers[i]}`);
  }
  return parts.join(', ') || '-';
}

export const concertAsOfCommand: CliCommand = {
  name: 'concert:as-of',
  usage: '<concertId> <ISO time> [--json]',
  summary: "the concert as it was at that instant (details, prices, classes, seat map), replayed from its event stream",
  positionals: 2,
  flags: { json: { type: 'boolean', description: 'print {concert_id, as_of, position, concert: {name, date, …, ticket_classes}, seats: [...]} instead of a summary' } },
  run: (context) => withStore(context.config, async (store) => {
    const concertId = uuidArgument(context.positionals[0] ?? '', 'concertId');
    const text = context.positionals[1] ?? '';
    const ms = parseInstant(text);
    if (ms === undefined) throw new UsageError(`time must be an RFC 3339 instant (2026-11-26T19:02:13Z), not "${text}"`);
    const asOf = new Date(ms);
    const { state, position, events } = await concertAsOf(store, concertId, asOf);
    if (events === 0) throw new Error(`concert ${concertId} had no events at ${asOf.toISOString()} (unknown, or not yet scheduled)`);
    const seats = seatsOf(state);
    if (context.flags.json === true) {
      context.out(`${JSON.stringify({ concert_id: concertId, as_of: asOf.toISOString(), position, concert: concertDetailsOf(state), seats })}\n`);
      return;
    }
    const details = state.details;
    const lines = [`concert ${concertId} as of ${asOf.toISOString()} (${events} events, position ${position}): ${state.status}`];
    if (details !== null) {
      lines.push(
        `  ${details.name} — ${details.artist}, ${details.venue}, ${details.date}`,
        `  sales: open ${details.sales_open_at ?? 'at once'}, close ${details.sales_close_at ?? `at the date (${details.date})`}; per KTP: ${details.max_tickets_per_ktp ?? 'no limit'}`,
      );
    }
    for (const ticketClass of state.classes) {
      const mine = seats.filter((seat) => seat.ticket_class_id === ticketClass.id);
      const numbers = (status: SeatAsOf['status']) => mine.filter((seat) => seat.status === status).map((seat) => seat.seat_number);
      const reserved = numbers('reserved');
      const booked = numbers('booked');
      lines.push(
        `  ${ticketClass.name} (${ticketClass.id}) at ${ticketClass.price}: ${ticketClass.seatCount} seats, ${mine.length - reserved.length - booked.length} available`,
        `    reserved: ${ranges(reserved)}`,
        `    booked:   ${ranges(booked)}`,
      );
    }
    context.out(`${lines.join('\n')}\n`);
  }),
};

/** Events of the whole concert an admin decided that change what a booking is for: shown in its history once it exists. */
const CONCERT_WIDE = new Set(['ConcertCancelled', 'ConcertDetailsChanged']);

/** Every event touching a booking, in position order: its own stream, its concert's holds and sales and the admins' later changes to the concert itself, its payments. */
export async function bookingHistory(store: EventStore, bookingId: string): Promise<RecordedEvent[]> {
  const own = await store.readStream(bookingStream(bookingId));
  const decoded = own.map((event) => decode(event, bookingEvents));
  const placed = decoded.find((event) => event.type === 'BookingPlaced');
  const concert = placed === undefined ? [] : await store.readStream(concertStream(placed.data.concert_id));
  const decodedConcert = concert.map((recorded) => ({ recorded, event: decode(recorded, concertEvents) }));
  const mine = decodedConcert.filter(({ event }) => 'booking_id' in event.data && event.data.booking_id === bookingId).map(({ recorded }) => recorded);
  // From the booking's first event (its hold, or its own stream when the hold is lost) on.
  const since = Math.min(...own.map((event) => event.position), ...mine.map((event) => event.position));
  const concertWide = decodedConcert.filter(({ recorded, event }) => CONCERT_WIDE.has(event.type) && recorded.position > since).map(({ recorded }) => recorded);
  const touching = [...mine, ...concertWide];
  const transactions = new Set(decoded.flatMap((event) => ('transaction_id' in event.data ? [event.data.transaction_id] : [])));
  const payments = (await Promise.all([...transactions].map((id) => store.readStream(paymentStream(id))))).flat();
  // A hold without its booking stream (a crash between the two writes) still shows.
  return [...own, ...touching, ...payments].sort((a, b) => a.position - b.position);
}

export const bookingHistoryCommand: CliCommand = {
  name: 'booking:history',
  usage: '<bookingId> [--json]',
  summary: 'every event touching the booking, in order: time, type, acting user',
  positionals: 1,
  flags: { json: { type: 'boolean', description: 'JSON lines as events:export prints them' } },
  run: (context) => withStore(context.config, async (store) => {
    const bookingId = uuidArgument(context.positionals[0] ?? '', 'bookingId');
    const events = await bookingHistory(store, bookingId);
    if (events.length === 0) throw new Error(`no event touches booking ${bookingId}`);
    if (context.flags.json === true) {
      await writeLines(context, events.map(exported));
      return;
    }
    await writeLines(context, events.map((event) => {
      const actor = event.metadata.actor_id;
      return `${occurredAt(event)}  ${event.type.padEnd(22)} ${typeof actor === 'string' ? `by ${actor}` : 'by the system'}  (${event.stream}@${event.revision}, position ${event.position})`;
    }));
  }),
};
