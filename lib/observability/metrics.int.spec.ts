import t from 'tap';
import { testApp } from '../../test/support/app.ts';
import { adminToken, book, byClass, createConcert, customer, type Concert } from '../../test/support/booking.ts';
import { eventually } from '../../test/support/eventually.ts';
import { serviceUrl, uniqueName } from '../../test/support/services.ts';

/** The value of one sample line, e.g. `boxoffice_event_store_conflicts_total`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('/metrics: HTTP by route, appends, batches, queue depth, projection lag, seat-cache hits, the process', async (t) => {
  const made = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: uniqueName('m'), REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.command.start();
  services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 50 }]);
  const festival = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const fans = await Promise.all(Array.from({ length: 5 }, () => customer(app)));
  const booked = await Promise.all(fans.map((fan) => book(app, fan.token, byClass(concert.id, festival, 1))));
  t.same(booked.map((response) => response.statusCode), [201, 201, 201, 201, 201]);
  const position = Math.max(...booked.map((response) => response.json<{ position: number }>().position));
  await eventually(async () => (await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability` })).json<{ position: number }>().position >= position, 'cached');
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability` })).statusCode, 200);
  await eventually(async () => (await services.projector.projectors.status()).every((view) => view.lag === 0), 'caught up');

  const response = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = response.body;
  const availabilityCount = sample(text, 'boxoffice_http_request_duration_seconds_count', '{method="GET",route="/api/v1/concerts/:id/availability",status_code="200"}');
  t.ok((availabilityCount ?? 0) >= 4, 'requests counted by route pattern, not by URL');
  t.notMatch(text, concert.id, 'no id in any label');
  t.ok((sample(text, 'boxoffice_event_store_append_seconds_count', '{operation="append"}') ?? 0) >= 6, 'appends timed');
  t.ok((sample(text, 'boxoffice_concert_batch_commands_count') ?? 0) >= 1, 'batch sizes');
  t.ok((sample(text, 'boxoffice_concert_batch_commands_sum') ?? 0) >= 6, 'every command of every batch');
  t.equal(sample(text, 'boxoffice_concert_queue_depth'), 0, 'no command waiting');
  t.equal(sample(text, 'boxoffice_projection_lag_events', '{projection="concerts"}'), 0);
  t.ok((sample(text, 'boxoffice_availability_reads_total', '{source="cache"}') ?? 0) >= 3, 'answers from the seat cache counted');
  t.ok((sample(text, 'boxoffice_seat_cache_hit_ratio') ?? 0) > 0);
  t.type(sample(text, 'boxoffice_event_store_conflicts_total'), 'number');
  t.type(sample(text, 'nodejs_eventloop_lag_p99_seconds'), 'number', 'and the process itself');
});
