/**
 * The older system's integer ids, read from the legacy-ids projection's tables: our ids to its
 * numbers for answers, its numbers to our ids for requests. A seat without a number of its own
 * is numbered by its class's range (base + seat number - 1). An imported seat shows its old
 * label as its `seat_number`; the rest show boxoffice's number within the class.
 */
import type { Knex } from 'knex';
import type { AsRead, LegacyIdKind, LegacyIdRow, LegacySeatRangeRow } from '../read-models/tables.ts';

export type LegacyNumberedKind = Exclude<LegacyIdKind, 'seat'>;

/** A seat's number on the older API, and its old label where the importer kept one. */
export interface LegacySeatNumber {
  readonly number: number;
  readonly label: string | null;
}

/** A seat as the read models name it: enough to number it. */
export interface SeatRef {
  readonly id: string;
  readonly ticket_class_id: string;
  readonly seat_number: number;
}

export class LegacyIdReads {
  /** Our ids → their numbers; an id without a number is left out. */
  async numbers(db: Knex, kind: LegacyNumberedKind, ids: readonly string[]): Promise<Map<string, number>> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return new Map();
    const rows = await db('legacy_ids').where('kind', kind).whereIn('id', wanted).select<Pick<AsRead<LegacyIdRow>, 'id' | 'legacy_id'>[]>('id', 'legacy_id');
    return new Map(rows.map((row) => [row.id, Number(row.legacy_id)]));
  }

  async number(db: Knex, kind: LegacyNumberedKind, id: string): Promise<number | undefined> {
    return (await this.numbers(db, kind, [id])).get(id);
  }

  /** Seats' numbers: their own (imported, with its old label), else their class's range. */
  async seatNumbers(db: Knex, seats: readonly SeatRef[]): Promise<Map<string, LegacySeatNumber>> {
    if (seats.length === 0) return new Map();
    const classes = [...new Set(seats.map((seat) => seat.ticket_class_id))];
    const [own, ranges] = await Promise.all([
      (async () => {
        const rows: Pick<AsRead<LegacyIdRow>, 'id' | 'legacy_id' | 'label'>[] = [];
        for (let start = 0; start < seats.length; start += 5_000) {
          rows.push(...await db('legacy_ids').where('kind', 'seat').whereIn('id', seats.slice(start, start + 5_000).map((seat) => seat.id))
            .select<Pick<AsRead<LegacyIdRow>, 'id' | 'legacy_id' | 'label'>[]>('id', 'legacy_id', 'label'));
        }
        return rows;
      })(),
      db('legacy_seat_ranges').whereIn('ticket_class_id', classes).select<Pick<AsRead<LegacySeatRangeRow>, 'ticket_class_id' | 'base'>[]>('ticket_class_id', 'base'),
    ]);
    const ownNumber = new Map(own.map((row) => [row.id, { number: Number(row.legacy_id), label: row.label }]));
    const base = new Map(ranges.map((row) => [row.ticket_class_id, Number(row.base)]));
    const result = new Map<string, LegacySeatNumber>();
    for (const seat of seats) {
      const numbered = ownNumber.get(seat.id) ?? { number: (base.get(seat.ticket_class_id) ?? NaN) + seat.seat_number - 1, label: null };
      if (Number.isSafeInteger(numbered.number)) result.set(seat.id, numbered);
    }
    return result;
  }

  /** Their number → our id; undefined when no object of that kind has it. */
  async idOf(db: Knex, kind: LegacyNumberedKind, legacyId: number): Promise<string | undefined> {
    const row = await db('legacy_ids').where({ kind, legacy_id: legacyId }).first<Pick<LegacyIdRow, 'id'> | undefined>('id');
    return row?.id;
  }
}
