import { randomUUID } from 'node:crypto';
import t from 'tap';
import { seatId } from '../../domain/concert/index.ts';
import type { DomainEvent } from '../../domain/index.ts';
import type { LegacyKind } from '../../domain/legacy/index.ts';
import type { Knex } from 'knex';
import { projectionFixture, type Row } from '../../test/support/projection-spec.ts';
import { tableChecksums } from '../../test/support/projections.ts';
import { LEGACY_ID_TABLES, legacyIdsProjection } from './legacy-ids.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const CONCERT = randomUUID();
const VIP = randomUUID();
const REGULAR = randomUUID();
const USER = randomUUID();
const PAYMENT = randomUUID();
const OTHER = randomUUID();
const LATER = randomUUID();

const imported = (kind: LegacyKind, ids: [number, string][]): DomainEvent => ({
  type: 'LegacyIdsImported', data: { kind, ids: ids.map(([legacyId, id]) => ({ legacy_id: legacyId, id })), imported_at: T0 },
});

const labelled = (ids: [number, string, string?][]): DomainEvent => ({
  type: 'LegacyIdsImported', data: { kind: 'seat', ids: ids.map(([legacyId, id, label]) => ({ legacy_id: legacyId, id, ...(label === undefined ? {} : { label }) })), imported_at: T0 },
});

const scheduled: Extract<DomainEvent, { type: 'ConcertScheduled' }> = {
  type: 'ConcertScheduled',
  data: {
    concert_id: CONCERT, name: 'Konser', artist: 'Band', date: '2027-01-01T12:00:00.000Z', venue: 'GBK', description: null, image_url: null,
    max_tickets_per_ktp: null, sales_open_at: null, sales_close_at: null, scheduled_at: T0,
    ticket_classes: [{ ticket_class_id: VIP, name: 'VIP', price: 500_000, seat_count: 3 }, { ticket_class_id: REGULAR, name: 'Regular', price: 100_000, seat_count: 5 }],
  },
};

const registered: DomainEvent = {
  type: 'UserRegistered',
  data: {
    user_id: USER, username: 'fan', email_hash: 'a'.repeat(64), email: { key_id: 'k', alg: 'A256GCM', iv: 'iv', ciphertext: 'c', tag: 't' },
    password_hash: 'h', role: 'customer', registered_at: T0,
  },
};

const requested: DomainEvent = {
  type: 'PaymentRequested',
  data: { payment_id: PAYMENT, transaction_id: 'tx-1', booking_id: randomUUID(), user_id: USER, amount: 1, method: 'card', checkout_url: 'http://localhost/c', requested_at: T0 },
};

/** What the tables say, read as legacy-api/legacy-ids.ts reads them: a seat's own number, else its class's range. */
const reads = {
  async number(db: Knex, kind: LegacyKind, id: string): Promise<number | undefined> {
    const row = await db('legacy_ids').where({ kind, id }).first<Row | undefined>('legacy_id');
    return row === undefined ? undefined : Number(row.legacy_id);
  },
  async idOf(db: Knex, kind: LegacyKind, legacyId: number): Promise<string | undefined> {
    return (await db('legacy_ids').where({ kind, legacy_id: legacyId }).first<Row | undefined>('id'))?.id as string | undefined;
  },
  async seatNumbers(db: Knex, seats: { id: string; ticket_class_id: string; seat_number: number }[]): Promise<number[]> {
    return Promise.all(seats.map(async (seat) => {
      const own = await reads.number(db, 'seat', seat.id);
      if (own !== undefined) return own;
      const range = await db('legacy_seat_ranges').where({ ticket_class_id: seat.ticket_class_id }).first<Row>('base');
      return Number(range.base) + seat.seat_number - 1;
    }));
  },
};

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`imported numbers are kept, natives numbered above them, seats by ranges, taken numbers refused (${kind})`, async (t) => {
    const { db, given, redeliver } = await projectionFixture(t, legacyIdsProjection(), kind);
    const seat = (classId: string, n: number) => ({ id: seatId(classId, n), ticket_class_id: classId, seat_number: n });

    // The importer's numbers, ahead of the objects they name.
    t.equal(await given([
      imported('concert', [[7, CONCERT]]),
      imported('ticket_class', [[11, VIP]]),
      imported('seat', [[101, seatId(VIP, 1)], [102, seatId(VIP, 2)], [103, seatId(VIP, 3)]]),
    ]), 'applied');
    t.equal(await given([scheduled, registered, requested]), 'applied');
    t.equal(await reads.number(db, 'concert', CONCERT), 7, 'the concert keeps its old number');
    t.same([await reads.number(db, 'ticket_class', VIP), await reads.number(db, 'ticket_class', REGULAR)], [11, 12], 'a new class is numbered above the old ones');
    t.equal(await reads.number(db, 'user', USER), 1);
    t.equal(await reads.number(db, 'payment', PAYMENT), 1, 'a payment is numbered when opened');
    const ranges = await db('legacy_seat_ranges').orderBy('base').select<Row[]>('ticket_class_id', 'base', 'seat_count');
    t.same(ranges.map((r) => [r.ticket_class_id, Number(r.base), Number(r.seat_count)]), [[VIP, 104, 3], [REGULAR, 107, 5]], 'one row per class, above every seat number given');
    t.same(await reads.seatNumbers(db, [seat(VIP, 1), seat(VIP, 3), seat(REGULAR, 1), seat(REGULAR, 5)]), [101, 103, 107, 111]);

    // The importer's order: a class and its seats numbered after the concert was scheduled. The
    // class takes its old number; its seats theirs (a range number blocks no import), and its
    // range goes. A number another object holds is refused and recorded.
    t.equal(await given([
      imported('ticket_class', [[20, REGULAR]]),
      imported('seat', [[105, seatId(REGULAR, 1)], [106, seatId(REGULAR, 2)], [50, seatId(REGULAR, 3)], [51, seatId(REGULAR, 4)], [52, seatId(REGULAR, 5)]]),
      imported('seat', [[101, seatId(OTHER, 1)], [900, seatId(VIP, 1)]]),
      imported('user', [[1, randomUUID()]]),
    ]), 'applied');
    t.equal(await reads.number(db, 'ticket_class', REGULAR), 20, 'the imported number replaces the native one');
    t.same(await reads.seatNumbers(db, [1, 2, 3, 4, 5].map((n) => seat(REGULAR, n))), [105, 106, 50, 51, 52]);
    const left = await db('legacy_seat_ranges').select<Row[]>('ticket_class_id');
    t.same(left.map((r) => r.ticket_class_id), [VIP], "a class whose every seat was imported loses its range");
    const refusals = await db('legacy_id_refusals').orderBy(['kind', 'legacy_id']).select<Row[]>('kind', 'legacy_id', 'id', 'reason', 'holder');
    t.same(refusals.map((r) => [r.kind, Number(r.legacy_id), r.id, r.reason, r.holder]), [
      ['seat', 101, seatId(OTHER, 1), 'number_taken', seatId(VIP, 1)],
      ['seat', 900, seatId(VIP, 1), 'already_numbered', '101'],
      ['user', 1, refusals.find((r) => r.kind === 'user')?.id, 'number_taken', USER],
    ]);
    t.same(await reads.seatNumbers(db, [seat(VIP, 1)]), [101], 'the first holder keeps its number');
    t.equal(await reads.idOf(db, 'user', 1), USER);

    // A native concert after the import: numbered above everything, its range above every seat number.
    t.equal(await given([{ type: 'ConcertScheduled', data: { ...scheduled.data, concert_id: LATER, ticket_classes: [{ ticket_class_id: OTHER, name: 'Tribune', price: 1, seat_count: 2 }] } }]), 'applied');
    t.same([await reads.number(db, 'concert', LATER), await reads.number(db, 'ticket_class', OTHER)], [8, 21]);
    t.same(await reads.seatNumbers(db, [seat(OTHER, 1), seat(OTHER, 2)]), [112, 113], 'above the highest range end (111) given so far');

    const before = await tableChecksums(db, LEGACY_ID_TABLES);
    t.equal(await redeliver(), 'moved');
    t.same(await tableChecksums(db, LEGACY_ID_TABLES), before, 'a re-delivered page changes nothing');
  });
}

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`an imported seat keeps its old label; a rebuild gives the same rows (${kind})`, async (t) => {
    const pages: DomainEvent[][] = [
      [scheduled],
      [labelled([[101, seatId(VIP, 1), 'VIP-1'], [102, seatId(VIP, 2), 'VIP-2'], [103, seatId(VIP, 3), 'VIP-10']])],
      // Events recorded before labels carry none; a taken number's label is not kept.
      [labelled([[201, seatId(REGULAR, 1)], [202, seatId(REGULAR, 2), 'A2']]), labelled([[101, seatId(REGULAR, 3), 'A3']])],
      // The same number again, now with its label: the label is filled in.
      [labelled([[201, seatId(REGULAR, 1), 'A1']])],
      [registered],
    ];
    const labels = async (db: Knex): Promise<[string, number, string | null][]> =>
      (await db('legacy_ids').where('kind', 'seat').orderBy('legacy_id').select<Row[]>('id', 'legacy_id', 'label'))
        .map((row) => [row.id as string, Number(row.legacy_id), (row.label ?? null) as string | null]);

    const live = await projectionFixture(t, legacyIdsProjection(), kind);
    for (const page of pages) t.equal(await live.given(page), 'applied');
    t.strictSame(await labels(live.db), [
      [seatId(VIP, 1), 101, 'VIP-1'],
      [seatId(VIP, 2), 102, 'VIP-2'],
      [seatId(VIP, 3), 103, 'VIP-10'],
      [seatId(REGULAR, 1), 201, 'A1'],
      [seatId(REGULAR, 2), 202, 'A2'],
    ], 'each imported seat with its old label');
    const user = await live.db('legacy_ids').where('kind', 'user').first<Row>('label');
    t.equal(user.label ?? null, null, 'a native number has no label');
    t.strictSame(await live.db('legacy_id_refusals').select<Row[]>('legacy_id', 'id').then((rows) => rows.map((r) => [Number(r.legacy_id), r.id])), [[101, seatId(REGULAR, 3)]]);

    // A rebuild: the same events from the start, in one page, into empty tables.
    const rebuilt = await projectionFixture(t, legacyIdsProjection(), kind);
    t.equal(await rebuilt.given(pages.flat()), 'applied');
    t.strictSame(await labels(rebuilt.db), await labels(live.db), 'the same labels');
    t.same(await tableChecksums(rebuilt.db, LEGACY_ID_TABLES), await tableChecksums(live.db, LEGACY_ID_TABLES), 'the same rows in every table');
  });
}
