/**
 * The bookings read model: bookings with their seats, buyer and ticket holders. Buyer and holder
 * details stay sealed (ciphertext under the buyer's key), the buyer's email is kept only as its
 * keyed digest (the back office's search), and both are cleared when the user is forgotten. A
 * batch loads the bookings it updates once and writes each table in bulk.
 */
import type { Knex } from 'knex';
import { sealedToText } from '../../lib/personal-data/sealed-text.ts';
import type { AsRead, BookingRow, BookingSeatRow, BookingStatus, BuyerRow, TicketHolderRow } from '../../read-models/tables.ts';
import { inKeyOrder, inParts, insertMany, instant, selectIn, upsert } from '../bulk.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

interface NewBooking {
  readonly seats: BookingSeatRow[];
  readonly buyer: BuyerRow;
  readonly holders: TicketHolderRow[];
}

const STATUS_BY_EVENT: Partial<Record<ProjectedEvent['type'], BookingStatus>> = {
  BookingPaymentFailed: 'failed',
  BookingConfirmed: 'confirmed',
  BookingCancelled: 'cancelled',
  BookingExpired: 'expired',
  BookingRefundDue: 'refund_due',
};

const EVENT_TYPES = [
  'BookingPlaced', 'BookingPaymentStarted', 'BookingPaymentFailed', 'BookingConfirmed',
  'BookingCancelled', 'BookingExpired', 'BookingRefundDue', 'PersonalDataForgotten',
] as const;

export function bookingsProjection(): Projection {
  return {
    name: 'bookings',
    tables: ['bookings', 'booking_seats', 'buyers', 'ticket_holders'],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const { trx } = context;
      const events = ofTypes(batch, EVENT_TYPES);
      const placed = new Set(events.flatMap((event) => event.type === 'BookingPlaced' ? [event.data.booking_id] : []));
      const updatedIds = events.flatMap((event) => event.type === 'PersonalDataForgotten' || placed.has(event.data.booking_id) ? [] : [event.data.booking_id]);
      const bookings = new Map<string, BookingRow>();
      for (const row of await selectIn<AsRead<BookingRow>>(trx, context.table('bookings'), 'id', updatedIds)) {
        bookings.set(row.id, { ...row, total_price: Number(row.total_price), position: Number(row.position) });
      }
      const created = new Map<string, NewBooking>();
      const forgotten: string[] = [];
      const touched = new Set<string>();

      for (const event of events) {
        if (event.type === 'PersonalDataForgotten') {
          forgotten.push(event.data.user_id);
          for (const [id, booking] of created) {
            const row = bookings.get(id);
            if (row?.user_id !== event.data.user_id) continue;
            row.buyer_email_digest = null;
            booking.buyer.personal_data = null;
            for (const holder of booking.holders) holder.personal_data = null;
          }
          continue;
        }
        if (event.type === 'BookingPlaced') {
          const data = event.data;
          const at = instant(data.placed_at);
          bookings.set(data.booking_id, {
            id: data.booking_id,
            user_id: data.user_id,
            concert_id: data.concert_id,
            status: 'pending',
            total_price: data.total_price,
            expires_at: instant(data.expires_at),
            created_at: at,
            updated_at: at,
            payment_id: null,
            transaction_id: null,
            buyer_email_digest: data.buyer_email_digest ?? null,
            position: event.position,
          });
          created.set(data.booking_id, {
            seats: data.seats.map((seat, seq) => ({
              booking_id: data.booking_id, seat_id: seat.seat_id, ticket_class_id: seat.ticket_class_id,
              seat_number: seat.seat_number, price: seat.price, seq,
            })),
            buyer: { booking_id: data.booking_id, user_id: data.user_id, personal_data: sealedToText(data.buyer) },
            holders: data.ticket_holders.map((holder, seq) => ({
              booking_id: data.booking_id, seq, seat_id: data.seats[seq]?.seat_id ?? '', personal_data: sealedToText(holder),
            })),
          });
          touched.add(data.booking_id);
          continue;
        }
        const bookingId = event.data.booking_id;
        const booking = bookings.get(bookingId);
        if (booking === undefined) continue; // BookingPlaced opens every booking stream
        if (event.type === 'BookingPaymentStarted') {
          booking.payment_id = event.data.payment_id;
          booking.transaction_id = event.data.transaction_id;
        }
        booking.status = STATUS_BY_EVENT[event.type] ?? booking.status;
        booking.updated_at = instant(event.metadata.occurred_at);
        booking.position = event.position;
        touched.add(bookingId);
      }

      // Each table's rows in the order of its primary key (bulk.ts inKeyOrder).
      const freshIds = [...created.keys()].sort();
      const fresh = freshIds.map((id) => created.get(id) as NewBooking);
      // A booking placed in this batch has no row yet (BookingPlaced opens its stream): inserted, in its state at the end of the batch.
      const earlier = inKeyOrder([...touched].filter((id) => !created.has(id)).map((id) => bookings.get(id) as BookingRow), 'id');
      return {
        writes: [
          // Only rows from earlier batches: this batch's own are cleared in memory above.
          (trx) => forget(trx, context, forgotten),
          (trx) => upsert(trx, context.table('bookings'), earlier, ['id'], ['status', 'updated_at', 'payment_id', 'transaction_id', 'position']),
          ...inParts(freshIds.map((id) => bookings.get(id) as BookingRow), (trx, rows) => insertMany(trx, context.table('bookings'), rows, context.localInfile)),
          ...inParts(fresh.flatMap((booking) => inKeyOrder(booking.seats, 'seat_id')), (trx, rows) => insertMany(trx, context.table('booking_seats'), rows, context.localInfile)),
          (trx) => insertMany(trx, context.table('buyers'), fresh.map((booking) => booking.buyer), context.localInfile),
          ...inParts(fresh.flatMap((booking) => booking.holders), (trx, rows) => insertMany(trx, context.table('ticket_holders'), rows, context.localInfile)),
        ],
      };
    },
  };
}

/** Clears the sealed columns and the email digests of every booking the users made before this batch. */
async function forget(trx: Knex.Transaction, context: ApplyContext, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const buyers = context.table('buyers');
  await trx(context.table('ticket_holders'))
    .whereIn('booking_id', trx(buyers).select('booking_id').whereIn('user_id', userIds))
    .update({ personal_data: null });
  await trx(buyers).whereIn('user_id', userIds).update({ personal_data: null });
  // The digest finds an address again: it goes with the address.
  await trx(context.table('bookings')).whereIn('user_id', userIds).whereNotNull('buyer_email_digest').update({ buyer_email_digest: null });
}
