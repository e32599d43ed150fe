/**
 * The sales report's SQL on both read-model databases (MariaDB and the embedded SQLite), against
 * a busy synthetic sale projected by the real projectors: every figure equals a replay of the
 * concert's stream (seats sold, held, available; revenue from the prices held at; admissions),
 * the positions are the projections'; and on MariaDB each aggregate reads its index.
 */
import t from 'tap';
import { concertEvents } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import { appendBookingFlow } from '../../test/support/booking-flow.ts';
import { caughtUp, projectionRig } from '../../test/support/projections.ts';
import { replaySeats } from '../../test/support/seat-replay.ts';
import { salesQueries, salesReport } from './sales-report.ts';

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`the report of a projected sale equals the replay of its events (${kind})`, async (t) => {
    const rig = await projectionRig(t, { kind, batchSize: 300 });
    const flow = await appendBookingFlow(rig.store, { users: 60, concerts: 2, classSeats: [40, 120], bookings: 500 });
    rig.projectors.start();
    await caughtUp(rig.projectors);

    for (const concert of flow.concerts) {
      const stream = await rig.store.readStream(`concert-${concert.id}`);
      const { owner, sold } = replaySeats(stream);
      const revenue = new Map<string, number>();
      const admitted = new Map<string, number>();
      const classOf = new Map<string, string>();
      const held = new Map<string, { ticket_class_id: string; price: number }[]>();
      for (const recorded of stream) {
        const event = decode(recorded, concertEvents);
        if (event.type === 'SeatsHeld') {
          held.set(event.data.booking_id, event.data.seats);
          for (const seat of event.data.seats) classOf.set(seat.seat_id, seat.ticket_class_id);
        } else if (event.type === 'SeatsSold') {
          // The flow confirms every booking whose seats it sells, and owes nothing back.
          for (const seat of held.get(event.data.booking_id) ?? []) revenue.set(seat.ticket_class_id, (revenue.get(seat.ticket_class_id) ?? 0) + seat.price);
        } else if (event.type === 'TicketAdmitted') {
          const classId = classOf.get(event.data.ticket_id) ?? '';
          admitted.set(classId, (admitted.get(classId) ?? 0) + 1);
        }
      }
      const count = (seats: Iterable<string>, classId: string) => [...seats].filter((seat) => classOf.get(seat) === classId).length;
      const expected = concert.classes.map((c) => ({
        id: c.id, price: c.price, capacity: c.seats,
        sold: count(sold, c.id), held: count([...owner.keys()].filter((seat) => !sold.has(seat)), c.id), available: flow.available.get(c.id),
        revenue: revenue.get(c.id) ?? 0, refunds_due: 0, refunds_paid: 0, admitted: admitted.get(c.id) ?? 0,
      }));

      const report = await salesReport(rig.db, concert.id);
      t.strictSame(report?.concert, { id: concert.id, name: `Konser ${concert.id.slice(0, 6)}` });
      t.strictSame(report?.positions, { concerts: flow.head, bookings: flow.head, payments: flow.head, tickets: flow.head }, 'the positions the figures come from');
      t.strictSame(report?.ticket_classes.map(({ name: _name, ...figures }) => figures), expected);
      t.ok(expected.every((c) => c.sold > 0 && c.revenue > 0), 'seats were sold in every class');
      t.ok(expected.some((c) => c.admitted > 0), 'some got in');
      const sum = (figure: keyof (typeof expected)[number]) => expected.reduce((total, c) => total + Number(c[figure]), 0);
      t.strictSame(report?.total, {
        capacity: sum('capacity'), sold: sum('sold'), held: sum('held'), available: sum('available'),
        revenue: sum('revenue'), refunds_due: 0, refunds_paid: 0, admitted: sum('admitted'),
      });
    }
    t.equal(await salesReport(rig.db, '5a5a5a5a-0000-4000-8000-000000000000'), undefined, 'an unknown concert has no report');

    if (kind === 'mysql') {
      // Each aggregate starts from an index that narrows it to the concert.
      const queries = salesQueries(rig.db, flow.concerts[0]?.id ?? '');
      const plans: Record<string, string[]> = {};
      for (const [name, query] of Object.entries(queries)) {
        const [rows] = await rig.db.raw<[{ table: string; key: string | null; Extra: string | null }[]]>(`EXPLAIN ${query.toQuery()}`);
        plans[name] = (rows ?? []).map((row) => `${row.table}:${row.key ?? 'none'}`);
      }
      t.comment(`plans: ${JSON.stringify(plans)}`);
      t.strictSame(plans.seats, ['seats:seats_concert_class_status_index']);
      t.equal(plans.revenue?.[0], 'b:bookings_concert_status_created_index');
      t.equal(plans.revenue?.[1], 'bs:PRIMARY');
      t.equal(plans.admitted?.[0], 'ticket_admissions:PRIMARY');
    }
  });
}
