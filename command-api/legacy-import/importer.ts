/**
 * `import:legacy`: the older system's databases become boxoffice history, decided by boxoffice's
 * own deciders through the same command path as a request (CommandHandler, the concert writer,
 * the payments service's settling), never written into a read model.
 *
 * Exactly once: every id is derived from the old one (`derivedUuid('legacy', kind, id)`;
 * bookings keep their UUIDs), every step first looks at what its stream already holds and is
 * refused as "already done" by the deciders otherwise, and the rows are taken in one fixed order.
 * A second run appends nothing; a run killed anywhere resumes to what one clean run makes.
 *
 * Times are the older system's own (a booking is held at its created_at, paid at its payment's
 * updated_at), so history keeps its dates and two runs decide the same thing.
 *
 * The parts: users.ts, concerts.ts, bookings.ts (bookings and their payments), import-run.ts
 * (what a run shares), units.ts (each row's writes as one unit of work).
 */
import { concertStream } from '../../domain/concert/index.ts';
import type { LegacyBooking, LegacyData } from './legacy-source.ts';
import { eachConcurrently } from '../../lib/each-concurrently.ts';
import { importBooking, openPayment, placedAfter, paymentStreams, settlePayment } from './bookings.ts';
import { importConcert, seatNotes } from './concerts.ts';
import { ImportRun, Refused, UNKNOWN_PAYER, type LegacyImportDeps } from './import-run.ts';
import type { ReconciliationReport } from './reconciliation.ts';
import { duplicateUsers, importUser, userStreams } from './users.ts';

export { legacyId, UNKNOWN_PAYER, type ImportProgress, type LegacyImportDeps } from './import-run.ts';

export class LegacyImporter {
  readonly #run: ImportRun;

  constructor(deps: LegacyImportDeps) {
    this.#run = new ImportRun(deps);
  }

  async run(data: LegacyData): Promise<ReconciliationReport> {
    const run = this.#run;
    const byBooking = <T extends { booking_id: string | null }>(rows: readonly T[]): Map<string, T[]> => {
      const map = new Map<string, T[]>();
      for (const row of rows) if (row.booking_id !== null) map.set(row.booking_id.toLowerCase(), [...(map.get(row.booking_id.toLowerCase()) ?? []), row]);
      return map;
    };
    for (const [table, rows] of [
      ['users', data.users], ['concerts', data.concerts], ['ticket_classes', data.ticketClasses], ['seats', data.seats],
      ['bookings', data.bookings], ['booking_seats', data.bookingSeats], ['buyers', data.buyers], ['ticket_holders', data.ticketHolders],
      ['payments', data.payments],
    ] as const) run.tally.read(table, rows.length);
    run.total = data.users.length + data.concerts.length + data.bookings.length + data.payments.length;

    run.phase('users');
    // Users are independent once the import's own duplicates are settled (the first row by id
    // keeps a name or an address), so they are taken several at a time, a run of them per unit.
    const duplicates = duplicateUsers(data.users);
    await run.commands.learnAbsent(data.users.flatMap((user) => userStreams(run, user)));
    const userRuns = Array.from({ length: Math.ceil(data.users.length / USERS_PER_UNIT) }, (_, i) => data.users.slice(i * USERS_PER_UNIT, (i + 1) * USERS_PER_UNIT));
    await eachConcurrently(userRuns, LANES, (users) => run.commands.inUnit(async () => {
      for (const user of users) {
        await run.row('users', () => {
          const taken = duplicates.get(user.id);
          if (taken !== undefined) throw new Refused(taken);
          return importUser(run, user);
        });
      }
    }));

    run.phase('concerts');
    for (const concert of data.concerts) {
      await run.row('concerts', () => importConcert(run, concert, data.ticketClasses.filter((c) => c.concert_id === concert.id), data.seats.filter((s) => s.concert_id === concert.id)));
    }

    run.phase('bookings');
    const seatsOf = byBooking(data.bookingSeats);
    const buyersOf = byBooking(data.buyers);
    const holdersOf = byBooking(data.ticketHolders);
    const paymentsOf = byBooking(data.payments);
    const settledPayments = new Set<number>();
    // Each concert's bookings are decided one after another in import order (the order decides the
    // seats and the per-KTP limit); concerts are independent inventories and go side by side.
    const lanes = new Map<number, LegacyBooking[]>();
    for (const booking of data.bookings) lanes.set(booking.concert_id, [...(lanes.get(booking.concert_id) ?? []), booking]);
    await eachConcurrently([...lanes.values()], CONCERT_LANES, async (bookings) => {
      const laterPlaced = await placedAfter(run, bookings);
      await run.commands.learnAbsent(bookings.flatMap((booking) => (paymentsOf.get(booking.id.toLowerCase()) ?? []).flatMap(paymentStreams)));
      // A run of consecutive bookings is one unit with its concert's stream: their holds, sales and
      // releases, bookings, payments and old ids are written together, at once or not at all.
      const concert = run.concerts.get(bookings[0]?.concert_id ?? -1);
      const claims = concert === undefined ? [] : [concertStream(concert.concertId)];
      for (let from = 0; from < bookings.length; from += BOOKINGS_PER_UNIT) {
        await run.commands.inUnit(async () => {
          for (let index = from; index < Math.min(from + BOOKINGS_PER_UNIT, bookings.length); index++) {
            const booking = bookings[index] as LegacyBooking;
            const key = booking.id.toLowerCase();
            const bookingSeats = seatsOf.get(key) ?? [];
            const buyers = buyersOf.get(key) ?? [];
            const holders = holdersOf.get(key) ?? [];
            const payments = paymentsOf.get(key) ?? [];
            const seatIds = bookingSeats.filter((s) => s.deleted_at === null).map((s) => s.seat_id);
            const taken = await run.row('bookings', () => importBooking(run, booking, seatIds, buyers, holders, payments, settledPayments, laterPlaced[index] ?? null));
            const reason = taken ? null : 'BOOKING_REFUSED';
            run.children('booking_seats', bookingSeats, reason);
            run.children('buyers', buyers, reason);
            run.children('ticket_holders', holders, reason);
          }
        }, claims);
      }
    });
    // Every booking row's children are counted above; rows of bookings that do not exist are not.
    const known = new Set(data.bookings.map((b) => b.id.toLowerCase()));
    for (const [key, rows] of seatsOf) if (!known.has(key)) run.tally.refused('booking_seats', 'NO_SUCH_BOOKING', rows.length);
    for (const [key, rows] of buyersOf) if (!known.has(key)) run.tally.refused('buyers', 'NO_SUCH_BOOKING', rows.length);
    for (const [key, rows] of holdersOf) if (!known.has(key)) run.tally.refused('ticket_holders', 'NO_SUCH_BOOKING', rows.length);

    run.phase('payments');
    const bookingById = new Map(data.bookings.map((b) => [b.id.toLowerCase(), b]));
    for (const payment of data.payments) {
      if (settledPayments.has(payment.id)) continue;
      const booking = payment.booking_id === null ? undefined : bookingById.get(payment.booking_id.toLowerCase());
      await run.commands.inUnit(() => run.row('payments', async () => {
        const opened = await openPayment(run, payment, null, booking === undefined ? UNKNOWN_PAYER : (run.users.get(booking.user_id) ?? UNKNOWN_PAYER));
        await settlePayment(run, payment, opened);
      }));
    }
    await seatNotes(run, data.seats);
    run.phase('done');
    await run.writer.drain();
    return run.tally.report(run.deps.dryRun, run.store.appended);
  }
}

/** Runs of users worked on at once. */
const LANES = 8;
/** Users written together (one atomic append of their claims, users and old ids). */
const USERS_PER_UNIT = 25;
/** Concerts whose bookings are worked on at once (each concert's one after another). */
const CONCERT_LANES = 16;
/** Bookings of a concert written together (one atomic append of every stream they touched). */
const BOOKINGS_PER_UNIT = 50;
