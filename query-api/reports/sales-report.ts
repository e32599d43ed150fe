/**
 * A concert's sales report, per ticket class and in total, aggregated in SQL from four read
 * models in one snapshot (one transaction), with the position each of them had reached:
 * - concerts: capacity (the class's seats), and each seat's status: sold (booked), held
 *   (reserved) or available;
 * - bookings: revenue, the seat prices of the confirmed bookings (a booking's total is the sum of
 *   its seats' prices, so the class's share of it is its seats' prices);
 * - payments: the money owed back (refund_due, refunding, refund_failed) and paid back (refunded),
 *   split over the classes the same way: a payment's amount is its booking's total;
 * - tickets: the tickets admitted at the door.
 * The route (query-api/routes/admin-reports.ts) and `boxoffice report:sales` both read it here.
 */
import { stringify } from 'csv-stringify/sync';
import type { Knex } from 'knex';
import { checkpointPositionsQuery } from '../../read-models/checkpoints.ts';
import type { RefundStatus, SeatStatus } from '../../read-models/tables.ts';

/** The read models the report reads, whose positions it names. */
export const REPORT_PROJECTIONS = ['concerts', 'bookings', 'payments', 'tickets'] as const;
export type ReportProjection = (typeof REPORT_PROJECTIONS)[number];

export interface SalesFigures {
  capacity: number;
  sold: number;
  held: number;
  available: number;
  /** Rupiah. */
  revenue: number;
  refunds_due: number;
  refunds_paid: number;
  admitted: number;
}

export interface ClassSales extends SalesFigures {
  id: string;
  name: string;
  /** The class's current price (rupiah). */
  price: number;
}

export interface SalesReport {
  concert: { id: string; name: string };
  /** The position each read model had reached in the snapshot the figures come from. */
  positions: Record<ReportProjection, number>;
  ticket_classes: ClassSales[];
  total: SalesFigures;
}

const OWED: readonly RefundStatus[] = ['refund_due', 'refunding', 'refund_failed'];
const PAID: RefundStatus = 'refunded';
const SEAT_FIGURE: Record<SeatStatus, 'sold' | 'held' | 'available'> = { booked: 'sold', reserved: 'held', available: 'available' };
const FIGURES = ['capacity', 'sold', 'held', 'available', 'revenue', 'refunds_due', 'refunds_paid', 'admitted'] as const;

type Sum = number | string | null;

/** The report's aggregates, each one statement (exported so a spec can EXPLAIN them). */
export function salesQueries(db: Knex, concertId: string) {
  return {
    classes: db('ticket_classes').where({ concert_id: concertId }).orderBy([{ column: 'sort_order' }, { column: 'id' }])
      .select<{ id: string; name: string; price: number | string; total_seats_in_class: number | string }[]>('id', 'name', 'price', 'total_seats_in_class'),
    // seats_concert_class_status_index answers this alone.
    seats: db('seats').where({ concert_id: concertId }).groupBy('ticket_class_id', 'status')
      .select<{ ticket_class_id: string; status: SeatStatus; seats: Sum }[]>('ticket_class_id', 'status', db.raw('count(*) as seats')),
    // The confirmed bookings by bookings_concert_status_index, their seats by booking_seats' key.
    revenue: db('bookings as b').join('booking_seats as bs', 'bs.booking_id', 'b.id')
      .where('b.concert_id', concertId).andWhere('b.status', 'confirmed').groupBy('bs.ticket_class_id')
      .select<{ ticket_class_id: string; revenue: Sum }[]>('bs.ticket_class_id', db.raw('sum(bs.price) as revenue')),
    // Payments owing or owed by payments_refund_status_index (few), each booking by its key.
    refunds: db('payments as p').join('bookings as b', 'b.id', 'p.booking_id').join('booking_seats as bs', 'bs.booking_id', 'p.booking_id')
      .whereIn('p.refund_status', [...OWED, PAID]).andWhere('b.concert_id', concertId).groupBy('bs.ticket_class_id')
      .select<{ ticket_class_id: string; due: Sum; paid: Sum }[]>(
        'bs.ticket_class_id',
        db.raw(`sum(case when p.refund_status in (${OWED.map(() => '?').join(', ')}) then bs.price else 0 end) as due`, [...OWED]),
        db.raw('sum(case when p.refund_status = ? then bs.price else 0 end) as paid', [PAID]),
      ),
    admitted: db('ticket_admissions').where({ concert_id: concertId }).groupBy('ticket_class_id')
      .select<{ ticket_class_id: string; admitted: Sum }[]>('ticket_class_id', db.raw('sum(admitted) as admitted')),
    positions: checkpointPositionsQuery(db, REPORT_PROJECTIONS) as Knex.QueryBuilder<object, { name: string; position: number | string }[]>,
  };
}

/** The report of one concert; undefined when the concerts read model does not know it. */
export async function salesReport(db: Knex, concertId: string): Promise<SalesReport | undefined> {
  // One transaction: every figure and every position from the same snapshot.
  return db.transaction(async (trx) => {
    const concert = await trx('concerts').where({ id: concertId }).first<{ id: string; name: string } | undefined>('id', 'name');
    if (concert === undefined) return undefined;
    const queries = salesQueries(trx, concertId);
    const [classes, seats, revenue, refunds, admitted, positions] = await Promise.all([
      queries.classes, queries.seats, queries.revenue, queries.refunds, queries.admitted, queries.positions,
    ]);

    const byClass = new Map<string, ClassSales>(classes.map((row) => [row.id, {
      id: row.id, name: row.name, price: Number(row.price),
      capacity: Number(row.total_seats_in_class), sold: 0, held: 0, available: 0, revenue: 0, refunds_due: 0, refunds_paid: 0, admitted: 0,
    }]));
    // A row of a class the concerts model does not list (it cannot happen in one snapshot) is left out, never guessed.
    const add = (classId: string, figure: Exclude<keyof SalesFigures, 'capacity'>, value: Sum): void => {
      const sales = byClass.get(classId);
      if (sales !== undefined) sales[figure] += Number(value ?? 0);
    };
    for (const row of seats) add(row.ticket_class_id, SEAT_FIGURE[row.status], row.seats);
    for (const row of revenue) add(row.ticket_class_id, 'revenue', row.revenue);
    for (const row of refunds) {
      add(row.ticket_class_id, 'refunds_due', row.due);
      add(row.ticket_class_id, 'refunds_paid', row.paid);
    }
    for (const row of admitted) add(row.ticket_class_id, 'admitted', row.admitted);

    const ticketClasses = [...byClass.values()];
    const total = Object.fromEntries(FIGURES.map((figure) => [figure, ticketClasses.reduce((sum, sales) => sum + sales[figure], 0)])) as unknown as SalesFigures;
    const reached = new Map(positions.map((row) => [row.name, Number(row.position)]));
    return {
      concert: { id: concert.id, name: concert.name },
      positions: Object.fromEntries(REPORT_PROJECTIONS.map((name) => [name, reached.get(name) ?? 0])) as Record<ReportProjection, number>,
      ticket_classes: ticketClasses,
      total,
    };
  });
}

/** The CSV's columns, in order; the total row has no class id, price or name but `TOTAL`. */
export const SALES_CSV_COLUMNS = ['ticket_class_id', 'ticket_class', 'price', ...FIGURES] as const;

/** The report as CSV: a header row, one row per class, a total row (RFC 4180, by csv-stringify). */
export function salesReportCsv(report: SalesReport): string {
  const figures = (sales: SalesFigures) => FIGURES.map((figure) => sales[figure]);
  return stringify([
    [...SALES_CSV_COLUMNS],
    ...report.ticket_classes.map((sales) => [sales.id, sales.name, sales.price, ...figures(sales)]),
    ['', 'TOTAL', '', ...figures(report.total)],
    // A name that starts with = + - @ is not run as a formula by a spreadsheet that opens the file.
  ], { record_delimiter: 'windows', escape_formulas: true });
}
