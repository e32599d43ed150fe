import { randomUUID } from 'node:crypto';
import t from 'tap';
import { appendBookingFlow } from '../test/support/booking-flow.ts';
import { ProjectionRunner } from './runner.ts';
import { caughtUp, projectionRig, tableChecksums } from '../test/support/projections.ts';

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a busy sale projects into every read model (${kind})`, async (t) => {
    const rig = await projectionRig(t, { kind, batchSize: 300 });
    const flow = await appendBookingFlow(rig.store, { users: 50, concerts: 2, classSeats: [40, 120], bookings: 400 });
    rig.projectors.start();
    await caughtUp(rig.projectors);
    await rig.projectors.cacheRefilled();

    const classes = await rig.db('ticket_classes').select<{ id: string; available_seats_in_class: number }[]>();
    t.equal(classes.length, 4);
    for (const row of classes) t.equal(Number(row.available_seats_in_class), flow.available.get(row.id), `class ${row.id} available`);
    for (const concert of flow.concerts) {
      const seats = await rig.db('seats').where({ concert_id: concert.id, status: 'available' }).count<{ n: number }[]>({ n: '*' });
      const expected = concert.classes.reduce((sum, c) => sum + (flow.available.get(c.id) ?? 0), 0);
      t.equal(Number(seats[0]?.n), expected, 'available seat rows match the counters');
      const row = await rig.db('concerts').where({ id: concert.id }).first<{ available_seats: number; status: string; total_seats: number }>();
      t.equal(Number(row?.available_seats), expected);
      t.equal(row?.status, 'active');
      t.equal(Number(row?.total_seats), 160);
      const cached = await rig.projectors.seatCache?.availability(concert.id);
      t.ok(cached, 'the seat cache holds the concert');
      for (const c of concert.classes) t.equal(cached?.classes.get(c.id), flow.available.get(c.id), 'Redis agrees with MySQL');
    }
    const statuses = await rig.db('bookings').groupBy('status').select<{ status: string; n: number }[]>('status', rig.db.raw('count(*) as n'));
    const byStatus = Object.fromEntries(statuses.map((row) => [row.status, Number(row.n)]));
    t.same(byStatus, Object.fromEntries(Object.entries(flow.bookingsByStatus).filter(([, n]) => n > 0)), 'every booking has its status');
    const sold = await rig.db('seats').where({ status: 'booked' }).count<{ n: number }[]>({ n: '*' });
    const soldSeats = await rig.db('booking_seats').join('bookings', 'bookings.id', 'booking_seats.booking_id').where('bookings.status', 'confirmed').count<{ n: number }[]>({ n: '*' });
    t.equal(Number(sold[0]?.n), Number(soldSeats[0]?.n), 'booked seats are exactly the confirmed bookings\' seats');
    const tickets = await rig.db('tickets').groupBy('status').select<{ status: string; n: number }[]>('status', rig.db.raw('count(*) as n'));
    const ticketCounts = Object.fromEntries(tickets.map((row) => [row.status, Number(row.n)]));
    t.equal((ticketCounts.valid ?? 0) + (ticketCounts.admitted ?? 0), Number(sold[0]?.n), 'a ticket for every booked seat');
    const admissions = await rig.db('ticket_admissions').sum<{ n: number }[]>({ n: 'admitted' });
    t.ok((ticketCounts.admitted ?? 0) > 0, 'some got in');
    t.equal(Number(admissions[0]?.n), ticketCounts.admitted, 'the admissions counted are the tickets admitted');
    const payments = await rig.db('payments').groupBy('status').select<{ status: string; n: number }[]>('status', rig.db.raw('count(*) as n'));
    t.same(Object.fromEntries(payments.map((row) => [row.status, Number(row.n)])), { succeeded: flow.bookingsByStatus.confirmed, failed: flow.bookingsByStatus.failed });
    t.equal(Number((await rig.db('users').count<{ n: number }[]>({ n: '*' }))[0]?.n), 50);

    const status = await rig.projectors.status();
    t.same(status.map((view) => [view.name, view.position, view.lag, view.status]), ['users', 'concerts', 'bookings', 'payments', 'tickets', 'legacy-ids', 'queue'].map((name) => [name, flow.head, 0, 'live']));
    t.same(rig.errors, [], 'no projection error');

    // A page delivered again (a restart that read it twice) is refused by the checkpoint.
    const before = await tableChecksums(rig.db);
    const page = await rig.store.readAll({ after: 0, maxCount: 300 });
    for (const projection of rig.projectors.projections.values()) {
      const again = new ProjectionRunner({ db: rig.db, store: rig.store, checkpoints: rig.projectors.checkpoints, projection, onError: () => undefined });
      t.equal(await again.applyPage(0, page), 'moved', `${projection.name} refuses a re-delivered page`);
    }
    t.same(await tableChecksums(rig.db), before, 'nothing changed');
  });
}

t.test('appends in this process of events a projection does not handle move its checkpoint to the head without a poll', async (t) => {
  // Polls an hour apart: only the appends in this process can move the projections within the test.
  const rig = await projectionRig(t, { kind: 'sqlite', pollIntervalMs: 3_600_000 });
  await appendBookingFlow(rig.store, { users: 5, concerts: 1, classSeats: [10], bookings: 5 });
  rig.projectors.start();
  await caughtUp(rig.projectors, 10_000);
  for (let i = 0; i < 3; i++) await rig.store.append(`probe-${randomUUID()}`, [{ id: randomUUID(), type: 'ProbeNoted', data: {}, metadata: {} }], 'no_stream');
  const head = await rig.store.headPosition();
  await caughtUp(rig.projectors, 5_000);
  const status = await rig.projectors.status();
  t.same(status.map((view) => [view.name, view.position]), status.map((view) => [view.name, head]), 'every checkpoint is at the head, past events none of them handles');
  t.same(rig.errors, [], 'no projection error');
});
