/**
 * The older system's answers: its field names, integer ids, statuses and vocabulary, made from
 * the read models' views. Money stays whole rupiah (the older decimals had no cents in practice:
 * a JSON number either way).
 */
import Type, { type Static } from 'typebox';
import type { Profile } from '../command-api/users/users.ts';
import type { BookingView, PaymentView } from '../query-api/bookings/booking-reads.ts';
import type { ConcertView, SeatView } from '../query-api/concerts/concert-reads.ts';
import type { LegacySeatNumber } from './legacy-ids.ts';
import { legacyList } from './http.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const LegacyId = Type.Integer({ minimum: 1 });

export const ErrorBody = Type.Object({ error: Type.String() });

/** An integer id in a path: digits only (no sign, fraction or exponent), at most 15 of them. */
export const LegacyIdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'an integer id' }) });
export const MessageBody = Type.Object({ message: Type.String() });

export const LegacyProfile = Type.Object({
  id: LegacyId,
  username: Type.String(),
  email: Nullable(Type.String()),
  role: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  last_login: Nullable(Type.String()),
});
export type LegacyProfile = Static<typeof LegacyProfile>;

/** The older roles were `user` and `admin`; door staff keep their name. */
export function legacyProfile(profile: Profile, id: number): LegacyProfile {
  return {
    id,
    username: profile.username,
    email: profile.email,
    role: profile.role === 'customer' ? 'user' : profile.role,
    created_at: profile.created_at,
    updated_at: profile.last_login ?? profile.created_at,
    last_login: profile.last_login,
  };
}

export const LegacyTicketClass = Type.Object({
  id: LegacyId,
  concert_id: LegacyId,
  name: Type.String(),
  price: Type.Number(),
  total_seats_in_class: Type.Integer(),
  available_seats_in_class: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const LegacyConcert = Type.Object({
  id: LegacyId,
  name: Type.String(),
  artist: Type.String(),
  date: Type.String(),
  date_iso: Type.String(),
  venue: Type.String(),
  total_seats: Type.Integer(),
  available_seats: Type.Integer(),
  description: Type.String(),
  status: Type.String(),
  image_url: Type.String(),
  ticket_classes: Type.Array(LegacyTicketClass),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type LegacyConcert = Static<typeof LegacyConcert>;

/**
 * The older concert statuses: `active` is on sale; a concert not yet on sale was still being
 * set up (`pending_seat_creation`); a cancelled one keeps its own word (the dashboard shows only
 * `active`).
 */
const CONCERT_STATUS = { active: 'active', scheduled: 'pending_seat_creation', cancelled: 'cancelled' } as const;

export interface ConcertNumbers {
  readonly concerts: ReadonlyMap<string, number>;
  readonly classes: ReadonlyMap<string, number>;
}

/** Undefined while the concert or one of its classes has no number yet (left out of lists). */
export function legacyConcert(concert: ConcertView, createdAt: string, numbers: ConcertNumbers): LegacyConcert | undefined {
  const id = numbers.concerts.get(concert.id);
  if (id === undefined) return undefined;
  const classes = concert.ticket_classes.map((c) => {
    const classId = numbers.classes.get(c.id);
    return classId === undefined ? undefined : {
      id: classId, concert_id: id, name: c.name, price: c.price, total_seats_in_class: c.total_seats_in_class,
      available_seats_in_class: c.available_seats_in_class, created_at: createdAt, updated_at: createdAt,
    };
  });
  if (classes.some((c) => c === undefined)) return undefined;
  return {
    id,
    name: concert.name,
    artist: concert.artist,
    date: concert.date,
    date_iso: concert.date,
    venue: concert.venue,
    total_seats: concert.total_seats,
    available_seats: concert.available_seats,
    description: concert.description ?? '',
    status: CONCERT_STATUS[concert.status],
    image_url: concert.image_url ?? '',
    ticket_classes: classes.filter((c) => c !== undefined),
    created_at: createdAt,
    updated_at: createdAt,
  };
}

export const LegacySeat = Type.Object({
  id: LegacyId,
  seat_number: Type.String(),
  status: Type.String(),
  concert_id: LegacyId,
  ticket_class_id: LegacyId,
  ticket_class_name: Type.String(),
});
export type LegacySeat = Static<typeof LegacySeat>;

/** A seat in the older shape: its old label as `seat_number` where the importer kept one, else boxoffice's number. */
export function legacySeat(seat: SeatView & { ticket_class_name: string | null }, ids: { seat: LegacySeatNumber; concert: number; ticketClass: number }): LegacySeat {
  return {
    id: ids.seat.number,
    seat_number: ids.seat.label ?? String(seat.seat_number),
    status: seat.status,
    concert_id: ids.concert,
    ticket_class_id: ids.ticketClass,
    ticket_class_name: seat.ticket_class_name ?? '',
  };
}

const Buyer = Type.Object({ id: LegacyId, booking_id: Type.String(), full_name: Type.String(), phone_number: Type.String(), email: Type.String(), ktp_number: Type.String() });
const Holder = Type.Object({ id: LegacyId, booking_id: Type.String(), full_name: Type.String(), ktp_number: Type.String() });

export const LegacyBooking = Type.Object({
  id: Type.String(),
  user_id: LegacyId,
  concert_id: LegacyId,
  total_price: Type.Number(),
  status: Type.String(),
  payment_id: Nullable(LegacyId),
  expires_at: Nullable(Type.String()),
  booked_seats: Nullable(Type.Array(LegacySeat)),
  concert_name: Type.String(),
  concert_date: Type.String(),
  buyer_info: Nullable(Buyer),
  ticket_holder_info: Nullable(Holder),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type LegacyBooking = Static<typeof LegacyBooking>;

/**
 * The older booking statuses: pending, confirmed, cancelled, failed. An expired hold was a
 * cancelled booking there; one owed a refund (paid too late, or the concert called off) is not
 * a booking anyone holds seats by any more: cancelled too.
 */
const BOOKING_STATUS = { pending: 'pending', confirmed: 'confirmed', cancelled: 'cancelled', expired: 'cancelled', failed: 'failed', refund_due: 'cancelled' } as const;

export interface BookingNumbers {
  readonly user: number;
  readonly concert: number;
  readonly payment: number | null;
  readonly classes: ReadonlyMap<string, number>;
  readonly seats: ReadonlyMap<string, LegacySeatNumber>;
}

/**
 * The older booking: its seats as `booked_seats`, one buyer and at most one ticket holder (the
 * first holder who is not the buyer; none when the buyer holds every ticket). Buyers and holders
 * have no numbers of their own in boxoffice: the buyer is shown with the user's number, a holder
 * with its seat's. KTP numbers stay masked, as on the main API.
 */
export function legacyBooking(booking: BookingView, numbers: BookingNumbers): LegacyBooking {
  const seats = booking.seats.map((seat) => legacySeat({ ...seat, status: seatStatusOf(booking) }, {
    seat: numbers.seats.get(seat.id) ?? { number: 0, label: null },
    concert: numbers.concert,
    ticketClass: numbers.classes.get(seat.ticket_class_id) ?? 0,
  }));
  const buyer = booking.buyer_info;
  const holderAt = booking.ticket_holder_info.findIndex((holder) => buyer === null || holder.full_name !== buyer.full_name || holder.ktp_number !== buyer.ktp_number);
  const holder = holderAt < 0 ? undefined : booking.ticket_holder_info[holderAt];
  return {
    id: booking.id,
    user_id: numbers.user,
    concert_id: numbers.concert,
    total_price: booking.total_price,
    status: BOOKING_STATUS[booking.status],
    payment_id: numbers.payment,
    expires_at: booking.expires_at,
    booked_seats: legacyList(seats),
    concert_name: booking.concert_name ?? '',
    concert_date: booking.concert_date ?? '',
    buyer_info: buyer === null ? null : { id: numbers.user, booking_id: booking.id, ...buyer },
    ticket_holder_info: holder === undefined ? null : { id: seats[holderAt]?.id ?? numbers.user, booking_id: booking.id, ...holder },
    created_at: booking.created_at,
    updated_at: booking.created_at,
  };
}

/** A booking's seats as the older seat map said: held while pending, sold once confirmed, free otherwise. */
function seatStatusOf(booking: BookingView): SeatView['status'] {
  return booking.status === 'pending' ? 'reserved' : booking.status === 'confirmed' ? 'booked' : 'available';
}

export const LegacyPayment = Type.Object({
  id: LegacyId,
  booking_id: Type.String(),
  amount: Type.Number(),
  payment_method: Type.String(),
  transaction_id: Type.String(),
  status: Type.String(),
  checkout_url: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type LegacyPayment = Static<typeof LegacyPayment>;

/** Our payment methods in the older words, and back. */
export const LEGACY_METHOD = { card: 'credit_card', bank_transfer: 'bank_transfer', virtual_account: 'virtual_account', e_wallet: 'e_wallet' } as const;

/**
 * The older payment statuses: pending, completed, failed, refunded. Money received and owed back
 * but not yet paid back is still completed there.
 */
const PAYMENT_STATUS = {
  pending: 'pending', succeeded: 'completed', failed: 'failed', refund_due: 'completed', refunding: 'completed', refund_failed: 'completed', refunded: 'refunded',
} as const;

export function legacyPayment(payment: Omit<PaymentView, 'user_id'> & { updated_at?: string }, id: number): LegacyPayment {
  return {
    id,
    booking_id: payment.booking_id,
    amount: payment.amount,
    payment_method: LEGACY_METHOD[payment.payment_method as keyof typeof LEGACY_METHOD] ?? payment.payment_method,
    transaction_id: payment.transaction_id,
    status: PAYMENT_STATUS[payment.status],
    checkout_url: payment.checkout_url,
    created_at: payment.created_at,
    updated_at: payment.updated_at ?? payment.created_at,
  };
}
