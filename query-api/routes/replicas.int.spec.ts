/**
 * The query API on a MariaDB primary and two replicas kept by real replication (GTID, row-based;
 * the replicas are read-only and reached by an account that may only SELECT).
 */
import t from 'tap';
import { startReplicatedMariaDb } from '../../test/harness/replication.ts';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { bearer } from '../../test/support/users.ts';

t.test('reads go to the replicas in turn, to the primary where they must', async (t) => {
  const servers = await startReplicatedMariaDb(2);
  t.teardown(() => servers.stop());
  const { primaryUrl, replicaUrls } = await servers.database('boxoffice');
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', MYSQL_URL: primaryUrl, MYSQL_REPLICA_URLS: replicaUrls.join(',') });
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const sources = services.query.api.sources;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 750_000, total_seats_in_class: 50 }]);
  const festival = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const replicated = (position: number) => eventually(
    async () => sources.replicas().every((replica) => replica.healthy && (replica.positions.concerts ?? 0) >= position && (replica.positions.bookings ?? 0) >= position),
    'both replicas caught up',
    20_000,
  );
  await replicated(concert.position);
  const reads = () => sources.replicas().map((replica) => replica.reads);
  const readConcert = async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}` });
    t.equal(response.statusCode, 200);
    return response.json<{ available_seats: number }>().available_seats;
  };

  const before = reads();
  for (let i = 0; i < 10; i++) t.equal(await readConcert(), 50);
  t.same(reads().map((count, i) => count - (before[i] ?? 0)), [5, 5], 'ten reads: five on each replica, none on the primary');

  // Replication stops: the replicas lag behind what the primary's projections hold.
  for (const replica of servers.replicas) await servers.sql(replica, 'STOP SLAVE');
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, festival, 2));
  t.equal(booked.statusCode, 201);
  const { id, position } = booked.json<{ id: string; position: number }>();
  const own = await app.inject({ method: 'GET', url: `/api/v1/bookings/${id}?min_position=${position}`, headers: bearer(fan.token) });
  t.equal(own.statusCode, 200, 'a read that names its position is answered by the primary while the replicas lag');
  t.equal(own.json<{ status: string }>().status, 'pending');
  t.ok(Number(own.headers['x-projection-position']) >= position);
  const fresh = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability?min_position=${position}` });
  t.same(fresh.json<{ ticket_classes: unknown[] }>().ticket_classes, [{ id: festival, available: 48 }]);
  const stale = await app.inject({ method: 'GET', url: `/api/v1/bookings/${id}`, headers: bearer(fan.token) });
  t.equal(stale.statusCode, 404, 'a read that names no position is served by a replica, which has not seen the booking yet');
  t.ok(Number(stale.headers['x-projection-position']) < position, 'and says how far the replica is');
  // The sales report reads four projections in one snapshot: where all of them hold the position.
  const reportUrl = `/api/v1/admin/concerts/${concert.id}/report`;
  const report = await app.inject({ method: 'GET', url: `${reportUrl}?min_position=${position}`, headers: bearer(admin) });
  t.equal(report.statusCode, 200, 'the report that names its position is answered by the primary');
  t.match(report.json(), { total: { held: 2, available: 48 } });
  const readsBefore = reads();
  const staleReport = await app.inject({ method: 'GET', url: reportUrl, headers: bearer(admin) });
  t.match(staleReport.json(), { total: { held: 0, available: 50 } }, 'one that names none is read on a replica (read-only, SELECT only)');
  t.ok(Number(staleReport.headers['x-projection-position']) < position);
  t.equal(reads().reduce((sum, count, i) => sum + count - (readsBefore[i] ?? 0), 0), 1);

  for (const replica of servers.replicas) await servers.sql(replica, 'START SLAVE');
  await replicated(position);
  const caughtUp = await app.inject({ method: 'GET', url: `/api/v1/bookings/${id}`, headers: bearer(fan.token) });
  t.equal(caughtUp.statusCode, 200, 'replication resumed: the replicas show it');

  // One replica dies: reads keep their answers, the dead one is set aside until it is back.
  const [first, second] = servers.replicas as [typeof servers.replicas[0], typeof servers.replicas[0]];
  await first.kill();
  const whileDown = reads();
  for (let i = 0; i < 10; i++) t.equal(await readConcert(), 48, 'a read while a replica is down');
  t.equal(sources.replicas()[0]?.healthy, false, 'the dead replica is set aside');
  t.equal(sources.replicas()[0]?.reads, whileDown[0], 'and answers nothing');
  t.ok((sources.replicas()[1]?.reads ?? 0) - (whileDown[1] ?? 0) >= 9, 'the other replica answers (the read that found the dead one went to the primary)');
  await first.restart();
  await eventually(async () => sources.replicas()[0]?.healthy, 'the restarted replica back in turn', 20_000);
  const afterRestart = reads();
  for (let i = 0; i < 10; i++) t.equal(await readConcert(), 48);
  t.same(reads().map((count, i) => count - (afterRestart[i] ?? 0)), [5, 5], 'back in turn once it answers');

  await Promise.all([first.kill(), second.kill()]);
  for (let i = 0; i < 4; i++) t.equal(await readConcert(), 48, 'no replica answers: the primary does');
  t.same(sources.replicas().map((replica) => replica.healthy), [false, false]);
});
