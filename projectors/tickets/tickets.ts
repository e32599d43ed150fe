/**
 * The tickets read model, the door's: one row per sold seat with its revision, its holder (sealed),
 * and whether it was admitted (when, at which gate) or is void; and the admissions counted per
 * class and gate. Everything comes from the concert's own stream, so this projection depends on no
 * other's rows: the hold (SeatsHeld) names the seats and their holders in seat order, its sale
 * (SeatsSold) makes them tickets, a transfer seals a new holder, an admission marks the ticket, a
 * release or the concert's cancellation voids it. The buyer's forgetting clears the holders.
 */
import type { Knex } from 'knex';
import { sealedToText } from '../../lib/personal-data/sealed-text.ts';
import type { AsRead, TicketAdmissionRow, TicketHoldRow, TicketRow } from '../../read-models/tables.ts';
import { chunks, inKeyOrder, insertMany, selectIn, upsert } from '../bulk.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

const EVENT_TYPES = [
  'SeatsHeld', 'SeatsSold', 'HoldReleased', 'ConcertCancelled', 'TicketTransferred', 'TicketAdmitted', 'PersonalDataForgotten',
] as const;

interface HeldSeatJson { seat_id: string; ticket_class_id: string; seat_number: number }

interface Hold {
  readonly row: TicketHoldRow;
  /** In the table already (a sale or release deletes it), or made by this batch. */
  readonly stored: boolean;
}

export function ticketsProjection(): Projection {
  return {
    name: 'tickets',
    tables: ['tickets', 'ticket_holds', 'ticket_admissions'],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const { trx } = context;
      const events = ofTypes(batch, EVENT_TYPES);

      // What the batch touches of earlier batches: holds it sells or releases, tickets it changes.
      const heldHere = new Set(events.flatMap((event) => (event.type === 'SeatsHeld' ? [event.data.booking_id] : [])));
      const holdIds = events.flatMap((event) => ((event.type === 'SeatsSold' || event.type === 'HoldReleased') && !heldHere.has(event.data.booking_id) ? [event.data.booking_id] : []));
      const holds = new Map<string, Hold>();
      for (const row of await selectIn<TicketHoldRow>(trx, context.table('ticket_holds'), 'booking_id', holdIds)) holds.set(row.booking_id, { row, stored: true });
      // Tickets by their ids (the seats' ids, the primary key: a rebuild's shadow has no other index).
      // A released hold that is not an unsold one may have tickets: those of its seats.
      const ticketIds = events.flatMap((event) => {
        if (event.type === 'TicketTransferred' || event.type === 'TicketAdmitted') return [event.data.ticket_id];
        if (event.type === 'HoldReleased' && !heldHere.has(event.data.booking_id) && !holds.has(event.data.booking_id)) return event.data.seat_ids;
        return [];
      });
      const tickets = new Map<string, TicketRow>();
      for (const row of await selectIn<AsRead<TicketRow>>(trx, context.table('tickets'), 'id', ticketIds)) tickets.set(row.id, fromRead(row));

      const touched = new Set<string>();
      /** Tickets this batch's sales made: a seat is sold once (a sold hold is never released), so their rows cannot exist yet. */
      const sold = new Set<string>();
      const deletedHolds = new Set<string>();
      const cancelled = new Map<string, number>();
      const forgotten: string[] = [];
      const admissions = new Map<string, TicketAdmissionRow>();

      for (const event of events) {
        switch (event.type) {
          case 'SeatsHeld': {
            const { data } = event;
            const seats: HeldSeatJson[] = data.seats.map((seat) => ({ seat_id: seat.seat_id, ticket_class_id: seat.ticket_class_id, seat_number: seat.seat_number }));
            holds.set(data.booking_id, {
              stored: false,
              row: {
                booking_id: data.booking_id, concert_id: data.concert_id, user_id: data.user_id, seats: JSON.stringify(seats),
                holders: data.personal_data === null ? null : JSON.stringify(data.personal_data.ticket_holders.map(sealedToText)),
              },
            });
            break;
          }
          case 'SeatsSold': {
            const hold = holds.get(event.data.booking_id);
            if (hold === undefined) break; // a hold opens every sale
            const seats = JSON.parse(hold.row.seats) as HeldSeatJson[];
            const holders = hold.row.holders === null ? [] : JSON.parse(hold.row.holders) as (string | null)[];
            seats.forEach((seat, seq) => {
              tickets.set(seat.seat_id, {
                id: seat.seat_id, booking_id: hold.row.booking_id, concert_id: hold.row.concert_id, user_id: hold.row.user_id,
                ticket_class_id: seat.ticket_class_id, seat_number: seat.seat_number, seq, revision: 1,
                holder: holders[seq] ?? holders[0] ?? null, status: 'valid', admitted_at: null, gate: null, position: event.position,
              });
              touched.add(seat.seat_id);
              sold.add(seat.seat_id);
            });
            dropHold(hold, holds, deletedHolds);
            break;
          }
          case 'HoldReleased': {
            const hold = holds.get(event.data.booking_id);
            if (hold !== undefined) dropHold(hold, holds, deletedHolds);
            // A sold hold let go: its tickets are void (a pending one has none; a seat's ticket may be another booking's).
            for (const seatId of event.data.seat_ids) {
              const ticket = tickets.get(seatId);
              if (ticket === undefined || ticket.booking_id !== event.data.booking_id || ticket.status === 'void') continue;
              ticket.status = 'void';
              ticket.position = event.position;
              touched.add(ticket.id);
            }
            break;
          }
          case 'ConcertCancelled': {
            cancelled.set(event.data.concert_id, event.position);
            for (const ticket of tickets.values()) {
              if (ticket.concert_id !== event.data.concert_id || ticket.status === 'void') continue;
              ticket.status = 'void';
              ticket.position = event.position;
              touched.add(ticket.id);
            }
            break;
          }
          case 'TicketTransferred': {
            const ticket = tickets.get(event.data.ticket_id);
            if (ticket === undefined) break;
            ticket.revision = event.data.revision;
            ticket.holder = sealedToText(event.data.holder);
            ticket.position = event.position;
            touched.add(ticket.id);
            break;
          }
          case 'TicketAdmitted': {
            const ticket = tickets.get(event.data.ticket_id);
            if (ticket === undefined || ticket.admitted_at !== null) break;
            ticket.admitted_at = event.data.admitted_at;
            ticket.gate = event.data.gate;
            if (ticket.status === 'valid') ticket.status = 'admitted';
            ticket.position = event.position;
            touched.add(ticket.id);
            const key = JSON.stringify([ticket.concert_id, ticket.ticket_class_id, event.data.gate]);
            const count = admissions.get(key) ?? { concert_id: ticket.concert_id, ticket_class_id: ticket.ticket_class_id, gate: event.data.gate, admitted: 0 };
            count.admitted += 1;
            admissions.set(key, count);
            break;
          }
          case 'PersonalDataForgotten': {
            const userId = event.data.user_id;
            forgotten.push(userId);
            for (const ticket of tickets.values()) {
              if (ticket.user_id === userId && ticket.holder !== null) {
                ticket.holder = null;
                touched.add(ticket.id);
              }
            }
            for (const hold of holds.values()) if (hold.row.user_id === userId) hold.row.holders = null;
            break;
          }
        }
      }

      // Each table's rows in the order of its primary key (bulk.ts inKeyOrder).
      const newHolds = inKeyOrder([...holds.values()].filter((hold) => !hold.stored).map((hold) => hold.row), 'booking_id');
      const changed = [...touched].filter((id) => !sold.has(id)).sort().map((id) => tickets.get(id) as TicketRow);
      const made = [...sold].sort().map((id) => tickets.get(id) as TicketRow);
      return {
        writes: [
          // One write for the tickets table: a cancellation's bulk update and the rows of this batch must not race (a rebuild runs writes side by side).
          async (trx) => {
            await voidCancelled(trx, context.table('tickets'), cancelled);
            if (forgotten.length > 0) await trx(context.table('tickets')).whereIn('user_id', forgotten).update({ holder: null });
            await upsert(trx, context.table('tickets'), changed, ['id'], ['revision', 'holder', 'status', 'admitted_at', 'gate', 'position']);
            await insertMany(trx, context.table('tickets'), made, context.localInfile);
          },
          async (trx) => {
            const table = context.table('ticket_holds');
            for (const part of chunks([...deletedHolds], 1_000)) await trx(table).whereIn('booking_id', part).delete();
            if (cancelled.size > 0) await trx(table).whereIn('concert_id', [...cancelled.keys()]).delete();
            if (forgotten.length > 0) await trx(table).whereIn('user_id', forgotten).update({ holders: null });
            await insertMany(trx, table, newHolds, context.localInfile);
          },
          (trx) => countAdmissions(trx, context.table('ticket_admissions'), [...admissions.values()]),
        ],
      };
    },
  };
}

function fromRead(row: AsRead<TicketRow>): TicketRow {
  return { ...row, seat_number: Number(row.seat_number), seq: Number(row.seq), revision: Number(row.revision), position: Number(row.position) };
}

/** A hold sold or released is gone; one this batch made was never written. */
function dropHold(hold: Hold, holds: Map<string, Hold>, deleted: Set<string>): void {
  holds.delete(hold.row.booking_id);
  if (hold.stored) deleted.add(hold.row.booking_id);
}

async function voidCancelled(trx: Knex.Transaction, table: string, cancelled: ReadonlyMap<string, number>): Promise<void> {
  for (const [concertId, position] of cancelled) {
    await trx(table).where('concert_id', concertId).whereNot('status', 'void').update({ status: 'void', position });
  }
}

/** Adds this batch's admissions to the counts. */
async function countAdmissions(trx: Knex.Transaction, table: string, counts: readonly TicketAdmissionRow[]): Promise<void> {
  for (const count of counts) {
    await trx(table).insert(count).onConflict(['concert_id', 'ticket_class_id', 'gate'])
      .merge({ admitted: trx.raw('?? + ?', [`${table}.admitted`, count.admitted]) });
  }
}
