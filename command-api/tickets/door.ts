/**
 * The door: check-in and transfers. Both are decisions of the concert's own stream, made by its
 * batching writer: every scan of a ticket, from any gate on any instance, is decided against the
 * admissions before it, so a ticket gets in once. A gate that was offline uploads its scans later;
 * they are decided earliest first.
 */
import { DomainError, parseInstant, type CommandContext, type Sealed } from '../../domain/index.ts';
import { bookingStream } from '../../domain/booking/index.ts';
import { classOfSeat, parseSeatId, seatIndexOf, type ConcertEvent, type TicketAdmitted } from '../../domain/concert/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import type { KtpFingerprints } from '../../lib/personal-data/fingerprint.ts';
import type { PersonalData } from '../../lib/personal-data/personal-data.ts';
import type { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import { ticketView, type TicketView } from '../../lib/tickets/ticket-view.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { ReactorStore } from '../reactors/reactor-store.ts';

export interface DoorDeps {
  readonly store: EventStore;
  readonly writer: ConcertWriter;
  readonly codes: TicketCodes;
  readonly personalData: PersonalData;
  readonly ktp: KtpFingerprints;
  readonly reactors: ReactorStore;
  readonly now: () => Date;
}

export interface AdmittedTicket {
  readonly id: string;
  readonly seat_number: number;
  readonly ticket_class_name: string;
  readonly holder_name: string | null;
  readonly holder_ktp_last4: string | null;
}

export interface Scan {
  readonly qr: string;
  readonly gate: string;
  readonly scanned_at: string;
}

export type ScanResult =
  | { readonly result: 'admitted'; readonly ticket: AdmittedTicket; readonly position: number }
  | { readonly result: 'refused'; readonly code: string; readonly detail: string; readonly admitted_at?: string; readonly gate?: string };

interface Holder { readonly full_name: string; readonly ktp_number: string }

const bookingPlaced = eventsOf('BookingPlaced');

/** The one event an admitted scan decides. */
function admission(events: readonly ConcertEvent[]): TicketAdmitted {
  const [event] = events;
  if (event?.type !== 'TicketAdmitted') throw new Error('an admission decided no TicketAdmitted');
  return event;
}

export class Door {
  constructor(private readonly deps: DoorDeps) {}

  /** One scan at a gate that is online: admitted, or refused with the reason (`ALREADY_ADMITTED` says when and where). */
  async checkin(qr: string, where: { gate: string; concertId?: string | undefined }, principal: Principal, request: RequestContext): Promise<{ ticket: AdmittedTicket; position: number }> {
    const claims = this.deps.codes.verify(qr);
    if (where.concertId !== undefined && claims.c !== where.concertId.toLowerCase()) {
      throw new DomainError('WRONG_CONCERT', 'this ticket is for another concert');
    }
    const now = this.deps.now().toISOString();
    const context = this.#context(request, principal, now);
    const written = await this.deps.writer.submit(claims.c, {
      type: 'AdmitTicket', ticket_id: claims.t, revision: claims.r, gate: where.gate, scanned_at: now, now,
    }, context);
    return { ticket: await this.#admitted(admission(written.events)), position: written.position };
  }

  /**
   * Scans a gate made while offline, uploaded together: decided earliest scan first, so of two
   * scans of one ticket the earlier gets in and the later is `ALREADY_ADMITTED`. One result per
   * scan, in the order given, and the batch's `position`: that of the last admission it appended;
   * when it appended none, as a repeated command, the position its refusals stand on (the largest
   * of the concerts its tickets name, which covers the admissions that refused them), 0 when it
   * named no ticket at all.
   */
  async checkinBatch(scans: readonly Scan[], principal: Principal, request: RequestContext): Promise<{ results: ScanResult[]; position: number }> {
    const now = this.deps.now().toISOString();
    const context = this.#context(request, principal, now);
    const at = (scan: Scan): number => parseInstant(scan.scanned_at) ?? 0;
    const order = scans.map((scan, index) => ({ scan, index })).sort((a, b) => at(a.scan) - at(b.scan) || a.index - b.index);
    const concerts = new Set<string>();
    // Submitted in that order without waiting in between: the writer decides them in the order they arrived.
    const decided = order.map(({ scan, index }) => {
      let claims;
      try {
        claims = this.deps.codes.verify(scan.qr);
      } catch (error) {
        return { index, outcome: Promise.reject(error instanceof Error ? error : new Error(String(error))) };
      }
      concerts.add(claims.c);
      const outcome = this.deps.writer.submit(claims.c, {
        type: 'AdmitTicket', ticket_id: claims.t, revision: claims.r, gate: scan.gate, scanned_at: new Date(at(scan)).toISOString(), now,
      }, context);
      return { index, outcome };
    });
    const results: ScanResult[] = new Array<ScanResult>(scans.length);
    await Promise.all(decided.map(async ({ index, outcome }) => {
      try {
        const written = await outcome;
        results[index] = { result: 'admitted', ticket: await this.#admitted(admission(written.events)), position: written.position };
      } catch (error) {
        if (!isRefusal(error)) throw error;
        const details = error instanceof DomainError ? error.details : {};
        results[index] = {
          result: 'refused',
          code: error.code,
          detail: error.message,
          ...(typeof details.admitted_at === 'string' ? { admitted_at: details.admitted_at } : {}),
          ...(typeof details.gate === 'string' ? { gate: details.gate } : {}),
        };
      }
    }));
    const appended = results.flatMap((result) => (result.result === 'admitted' ? [result.position] : []));
    if (appended.length > 0) return { results, position: Math.max(...appended) };
    const standing = await Promise.all([...concerts].map((concertId) => this.deps.writer.read(concertId, (_state, position) => position)));
    return { results, position: Math.max(0, ...standing) };
  }

  /** The buyer gives a ticket to someone else before the concert: its revision goes up and only the new QR code gets in. */
  async transfer(principal: Principal, ticketId: string, holder: Holder, request: RequestContext): Promise<TicketView & { position: number }> {
    // The instance that sold it has the concert in memory; any other finds it in the reactor's index of sales.
    const concertId = this.deps.writer.concertOfSeat(ticketId.toLowerCase()) ?? await this.deps.reactors.concertOfTicket(ticketId.toLowerCase());
    if (concertId === null) throw new DomainError('TICKET_NOT_FOUND', 'no such ticket');
    const now = this.deps.now().toISOString();
    const written = await this.deps.writer.submit(concertId, {
      type: 'TransferTicket',
      ticket_id: ticketId.toLowerCase(),
      user_id: principal.userId,
      holder: await this.deps.personalData.seal(principal.userId, holder),
      ktp_fingerprint: this.deps.ktp.of(holder.ktp_number),
      now,
    }, this.#context(request, principal, now));
    const [event] = written.events;
    if (event?.type !== 'TicketTransferred') throw new Error('a transfer decided no TicketTransferred');
    const { className, seatNumber } = await this.#seat(concertId, event.data.ticket_id);
    return {
      ...ticketView(this.deps.codes, {
        id: event.data.ticket_id,
        bookingId: event.data.booking_id,
        concertId,
        seatNumber,
        ticketClassName: className,
        holder,
        status: 'valid',
        revision: event.data.revision,
      }),
      position: written.position,
    };
  }

  async #admitted(event: TicketAdmitted): Promise<AdmittedTicket> {
    const { concert_id: concertId, ticket_id: ticketId, booking_id: bookingId } = event.data;
    const { className, seatNumber, holder, place } = await this.#seat(concertId, ticketId);
    const opened = await this.deps.personalData.open<Holder>(holder ?? await this.#bookedHolder(bookingId, place));
    return {
      id: ticketId,
      seat_number: seatNumber,
      ticket_class_name: className,
      holder_name: opened?.full_name ?? null,
      holder_ktp_last4: opened === null ? null : opened.ktp_number.slice(-4),
    };
  }

  /** What the concert's state knows of a ticket: its class, seat number, its sealed holder and its place in the booking. */
  async #seat(concertId: string, ticketId: string): Promise<{ className: string; seatNumber: number; holder: Sealed | null; place: number }> {
    return this.deps.writer.read(concertId, (state) => {
      const index = seatIndexOf(state, ticketId);
      const ticket = state.tickets.get(index);
      const hold = ticket && state.holds.get(ticket.bookingId);
      return {
        className: classOfSeat(state, index).name,
        seatNumber: parseSeatId(ticketId)?.seatNumber ?? 0,
        holder: ticket?.holder ?? null,
        place: hold?.seatIndexes.indexOf(index) ?? 0,
      };
    });
  }

  /** The holder the booking named for the seat at `place`, sealed. */
  async #bookedHolder(bookingId: string, place: number): Promise<Sealed> {
    const [first] = await this.deps.store.readStream(bookingStream(bookingId), { maxCount: 1 });
    if (first === undefined) throw new Error(`booking ${bookingId} has no stream`);
    const placed = decode(first, bookingPlaced);
    const holder = placed.data.ticket_holders[place] ?? placed.data.ticket_holders[0];
    if (holder === undefined) throw new Error(`booking ${bookingId} names no holder`);
    return holder;
  }

  #context(request: RequestContext, principal: Principal, now: string): CommandContext {
    return { ...request, actorId: principal.userId, occurredAt: now };
  }
}
