/** import:legacy's concerts: scheduled and published with their classes and seats, the old ids of each; and the seats' old statuses checked at the end. */
import { SEAT_AVAILABLE, SEAT_HELD, SEAT_SOLD, seatId, seatIndexOf } from '../../domain/concert/index.ts';
import { LEGACY_LABEL_MAX } from '../../domain/legacy/index.ts';
import { isRefusal } from '../../lib/errors.ts';
import { Refused, legacyId, type ImportRun, type TakenSeat } from './import-run.ts';
import { legacyInstant, rupiah, type LegacyConcert, type LegacySeat, type LegacyTicketClass } from './legacy-source.ts';

export async function importConcert(run: ImportRun, concert: LegacyConcert, classRows: readonly LegacyTicketClass[], seatRows: readonly LegacySeat[]): Promise<void> {
  const liveClasses = classRows.filter((c) => c.deleted_at === null);
  const liveSeats = seatRows.filter((s) => s.deleted_at === null);
  run.tally.refused('ticket_classes', 'SOFT_DELETED', classRows.length - liveClasses.length);
  run.tally.refused('seats', 'SOFT_DELETED', seatRows.length - liveSeats.length);
  const refuseAll = (reason: string, classReason = 'CONCERT_REFUSED', refusedClass?: { id: number; reason: string }): never => {
    for (const c of liveClasses) run.tally.refused('ticket_classes', c.id === refusedClass?.id ? refusedClass.reason : classReason);
    run.tally.refused('seats', 'CONCERT_REFUSED', liveSeats.length);
    throw new Refused(reason);
  };
  if (concert.deleted_at !== null) refuseAll('SOFT_DELETED');
  // pending_seat_creation / failed: the older system never finished making its seats.
  if (concert.status !== 'active') refuseAll('CONCERT_NOT_ACTIVE');
  const date = legacyInstant(concert.date);
  const scheduledAt = legacyInstant(concert.created_at) ?? date;
  if (date === null || scheduledAt === null || concert.name.trim() === '' || concert.artist.trim() === '' || concert.venue.trim() === '') refuseAll('INVALID_CONCERT');
  if (liveClasses.length === 0) refuseAll('NO_TICKET_CLASSES');
  const concertId = legacyId('concert', concert.id);
  const classes = [];
  for (const row of liveClasses) {
    const price = rupiah(row.price);
    // Rupiah are whole: an amount with cents cannot be kept exactly, and rounding would change
    // what people paid; the class (and so its concert) is refused for an operator to decide.
    if (price === null) refuseAll('TICKET_CLASS_REFUSED', 'CONCERT_REFUSED', { id: row.id, reason: 'AMOUNT_HAS_CENTS' });
    const seats = liveSeats.filter((s) => s.ticket_class_id === row.id).sort(bySeatNumber);
    const seatCount = seats.length > 0 ? seats.length : row.total_seats_in_class;
    if (seatCount < 1) refuseAll('TICKET_CLASS_REFUSED', 'CONCERT_REFUSED', { id: row.id, reason: 'NO_SEATS' });
    classes.push({ row, price: price ?? 0, seats, ticketClassId: legacyId('ticket_class', row.id), seatCount });
  }
  const strays = liveSeats.filter((s) => !liveClasses.some((c) => c.id === s.ticket_class_id));
  run.tally.refused('seats', 'NO_SUCH_TICKET_CLASS', strays.length);
  const context = run.context(scheduledAt ?? '', `concerts:${concert.id}`);
  try {
    await run.writer.submit(concertId, {
      type: 'ScheduleConcert',
      concert_id: concertId,
      name: concert.name,
      artist: concert.artist,
      date: date ?? '',
      venue: concert.venue,
      description: concert.description,
      image_url: concert.image_url,
      max_tickets_per_ktp: run.deps.maxTicketsPerKtp,
      sales_open_at: null,
      sales_close_at: null,
      ticket_classes: classes.map((c) => ({ ticket_class_id: c.ticketClassId, name: c.row.name, price: c.price, seat_count: c.seatCount })),
      publish: true,
      now: scheduledAt ?? '',
    }, context);
  } catch (error) {
    if (!isRefusal(error, 'CONCERT_ALREADY_SCHEDULED')) {
      if (isRefusal(error)) refuseAll(error.code, 'CONCERT_REFUSED');
      throw error;
    }
  }
  await run.legacyIds('concert', concert.id, [{ legacy_id: concert.id, id: concertId }], scheduledAt ?? '');
  const prices = new Map<number, number>();
  for (const c of classes) {
    await run.legacyIds('ticket_class', c.row.id, [{ legacy_id: c.row.id, id: c.ticketClassId }], scheduledAt ?? '');
    // Seats numbered 1… in natural order of their old numbers ("VIP-2" before "VIP-10"); the old
    // ids of a class go in one event, each with its old label (trimmed) where it has one of 1–64 characters.
    const ids = c.seats.map((seat, i) => {
      const label = seat.seat_number.trim();
      if (label.length < 1 || label.length > LEGACY_LABEL_MAX) run.tally.note('seats', `seat_number empty or longer than ${LEGACY_LABEL_MAX} characters: shown by boxoffice's number`);
      return { legacy_id: seat.id, id: seatId(c.ticketClassId, i + 1), ...(label.length >= 1 && label.length <= LEGACY_LABEL_MAX ? { label } : {}) };
    });
    if (ids.length > 0) await run.legacyIds('seat', c.row.id, ids, scheduledAt ?? '');
    c.seats.forEach((seat, i) => run.seats.set(seat.id, { concertLegacyId: concert.id, seatId: seatId(c.ticketClassId, i + 1), classLegacyId: c.row.id, legacyStatus: seat.status }));
    prices.set(c.row.id, c.price);
    run.tally.taken('ticket_classes');
    run.tally.taken('seats', c.seats.length);
  }
  run.concerts.set(concert.id, { concertId, prices });
}

/** Seats whose old status differs from what their bookings made of them (boxoffice follows the bookings). */
export async function seatNotes(run: ImportRun, rows: readonly LegacySeat[]): Promise<void> {
  const byConcert = new Map<string, { seat: TakenSeat }[]>();
  for (const row of rows) {
    const seat = run.seats.get(row.id);
    const concert = seat && run.concerts.get(seat.concertLegacyId);
    if (seat === undefined || concert === undefined) continue;
    byConcert.set(concert.concertId, [...(byConcert.get(concert.concertId) ?? []), { seat }]);
  }
  const names: Record<number, string> = { [SEAT_AVAILABLE]: 'available', [SEAT_HELD]: 'reserved', [SEAT_SOLD]: 'booked' };
  for (const [concertId, seats] of byConcert) {
    const statuses = await run.writer.read(concertId, (state) => seats.map(({ seat }) => names[state.seatStatus[seatIndexOf(state, seat.seatId)] ?? -1] ?? 'unknown'));
    seats.forEach(({ seat }, i) => {
      if (statuses[i] !== seat.legacyStatus) run.tally.note('seats', `${seat.legacyStatus} in the older system, ${statuses[i] ?? 'unknown'} by its bookings`);
    });
  }
}

/** Natural order of seat numbers: "A2" before "A10"; ties by old id. */
function bySeatNumber(a: LegacySeat, b: LegacySeat): number {
  const parts = (text: string) => text.trim().toUpperCase().match(/\d+|\D+/g) ?? [];
  const left = parts(a.seat_number);
  const right = parts(b.seat_number);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    return numeric ? Number(x) - Number(y) || x.localeCompare(y) : x.localeCompare(y);
  }
  return left.length - right.length || a.id - b.id;
}
