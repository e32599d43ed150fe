/** Admin work on concerts: scheduling one (on sale at once) and calling one off. */
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../domain/index.ts';
import { concertEvents, concertStream } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { AppError, isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { ConcertWriter } from './concert-writer.ts';

export interface NewConcert {
  readonly name: string;
  readonly artist: string;
  readonly date: string;
  readonly venue: string;
  readonly description?: string | undefined;
  readonly image_url?: string | undefined;
  readonly max_tickets_per_ktp?: number | undefined;
  readonly ticket_classes: readonly { readonly name: string; readonly price: number; readonly total_seats_in_class: number }[];
}

export interface ConcertCreated {
  readonly id: string;
  readonly status: 'active';
  readonly ticket_classes: { readonly id: string; readonly name: string; readonly price: number; readonly total_seats_in_class: number }[];
  readonly position: number;
}

export class ConcertService {
  constructor(private readonly store: EventStore, private readonly writer: ConcertWriter, private readonly now: () => Date) {}

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
        sales_open_at: null,
        sales_close_at: null,
        ticket_classes: classes,
        publish: true,
        now: context.occurredAt,
      }, context);
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
      return created(concertId, data.ticket_classes, published.position);
    }
  }

  /** Calls the concert off: pending holds are released at once; the reactors settle the bookings. */
  async cancel(principal: Principal, concertId: string, reason: string, request: RequestContext): Promise<{ id: string; status: 'cancelled'; position: number }> {
    const context = this.#context(principal, request);
    const written = await this.writer.submit(concertId.toLowerCase(), { type: 'CancelConcert', reason, now: context.occurredAt }, context);
    return { id: concertId.toLowerCase(), status: 'cancelled', position: written.position };
  }

  #context(principal: Principal, request: RequestContext): CommandContext {
    return { ...request, actorId: principal.userId, occurredAt: this.now().toISOString() };
  }
}

function created(id: string, classes: readonly { ticket_class_id: string; name: string; price: number; seat_count: number }[], position: number): ConcertCreated {
  return {
    id,
    status: 'active',
    ticket_classes: classes.map((c) => ({ id: c.ticket_class_id, name: c.name, price: c.price, total_seats_in_class: c.seat_count })),
    position,
  };
}
