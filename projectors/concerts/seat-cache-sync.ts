/**
 * Refills the Redis seat caches from the concerts tables: at start, after Redis came back (it
 * may have restarted empty), and for concerts whose keys had a gap. A refill never overwrites
 * keys that are already newer.
 */
import type { Knex } from 'knex';
import type { ConcertCacheImage, SeatCache, SeatCacheStatus } from '../../read-models/seat-cache.ts';
import type { AsRead, ConcertRow, TicketClassRow } from '../../read-models/tables.ts';
import { chunks } from '../bulk.ts';

const CONCERTS_PER_ROUND = 100;

export async function refillSeatCache(db: Knex, seatCache: SeatCache, generation: number, concertIds?: readonly string[]): Promise<number> {
  const ids = concertIds ?? (await db('concerts').orderBy('id').pluck('id') as string[]);
  let refilled = 0;
  for (const part of chunks(ids, CONCERTS_PER_ROUND)) {
    for (const image of await concertImages(db, part)) {
      await seatCache.replace(generation, image);
      refilled++;
    }
  }
  return refilled;
}

/** The concerts' cache images, read in one transaction so counts, seats and position agree. */
async function concertImages(db: Knex, concertIds: readonly string[]): Promise<ConcertCacheImage[]> {
  return db.transaction(async (trx) => {
    const concerts = await trx('concerts').whereIn('id', concertIds).select<Pick<AsRead<ConcertRow>, 'id' | 'position'>[]>('id', 'position');
    const classes = await trx('ticket_classes').whereIn('concert_id', concertIds).orderBy('sort_order')
      .select<Pick<AsRead<TicketClassRow>, 'id' | 'concert_id' | 'available_seats_in_class'>[]>('id', 'concert_id', 'available_seats_in_class');
    const seats = await trx('seats').whereIn('concert_id', concertIds).whereNot('status', 'available')
      .select<{ id: string; concert_id: string; status: SeatCacheStatus }[]>('id', 'concert_id', 'status');
    return concerts.map((concert) => ({
      concertId: concert.id,
      position: Number(concert.position),
      available: new Map(classes.filter((row) => row.concert_id === concert.id).map((row) => [row.id, Number(row.available_seats_in_class)])),
      seats: new Map(seats.filter((row) => row.concert_id === concert.id).map((row) => [row.id, row.status])),
    }));
  }, { isolationLevel: 'repeatable read' });
}
