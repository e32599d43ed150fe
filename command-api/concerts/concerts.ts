/** Admin work on concerts: scheduling one (on sale at once), editing it, adding classes and seats, and calling one off. */
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../domain/index.ts';
import { concertEvents, concertStream, type ConcertDetailChanges, type ConcertState } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { AppError, isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { QueueWriter } from '../queue/queue-writer.ts';
import type { ConcertWriter } from './concert-writer.ts';

export interface NewConcert {
  readonly name: string;
  readonly artist: string;
  readonly date: string;
  readonly venue: string;
  readonly description?: string | undefined;
  readonly image_url?: string | undefined;
  readonly max_tickets_per_ktp?: number | undefined;
  readonly sales_open_at?: string | undefined;
  readonly sales_close_at?: string | undefined;
  /** Bookings need a pass from the concert's waiting room. */
  readonly waiting_room?: boolean | undefined;
  readonly ticket_classes: readonly { readonly name: string; readonly price: number; readonly total_seats_in_class: number }[];
}

/** A PATCH: the given fields change; null clears an optional one; `ticket_classes` reprices classes. */
export interface ConcertEdit extends ConcertDetailChanges {
  readonly ticket_classes?: readonly { readonly id: string; readonly price: number }[] | undefined;
}

/** The concert as its inventory has it now (the command API's own view; the query API's lags by a projection). */
export interface ConcertView {
  readonly id: string;
  readonly name: string;
  readonly artist: string;
  readonly date: string;
  readonly venue: string;
  readonly description: string | null;
  readonly image_url: string | null;
  readonly status: 'scheduled' | 'active' | 'cancelled';
  readonly max_tickets_per_ktp: number | null;
  readonly sales_open_at: string | null;
  readonly sales_close_at: string | null;
  readonly waiting_room: boolean;
  readonly ticket_classes: { id: string; name: string; price: number; total_seats_in_class: number; available_seats_in_class: number }[];
  readonly total_seats: number;
  readonly available_seats: number;
  readonly position: number;
}

export interface TicketClassGrown {
  readonly concert_id: string;
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly total_seats_in_class: number;
  readonly position: number;
}

export interface ConcertCreated {
  readonly id: string;
  readonly status: 'active';
  readonly ticket_classes: { readonly id: string; readonly name: string; readonly price: number; readonly total_seats_in_class: number }[];
  readonly position: number;
}

export class ConcertService {
  constructor(
    private readonly store: EventStore,
    private readonly writer: ConcertWriter,
    private readonly now: () => Date,
    /** The waiting rooms: a concert's is opened right after the concert's own append (and healed by a join). */
    private readonly queues: QueueWriter,
  ) {}

  async create(principal: Principal, concert: NewConcert, idempotencyKey: string | undefined, request: RequestContext): Promise<ConcertCreated> {
    const concertId = idempotencyKey === undefined ? randomUUID() : derivedUuid('concert', principal.userId, idempotencyKey);
    const context = this.#context(principal, request);
    const classes = concert.ticket_classes.map((ticketClass, i) => ({
      ticket_class_id: derivedUuid('ticket-class', concertId, String(i)),
      name: ticketClass.name,
      price: ticketClass.price,
      seat_count: ticketClass.total_seats_in_class,
    }));
    try {
      const written = await this.writer.submit(concertId, {
        type: 'ScheduleConcert',
        concert_id: concertId,
        name: concert.name,
        artist: concert.artist,
        date: concert.date,
        venue: concert.venue,
        description: concert.description ?? null,
        image_url: concert.image_url ?? null,
        max_tickets_per_ktp: concert.max_tickets_per_ktp ?? null,
        sales_open_at: concert.sales_open_at ?? null,
        sales_close_at: concert.sales_close_at ?? null,
        ...(concert.waiting_room === true ? { waiting_room: true } : {}),
        ticket_classes: classes,
        publish: true,
        now: context.occurredAt,
      }, context);
      if (concert.waiting_room === true) await this.#openWaitingRoom(concertId, concert.sales_open_at ?? null, context);
      return created(concertId, classes, written.position);
    } catch (error) {
      if (idempotencyKey === undefined || !isRefusal(error, 'CONCERT_ALREADY_SCHEDULED')) throw error;
      // The same key again: the first request's answer.
      const [first, published] = await this.store.readStream(concertStream(concertId), { maxCount: 2 });
      const scheduled = first && decode(first, concertEvents);
      if (scheduled?.type !== 'ConcertScheduled' || published === undefined) throw error;
      const { data } = scheduled;
      if (data.name !== concert.name || data.ticket_classes.length !== classes.length) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different concert');
      }
      // The first request may have failed between the two writes: open it again (a no-op if it is).
      if (data.waiting_room === true) await this.#openWaitingRoom(concertId, data.sales_open_at, context);
      return created(concertId, data.ticket_classes, published.position);
    }
  }

  /** Calls the concert off: pending holds are released at once; the reactors settle the bookings. */
  async cancel(principal: Principal, concertId: string, reason: string, request: RequestContext): Promise<{ id: string; status: 'cancelled'; position: number }> {
    const context = this.#context(principal, request);
    const written = await this.writer.submit(concertId.toLowerCase(), { type: 'CancelConcert', reason, now: context.occurredAt }, context);
    return { id: concertId.toLowerCase(), status: 'cancelled', position: written.position };
  }

  /** Edits details and prices as events; an edit that changes nothing appends nothing. */
  async change(principal: Principal, concertId: string, edit: ConcertEdit, request: RequestContext): Promise<ConcertView> {
    const id = concertId.toLowerCase();
    const context = this.#context(principal, request);
    const { ticket_classes: prices = [], ...changes } = edit;
    const written = await this.writer.submit(id, {
      type: 'ChangeConcert',
      changes,
      prices: prices.map((c) => ({ ticket_class_id: c.id.toLowerCase(), price: c.price })),
      now: context.occurredAt,
    }, context);
    const view = await this.writer.read(id, (state) => viewOf(state, written.position));
    // Named in the edit and on: the room opens, or its opening follows the sales window. Also when
    // the edit changed nothing, so repeating a PATCH heals an opening that failed the first time.
    if (view.waiting_room && (changes.waiting_room !== undefined || changes.sales_open_at !== undefined)) {
      await this.#openWaitingRoom(id, view.sales_open_at, context);
    }
    return view;
  }

  /**
   * A class by name: a new name adds it; an existing name grows that class to
   * `total_seats_in_class` seats in all (its new total, never fewer than it has, so a retried
   * request adds nothing twice).
   */
  async addTicketClass(principal: Principal, concertId: string, spec: { name: string; price: number; total_seats_in_class: number }, request: RequestContext): Promise<TicketClassGrown> {
    const id = concertId.toLowerCase();
    const context = this.#context(principal, request);
    const name = spec.name.trim();
    const written = await this.writer.submit(id, {
      type: 'AddTicketClass',
      ticket_class_id: derivedUuid('ticket-class', id, `added:${name.toLowerCase()}`),
      name,
      price: spec.price,
      seat_count: spec.total_seats_in_class,
      now: context.occurredAt,
    }, context);
    return this.writer.read(id, (state) => {
      const grown = state.classes.find((c) => c.name.toLowerCase() === name.toLowerCase());
      if (grown === undefined) throw new Error(`ticket class ${name} is missing after it was added`);
      return { concert_id: id, id: grown.id, name: grown.name, price: grown.price, total_seats_in_class: grown.seatCount, position: written.position };
    });
  }

  /**
   * Opens the concert's waiting room at its sales opening (or now). Decided by the queue: opening
   * again is a no-op, and only an opening still to come moves.
   */
  async #openWaitingRoom(concertId: string, salesOpenAt: string | null, context: CommandContext): Promise<void> {
    await this.queues.submit(concertId, { type: 'OpenWaitingRoom', concert_id: concertId, opens_at: salesOpenAt ?? context.occurredAt, now: context.occurredAt }, context);
  }

  #context(principal: Principal, request: RequestContext): CommandContext {
    return { ...request, actorId: principal.userId, occurredAt: this.now().toISOString() };
  }
}

const STATUS = { scheduled: 'scheduled', on_sale: 'active', cancelled: 'cancelled' } as const;

function viewOf(state: ConcertState, position: number): ConcertView {
  const { details, concertId } = state;
  if (details === null || concertId === null || state.status === 'unscheduled') throw new Error('an edited concert has no details');
  const classes = state.classes.map((c) => ({ id: c.id, name: c.name, price: c.price, total_seats_in_class: c.seatCount, available_seats_in_class: c.available }));
  return {
    id: concertId,
    ...details,
    status: STATUS[state.status],
    ticket_classes: classes,
    total_seats: state.seatStatus.length,
    available_seats: classes.reduce((sum, c) => sum + c.available_seats_in_class, 0),
    position,
  };
}

function created(id: string, classes: readonly { ticket_class_id: string; name: string; price: number; seat_count: number }[], position: number): ConcertCreated {
  return {
    id,
    status: 'active',
    ticket_classes: classes.map((c) => ({ id: c.ticket_class_id, name: c.name, price: c.price, total_seats_in_class: c.seat_count })),
    position,
  };
}
