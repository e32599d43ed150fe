/**
 * Rows of the read-model tables both sides use: the projectors write them, the query API reads
 * them. (migrations/ holds the schema; these are its TypeScript shapes.)
 */

export type ConcertStatus = 'scheduled' | 'active' | 'cancelled';
export type SeatStatus = 'available' | 'reserved' | 'booked';

/** A row of `concerts`. */
export interface ConcertRow {
  id: string;
  name: string;
  artist: string;
  date: string;
  venue: string;
  description: string | null;
  image_url: string | null;
  status: ConcertStatus;
  max_tickets_per_ktp: number | null;
  total_seats: number;
  available_seats: number;
  created_at: string;
  /** Position of the last event that changed the concert or its seats (ETag, cache guard). */
  position: number;
}

/** A row of `ticket_classes`. */
export interface TicketClassRow {
  id: string;
  concert_id: string;
  name: string;
  price: number;
  total_seats_in_class: number;
  available_seats_in_class: number;
  sort_order: number;
}
