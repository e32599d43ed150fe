/**
 * The older system's integer ids, read from the legacy-ids projection's tables: our ids to its
 * numbers for answers, its numbers to our ids for requests. A seat without a number of its own
 * is numbered by its class's range (base + seat number - 1).
 */
import type { Knex } from 'knex';
import type { AsRead, LegacyIdKind, LegacyIdRow, LegacySeatRangeRow } from '../read-models/tables.ts';

export type LegacyNumberedKind = Exclude<LegacyIdKind, 'seat'>;

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

  /** Seats' numbers: their own (imported), else their class's range. */
  async seatNumbers(db: Knex, seats: readonly SeatRef[]): Promise<Map<string, number>> {
    if (seats.length === 0) return new Map();
    const classes = [...new Set(seats.map((seat) => seat.ticket_class_id))];
    const [own, ranges] = await Promise.all([
      (async () => {
        const rows: Pick<AsRead<LegacyIdRow>, 'id' | 'legacy_id'>[] = [];
        for (let start = 0; start < seats.length; start += 5_000) {
          rows.push(...await db('legacy_ids').where('kind', 'seat').whereIn('id', seats.slice(start, start + 5_000).map((seat) => seat.id))
            .select<Pick<AsRead<LegacyIdRow>, 'id' | 'legacy_id'>[]>('id', 'legacy_id'));
        }
        return rows;
      })(),
      db('legacy_seat_ranges').whereIn('ticket_class_id', classes).select<Pick<AsRead<LegacySeatRangeRow>, 'ticket_class_id' | 'base'>[]>('ticket_class_id', 'base'),
    ]);
    const ownNumber = new Map(own.map((row) => [row.id, Number(row.legacy_id)]));
    const base = new Map(ranges.map((row) => [row.ticket_class_id, Number(row.base)]));
    const result = new Map<string, number>();
    for (const seat of seats) {
      const number = ownNumber.get(seat.id) ?? ((base.get(seat.ticket_class_id) ?? NaN) + seat.seat_number - 1);
      if (Number.isSafeInteger(number)) result.set(seat.id, number);
    }
    return result;
  }

  /** Their number → our id; undefined when no object of that kind has it. */
  async idOf(db: Knex, kind: LegacyNumberedKind, legacyId: number): Promise<string | undefined> {
    const row = await db('legacy_ids').where({ kind, legacy_id: legacyId }).first<Pick<LegacyIdRow, 'id'> | undefined>('id');
    return row?.id;
  }
}
