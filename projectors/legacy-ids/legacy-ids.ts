/**
 * The older system's integer ids, as its clients see them on the legacy surface (LEGACY_PORTS):
 * one number per user, concert, ticket class and payment, and a range per ticket class for its
 * seats (seat n of a class is base + n - 1: a 50,000-seat class is one row, not 50,000).
 *
 * Numbers never change, on any instance or after a rebuild, because they are decided by the
 * events alone, in event order:
 * - an object the importer brought over takes the number LegacyIdsImported gives it;
 * - a native object (UserRegistered, ConcertScheduled's concert and classes, PaymentRequested:
 *   payments are numbered when opened) is numbered above every number its kind has had so far,
 *   unless it already has an imported number.
 * An imported number that another object holds already is refused (the first keeps it) and the
 * refusal recorded in legacy_id_refusals. An imported object numbered natively first (the
 * importer appends an object's creation, then its LegacyIdsImported) takes the imported number:
 * the importer runs before the legacy surface serves, so no client has seen the native one.
 * Seats likewise: a class's range is numbered when its concert is scheduled; an imported seat's
 * own number wins over a range's (a range number blocks no import), and a class whose every seat
 * the importer numbered loses its range. A range numbered after an import lies above every
 * imported number, so once the importer has numbered every seat of its classes (and before any
 * native concert is scheduled) no two seats share a number.
 * An imported seat keeps its old label ("VIP-12") beside its number, from the same event: the
 * legacy surface shows it as the seat's `seat_number`. A refused number's label is not kept.
 */
import type { Knex } from 'knex';
import { seatId, seatIdPrefix } from '../../domain/concert/index.ts';
import type { LegacyIdHighRow, LegacyIdKind, LegacyIdRefusalRow, LegacyIdRow, LegacySeatRangeRow } from '../../read-models/tables.ts';
import { chunks, inKeyOrder, insertMany, instant, upsert } from '../bulk.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

const EVENT_TYPES = ['UserRegistered', 'ConcertScheduled', 'PaymentRequested', 'LegacyIdsImported'] as const;

export const LEGACY_ID_TABLES = ['legacy_ids', 'legacy_seat_ranges', 'legacy_id_high', 'legacy_id_refusals'] as const;

/** The part of a seat id its class gives (domain/concert/seats.ts). */
const SEAT_PREFIX = seatIdPrefix(seatId('00000000-0000-0000-0000-000000000000', 1)).length;

const KINDS: readonly LegacyIdKind[] = ['user', 'concert', 'ticket_class', 'seat', 'payment'];

type Key = `${LegacyIdKind}:${string}`;
const key = (kind: LegacyIdKind, part: string | number): Key => `${kind}:${part}`;

export function legacyIdsProjection(): Projection {
  return {
    name: 'legacy-ids',
    tables: [...LEGACY_ID_TABLES],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      const { trx } = context;
      const events = ofTypes(batch, EVENT_TYPES);
      const table = {
        ids: context.table('legacy_ids'),
        ranges: context.table('legacy_seat_ranges'),
        high: context.table('legacy_id_high'),
        refusals: context.table('legacy_id_refusals'),
      };
      if (events.length === 0) return { writes: [] };

      // What the batch touches: objects by id, numbers by value, every kind's high mark, and the seat ranges.
      const wantedIds = new Map<LegacyIdKind, Set<string>>(KINDS.map((kind) => [kind, new Set()]));
      const wantedNumbers = new Map<LegacyIdKind, Set<number>>(KINDS.map((kind) => [kind, new Set()]));
      for (const event of events) {
        if (event.type === 'UserRegistered') wantedIds.get('user')?.add(event.data.user_id);
        else if (event.type === 'PaymentRequested') wantedIds.get('payment')?.add(event.data.payment_id);
        else if (event.type === 'ConcertScheduled') {
          wantedIds.get('concert')?.add(event.data.concert_id);
          for (const ticketClass of event.data.ticket_classes) wantedIds.get('ticket_class')?.add(ticketClass.ticket_class_id);
        } else {
          for (const { legacy_id: number, id } of event.data.ids) {
            wantedIds.get(event.data.kind)?.add(id);
            wantedNumbers.get(event.data.kind)?.add(number);
          }
        }
      }
      const byId = new Map<Key, LegacyIdRow>();
      const byNumber = new Map<Key, string>();
      const remember = (row: LegacyIdRow): void => {
        byId.set(key(row.kind, row.id), row);
        byNumber.set(key(row.kind, row.legacy_id), row.id);
      };
      for (const kind of KINDS) {
        for (const part of chunks([...(wantedIds.get(kind) ?? [])], 5_000)) {
          for (const row of await trx(table.ids).where('kind', kind).whereIn('id', part).select<LegacyIdRow[]>()) remember({ ...row, legacy_id: Number(row.legacy_id) });
        }
        for (const part of chunks([...(wantedNumbers.get(kind) ?? [])], 5_000)) {
          for (const row of await trx(table.ids).where('kind', kind).whereIn('legacy_id', part).select<LegacyIdRow[]>()) remember({ ...row, legacy_id: Number(row.legacy_id) });
        }
      }
      /** The number each object had before this batch. */
      const loaded = new Map([...byId].map(([k, row]) => [k, row.legacy_id]));
      const high = new Map<LegacyIdKind, number>(KINDS.map((kind) => [kind, 0]));
      for (const row of await trx(table.high).select<LegacyIdHighRow[]>()) high.set(row.kind, Number(row.high));
      // Few rows (one per ticket class), and read only by a batch that schedules a concert or numbers seats.
      const needsRanges = events.some((event) => event.type === 'ConcertScheduled' || (event.type === 'LegacyIdsImported' && event.data.kind === 'seat'));
      const ranges = (needsRanges ? await trx(table.ranges).select<LegacySeatRangeRow[]>() : []).map((row) => ({ ...row, base: Number(row.base), seat_count: Number(row.seat_count) }));
      const rangedClasses = new Set(ranges.map((range) => range.ticket_class_id));

      const written = new Map<Key, LegacyIdRow>();
      /** Objects whose earlier row goes before the new ones are written (a native number replaced). */
      const replaced: LegacyIdRow[] = [];
      const newRanges: LegacySeatRangeRow[] = [];
      const refusals: LegacyIdRefusalRow[] = [];

      const give = (row: LegacyIdRow): void => {
        const earlier = byId.get(key(row.kind, row.id));
        if (earlier !== undefined && earlier.legacy_id !== row.legacy_id) {
          byNumber.delete(key(earlier.kind, earlier.legacy_id));
          if (!written.has(key(row.kind, row.id))) replaced.push(earlier);
        }
        remember(row);
        written.set(key(row.kind, row.id), row);
        high.set(row.kind, Math.max(high.get(row.kind) ?? 0, row.legacy_id));
      };
      const native = (kind: LegacyIdKind, id: string): void => {
        if (byId.has(key(kind, id))) return;
        give({ kind, id, legacy_id: (high.get(kind) ?? 0) + 1, origin: 'native', label: null });
      };
      const retired: LegacySeatRangeRow[] = [];
      /**
       * A class whose every seat the event numbers has no use for its range any more: the range
       * goes, so its numbers block nothing (the importer schedules a concert, then numbers its seats).
       */
      const retireCoveredRanges = (seatIds: readonly string[]): void => {
        const covered = new Map<string, Set<string>>();
        for (const id of seatIds) covered.set(id.slice(0, SEAT_PREFIX), (covered.get(id.slice(0, SEAT_PREFIX)) ?? new Set()).add(id));
        for (const range of [...ranges]) {
          const seats = covered.get(seatIdPrefix(range.ticket_class_id));
          if (seats === undefined || seats.size < range.seat_count) continue;
          if (!Array.from({ length: range.seat_count }, (_, i) => seatId(range.ticket_class_id, i + 1)).every((id) => seats.has(id))) continue;
          ranges.splice(ranges.indexOf(range), 1);
          const unsaved = newRanges.indexOf(range);
          if (unsaved >= 0) newRanges.splice(unsaved, 1);
          else retired.push(range);
        }
      };

      for (const event of events) {
        if (event.type === 'UserRegistered') native('user', event.data.user_id);
        else if (event.type === 'PaymentRequested') native('payment', event.data.payment_id);
        else if (event.type === 'ConcertScheduled') {
          native('concert', event.data.concert_id);
          for (const ticketClass of event.data.ticket_classes) {
            native('ticket_class', ticketClass.ticket_class_id);
            if (rangedClasses.has(ticketClass.ticket_class_id)) continue;
            const range = { ticket_class_id: ticketClass.ticket_class_id, concert_id: event.data.concert_id, base: (high.get('seat') ?? 0) + 1, seat_count: ticketClass.seat_count };
            ranges.push(range);
            newRanges.push(range);
            rangedClasses.add(range.ticket_class_id);
            high.set('seat', range.base + range.seat_count - 1);
          }
        } else {
          const { kind } = event.data;
          if (kind === 'seat') retireCoveredRanges(event.data.ids.map(({ id }) => id));
          for (const { legacy_id: number, id, label } of event.data.ids) {
            // A number held through a range does not block an imported one: ranges are numbered
            // before the importer's seats arrive, and the legacy surface serves only after it ran.
            const holder = byNumber.get(key(kind, number));
            const own = byId.get(key(kind, id));
            if (holder === id) {
              if (own !== undefined && own.legacy_id === number && (own.origin === 'native' || (label !== undefined && own.label !== label))) {
                give({ ...own, origin: 'imported', label: label ?? own.label });
              }
              continue;
            }
            const refuse = (reason: LegacyIdRefusalRow['reason'], by: string | null): void => void refusals.push({
              position: event.position, kind, legacy_id: number, id, reason, holder: by, refused_at: instant(event.data.imported_at),
            });
            if (holder !== undefined) refuse('number_taken', holder);
            else if (own !== undefined && own.origin === 'imported') refuse('already_numbered', String(own.legacy_id));
            else give({ kind, id, legacy_id: number, origin: 'imported', label: label ?? null });
          }
        }
      }

      const rows = inKeyOrder([...written.values()], 'kind', 'id');
      const writes: ((trx: Knex.Transaction) => Promise<void>)[] = [];
      if (rows.length > 0) {
        const kept = (row: LegacyIdRow): boolean => loaded.get(key(row.kind, row.id)) === row.legacy_id;
        writes.push(async (t) => {
          // A replaced number's row goes first: a number moves only where no other row holds it.
          for (const row of replaced) await t(table.ids).where({ kind: row.kind, id: row.id }).delete();
          for (const row of rows.filter(kept)) await t(table.ids).where({ kind: row.kind, id: row.id }).update({ origin: row.origin, label: row.label });
          await insertMany(t, table.ids, rows.filter((row) => !kept(row)), context.localInfile);
        });
      }
      if (newRanges.length > 0 || retired.length > 0) {
        writes.push(async (t) => {
          for (const range of retired) await t(table.ranges).where({ ticket_class_id: range.ticket_class_id }).delete();
          await insertMany(t, table.ranges, newRanges, context.localInfile);
        });
      }
      writes.push((t) => upsert(t, table.high, KINDS.map((kind) => ({ kind, high: high.get(kind) ?? 0 })), ['kind'], ['high']));
      if (refusals.length > 0) writes.push((t) => insertMany(t, table.refusals, refusals, context.localInfile));
      return { writes };
    },
  };
}
