/**
 * `boxoffice report:sales <concertId> [--csv]`: the concert's sales report of the admin route
 * (GET /api/v1/admin/concerts/:id/report), read from the read models the same way, as a table or
 * as the route's CSV. It reads the read-model database (the embedded data dir's, or MYSQL_URL's
 * primary) as it stands: the positions it names say how far the projections had got.
 */
import { salesReport, salesReportCsv, type SalesFigures, type SalesReport } from '../../query-api/reports/sales-report.ts';
import { openReadModelDatabase } from '../wiring/adapters.ts';
import { uuidArgument, type CliCommand } from './command.ts';
import { table } from './operate.ts';

const COLUMNS: readonly [string, keyof SalesFigures][] = [
  ['CAPACITY', 'capacity'], ['SOLD', 'sold'], ['HELD', 'held'], ['AVAILABLE', 'available'], ['REVENUE', 'revenue'],
  ['REFUNDS DUE', 'refunds_due'], ['REFUNDS PAID', 'refunds_paid'], ['ADMITTED', 'admitted'],
];

/**
 * Names are whatever an admin (or the older system's data, through import:legacy) gave them: a
 * control character is shown as its escape (\x1b), never sent to the terminal to act on
 * (clear the screen, overwrite a figure, write the clipboard).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const printable = (text: string): string => text.replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The report as a table: one line per class and a TOTAL line; rupiah and counts as whole numbers. */
export function salesReportTable(report: SalesReport): string {
  const figures = (sales: SalesFigures) => COLUMNS.map(([, figure]) => String(sales[figure]));
  const rows = [
    ['CLASS', 'PRICE', ...COLUMNS.map(([heading]) => heading)],
    ...report.ticket_classes.map((sales) => [printable(sales.name), String(sales.price), ...figures(sales)]),
    ['TOTAL', '', ...figures(report.total)],
  ];
  const positions = Object.entries(report.positions).map(([name, position]) => `${name} ${position}`).join(', ');
  return [
    `Sales of ${printable(report.concert.name)} (${report.concert.id}), rupiah`,
    `read models at: ${positions}`,
    '',
    // The class name reads left to right; the numbers line up on the right.
    table(rows, 1),
  ].join('\n');
}

export const salesReportCommand: CliCommand = {
  name: 'report:sales',
  usage: '<concertId> [--csv]',
  summary: "a concert's sales per ticket class and in total (capacity, sold, held, available, revenue, refunds due and paid, admitted)",
  positionals: 1,
  flags: { csv: { type: 'boolean', description: "the admin route's CSV: a header row, one row per class, a TOTAL row" } },
  run: async (context) => {
    const concertId = uuidArgument(context.positionals[0] ?? '', 'concertId');
    const db = await openReadModelDatabase(context.config);
    try {
      const report = await salesReport(db, concertId);
      if (report === undefined) throw new Error(`no concert ${concertId} in the read models`);
      context.out(context.flags.csv === true ? salesReportCsv(report) : `${salesReportTable(report)}\n`);
    } finally {
      await db.destroy();
    }
  },
};
