/** What the importer did with every row it read: taken, or refused with its reason; never neither. */

export const LEGACY_TABLES = [
  'users', 'concerts', 'ticket_classes', 'seats', 'bookings', 'booking_seats', 'buyers', 'ticket_holders', 'payments',
] as const;
export type LegacyTable = (typeof LEGACY_TABLES)[number];

export interface TableReconciliation {
  readonly read: number;
  readonly taken: number;
  /** Rows refused, by reason (a stable UPPER_SNAKE code). */
  readonly refused: Readonly<Record<string, number>>;
  /** Rows taken with a decision worth telling (boxoffice's rules changed what the older system said). */
  readonly notes: Readonly<Record<string, number>>;
}

export interface ReconciliationReport {
  readonly dry_run: boolean;
  readonly tables: Readonly<Record<LegacyTable, TableReconciliation>>;
  /** Events this run appended (0 on a second run, and on a dry run). */
  readonly events_appended: number;
}

interface Counts {
  read: number;
  taken: number;
  refused: Map<string, number>;
  notes: Map<string, number>;
}

export class Reconciliation {
  readonly #tables = new Map<LegacyTable, Counts>(LEGACY_TABLES.map((table) => [table, { read: 0, taken: 0, refused: new Map(), notes: new Map() }]));

  read(table: LegacyTable, rows: number): void {
    this.#counts(table).read += rows;
  }

  taken(table: LegacyTable, rows = 1): void {
    this.#counts(table).taken += rows;
  }

  refused(table: LegacyTable, reason: string, rows = 1): void {
    if (rows === 0) return;
    const refused = this.#counts(table).refused;
    refused.set(reason, (refused.get(reason) ?? 0) + rows);
  }

  note(table: LegacyTable, note: string): void {
    const notes = this.#counts(table).notes;
    notes.set(note, (notes.get(note) ?? 0) + 1);
  }

  report(dryRun: boolean, eventsAppended: number): ReconciliationReport {
    const tables = Object.fromEntries(LEGACY_TABLES.map((table) => {
      const counts = this.#counts(table);
      return [table, {
        read: counts.read,
        taken: counts.taken,
        refused: Object.fromEntries([...counts.refused].sort(([a], [b]) => a.localeCompare(b))),
        notes: Object.fromEntries([...counts.notes].sort(([a], [b]) => a.localeCompare(b))),
      }];
    })) as Record<LegacyTable, TableReconciliation>;
    return { dry_run: dryRun, tables, events_appended: eventsAppended };
  }

  #counts(table: LegacyTable): Counts {
    const counts = this.#tables.get(table);
    if (counts === undefined) throw new Error(`no table ${table}`);
    return counts;
  }
}

/** The report as an operator reads it: one line per table, then every reason and note. */
export function formatReconciliation(report: ReconciliationReport): string {
  const rows = LEGACY_TABLES.map((table) => {
    const counts = report.tables[table];
    const refused = Object.values(counts.refused).reduce((sum, n) => sum + n, 0);
    return [table, String(counts.read), String(counts.taken), String(refused)];
  });
  const all = [['TABLE', 'READ', 'TAKEN', 'REFUSED'], ...rows];
  const widths = all[0]?.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length))) ?? [];
  const lines = all.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  for (const table of LEGACY_TABLES) {
    const counts = report.tables[table];
    for (const [reason, n] of Object.entries(counts.refused)) lines.push(`  ${table}: ${n} refused, ${reason}`);
    for (const [note, n] of Object.entries(counts.notes)) lines.push(`  ${table}: ${n} taken, ${note}`);
  }
  lines.push(report.dry_run
    ? 'dry run: nothing was appended; the numbers are what a run would do now'
    : `${report.events_appended} events appended`);
  return `${lines.join('\n')}\n`;
}
