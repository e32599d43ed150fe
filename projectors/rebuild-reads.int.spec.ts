import t from 'tap';
import { appendBookingFlow } from '../test/support/booking-flow.ts';
import { testApp } from '../test/support/app.ts';
import { caughtUp } from '../test/support/projections.ts';
import { serviceUrl, uniqueName } from '../test/support/services.ts';

interface Answer {
  readonly status: number;
  readonly concert: string;
  readonly classes: ReadonlyMap<string, number>;
}

t.test('availability answers 200 with the true counts every 10 ms while 200,000 events are rebuilt and swapped in', async (t) => {
  const prefix = uniqueName('rebuild');
  const { app, services } = await testApp(t, { REDIS_URL: serviceUrl('REDIS_URL'), REDIS_KEY_PREFIX: prefix });
  const flow = await appendBookingFlow(services.shared.store, { users: 3_000, concerts: 4, classSeats: [5_000, 25_000], bookings: 46_000, chunk: 500 });
  t.ok(flow.head >= 200_000, `${flow.head} events in the store`);
  services.projector.start();
  await caughtUp(services.projector.projectors, 300_000);
  await services.projector.projectors.cacheRefilled();

  // One concert is served from Redis, another from MySQL (its keys dropped): both paths are read
  // through the swap.
  const [cached, uncached] = flow.concerts as [typeof flow.concerts[number], typeof flow.concerts[number]];
  await services.shared.redis?.del(`${prefix}:seats:g1:avail:${uncached.id}`, `${prefix}:seats:g1:seats:${uncached.id}`);
  const truth = (concert: typeof cached) => new Map(concert.classes.map((c) => [c.id, flow.available.get(c.id) as number]));

  const answers: Answer[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      for (const concert of [cached, uncached]) {
        const response = await app.inject({ method: 'GET', url: `/api/v1/concerts/${concert.id}/availability` });
        const body = response.json<{ ticket_classes?: { id: string; available: number }[] }>();
        answers.push({ status: response.statusCode, concert: concert.id, classes: new Map((body.ticket_classes ?? []).map((c) => [c.id, c.available])) });
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  const progress: { done: number; total: number }[] = [];
  const result = await services.projector.projectors.rebuild('concerts', (p) => progress.push({ done: p.done, total: p.total }));
  // Keep reading a little after the swap: the new tables and the new keys serve now.
  await new Promise((resolve) => setTimeout(resolve, 300));
  reading = false;
  await reader;

  t.equal(result.phase, 'done');
  t.ok(progress.length >= 3 && progress.at(-1)?.done === flow.head, `progress reported ${progress.length} times up to ${flow.head}`);
  t.ok(progress.every((p, i) => i === 0 || p.done >= (progress[i - 1] as { done: number }).done), 'and it only grows');
  t.ok(answers.length > 100, `${answers.length} reads during the rebuild`);
  const bad = answers.filter((answer) => answer.status !== 200);
  t.equal(bad.length, 0, 'every answer is 200');
  const above = answers.filter((answer) => {
    const expected = truth(answer.concert === cached.id ? cached : uncached);
    return [...answer.classes].some(([id, available]) => available > (expected.get(id) ?? -1));
  });
  t.equal(above.length, 0, 'no answer shows more seats than there are');
  const wrong = answers.filter((answer) => {
    const expected = truth(answer.concert === cached.id ? cached : uncached);
    return answer.classes.size !== expected.size || [...expected].some(([id, available]) => answer.classes.get(id) !== available);
  });
  t.equal(wrong.length, 0, 'every answer shows exactly the true counts (nothing was sold during the rebuild)');
  t.equal((await services.projector.projectors.checkpoints.get('concerts'))?.generation, 2, 'the rebuilt tables are live');
});
