import type {
  ConcertEvent,
  HoldSeats,
  ReleaseHold,
  ScheduleConcert,
  SeatsHeld,
  SellSeats,
} from '../../domain/concert/index.ts';
import { seatId } from '../../domain/concert/index.ts';
import { concertDecider } from '../../domain/concert/index.ts';

export const CONCERT = 'a7c1f3de-0000-4000-8000-000000000001';
export const VIP = '0b9a2c1e-5d4f-4a3b-9c8d-7e6f5a4b3c2d';
export const REGULAR = '7f3e2d1c-0b9a-4876-a543-210fedcba987';
export const T0 = '2026-12-01T10:00:00.000Z';
export const minutesAfter = (iso: string, minutes: number): string =>
  new Date(Date.parse(iso) + minutes * 60_000).toISOString();
export const HOLD_END = minutesAfter(T0, 15);

export const vipSeat = (n: number): string => seatId(VIP, n);
export const regularSeat = (n: number): string => seatId(REGULAR, n);

export function scheduleConcert(overrides: Partial<ScheduleConcert> = {}): ScheduleConcert {
  return {
    type: 'ScheduleConcert',
    concert_id: CONCERT,
    name: 'Senandung Senja',
    artist: 'Nadin Amizah',
    date: '2027-02-14T12:00:00.000Z',
    venue: 'Istora Senayan',
    description: null,
    image_url: null,
    max_tickets_per_ktp: null,
    sales_open_at: null,
    sales_close_at: null,
    ticket_classes: [
      { ticket_class_id: VIP, name: 'VIP', price: 1_500_000, seat_count: 3 },
      { ticket_class_id: REGULAR, name: 'Regular', price: 500_000, seat_count: 10 },
    ],
    publish: true,
    now: T0,
    ...overrides,
  };
}

/** The history of a concert that is on sale: scheduled and published in one decision. */
export function onSale(overrides: Partial<ScheduleConcert> = {}): ConcertEvent[] {
  return concertDecider.decide(scheduleConcert(overrides), concertDecider.initialState());
}

export function holdByClass(
  booking: string,
  user: string,
  tickets: { ticket_class_id: string; quantity: number }[],
  overrides: Partial<HoldSeats> = {},
): HoldSeats {
  const count = tickets.reduce((sum, t) => sum + t.quantity, 0);
  return {
    type: 'HoldSeats',
    booking_id: booking,
    user_id: user,
    selection: { by: 'class', tickets },
    ktp_fingerprints: Array.from({ length: count }, () => `ktp-of-${user}`),
    personal_data: null,
    expires_at: HOLD_END,
    now: T0,
    ...overrides,
  };
}

export function holdBySeat(booking: string, user: string, seatIds: string[], overrides: Partial<HoldSeats> = {}): HoldSeats {
  return {
    type: 'HoldSeats',
    booking_id: booking,
    user_id: user,
    selection: { by: 'seat', seat_ids: seatIds },
    ktp_fingerprints: seatIds.map(() => `ktp-of-${user}`),
    personal_data: null,
    expires_at: HOLD_END,
    now: T0,
    ...overrides,
  };
}

/** The SeatsHeld event the decider gives for a hold on a concert that is on sale with `history`. */
export function held(command: HoldSeats, history: ConcertEvent[] = onSale()): SeatsHeld {
  let state = concertDecider.initialState();
  for (const event of history) state = concertDecider.evolve(state, event);
  const [event] = concertDecider.decide(command, state);
  if (event?.type !== 'SeatsHeld') throw new Error('fixture: the hold was refused');
  return event;
}

export function release(booking: string, reason: ReleaseHold['reason'], now = T0): ReleaseHold {
  return { type: 'ReleaseHold', booking_id: booking, reason, now };
}

export function sell(booking: string, transaction = 'tx-1', now = minutesAfter(T0, 5)): SellSeats {
  return { type: 'SellSeats', booking_id: booking, transaction_id: transaction, now };
}
