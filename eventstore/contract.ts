/**
 * The contract every event store adapter passes: one function, called by each adapter's spec
 * with a way to open a fresh, empty store. Not shipped (the build leaves it out).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import {
  InvalidAppend,
  WritesConflicted,
  WrongExpectedRevision,
  type AllPage,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type Subscription,
} from './port.ts';

/** Opens an empty store for one test and arranges (with t.teardown) for it to be closed. */
export type OpenStore = (t: Test) => Promise<EventStore>;

export function event(type: string, data: Record<string, unknown> = {}): EventToAppend {
  const id = randomUUID();
  return {
    id,
    type,
    data,
    metadata: { event_id: id, correlation_id: 'contract', causation_id: 'contract', actor_id: null, schema_version: 1, occurred_at: new Date().toISOString() },
  };
}

const events = (count: number, type = 'Thing'): EventToAppend[] => Array.from({ length: count }, (_, i) => event(type, { n: i }));

async function rejectsWith(t: Test, promise: Promise<unknown>, stream: string, expected: ExpectedRevision, actual: number | 'no_stream'): Promise<void> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  t.type(thrown, WrongExpectedRevision, 'refused with WrongExpectedRevision');
  t.match(thrown, { stream, expected, actual });
}

/** Reads pages from a subscription until `count` events have arrived (or fails after a timeout). */
async function collect(subscription: Subscription, count: number, timeoutMs = 30_000): Promise<{ events: RecordedEvent[]; pages: AllPage[] }> {
  const collected: RecordedEvent[] = [];
  const pages: AllPage[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const page of subscription) {
      pages.push(page);
      collected.push(...page.events);
      if (collected.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return { events: collected, pages };
}

function strictlyIncreasing(positions: readonly number[]): boolean {
  return positions.every((position, i) => i === 0 || position > (positions[i - 1] as number));
}

export function eventStoreContract(t: Test, open: OpenStore): void {
  t.test('appends to a new stream and reads it back as written', async (t) => {
    const store = await open(t);
    const written = [event('SeatsHeld', { seats: ['A-1'], total_price: 150_000 }), event('HoldReleased'), event('SeatsHeld')];
    const result = await store.append('concert-1', written, 'no_stream');
    t.equal(result.nextExpectedRevision, 2);
    const read = await store.readStream('concert-1');
    t.strictSame(read.map((e) => [e.id, e.type, e.revision, e.stream]), written.map((e, i) => [e.id, e.type, i, 'concert-1']));
    t.strictSame(read[0]?.data, { seats: ['A-1'], total_price: 150_000 });
    t.strictSame(read[0]?.metadata, written[0]?.metadata);
    t.ok(strictlyIncreasing(read.map((e) => e.position)), 'positions grow');
    t.equal(read[2]?.position, result.position, 'the result names the position of the last event');
    t.ok(read.every((e) => !Number.isNaN(Date.parse(e.recordedAt))), 'each event has a recording time');
    t.equal(await store.headPosition(), result.position);
  });

  t.test('appends at the expected revision, and refuses a wrong one without writing anything', async (t) => {
    const store = await open(t);
    await store.append('booking-1', events(3), 'no_stream');
    const next = await store.append('booking-1', events(2), 2);
    t.equal(next.nextExpectedRevision, 4);
    const head = await store.headPosition();
    await rejectsWith(t, store.append('booking-1', events(1), 2), 'booking-1', 2, 4);
    await rejectsWith(t, store.append('booking-1', events(1), 7), 'booking-1', 7, 4);
    t.equal((await store.readStream('booking-1')).length, 5, 'nothing was appended');
    t.equal(await store.headPosition(), head, 'no position was used up');
  });

  t.test('"no_stream" on an existing stream, or a revision on a missing one, is a conflict', async (t) => {
    const store = await open(t);
    await store.append('user-1', events(2), 'no_stream');
    await rejectsWith(t, store.append('user-1', events(1), 'no_stream'), 'user-1', 'no_stream', 1);
    await rejectsWith(t, store.append('user-2', events(1), 0), 'user-2', 0, 'no_stream');
  });

  t.test('"any" appends to a new or an existing stream', async (t) => {
    const store = await open(t);
    t.equal((await store.append('outbox-1', events(2), 'any')).nextExpectedRevision, 1);
    t.equal((await store.append('outbox-1', events(3), 'any')).nextExpectedRevision, 4);
    t.equal((await store.readStream('outbox-1')).length, 5);
  });

  t.test('of many appends racing at the same revision, exactly one wins', async (t) => {
    const store = await open(t);
    await store.append('concert-race', events(1), 'no_stream');
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => store.append('concert-race', events(2), 0)));
    t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'one append succeeded');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    t.equal(refused.length, 9);
    t.ok(refused.every((o) => o.reason instanceof WrongExpectedRevision), 'the others were told why');
    t.equal((await store.readStream('concert-race')).length, 3);
  });

  t.test('of many creators of one stream, exactly one wins', async (t) => {
    const store = await open(t);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store.append('username-rina', events(1), 'no_stream')));
    t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    t.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof WrongExpectedRevision));
  });

  t.test('reads a stream forwards and backwards from a revision', async (t) => {
    const store = await open(t);
    await store.append('concert-r', events(6), 'no_stream');
    const revisions = (list: RecordedEvent[]) => list.map((e) => e.revision);
    t.strictSame(revisions(await store.readStream('concert-r')), [0, 1, 2, 3, 4, 5]);
    t.strictSame(revisions(await store.readStream('concert-r', { fromRevision: 2, maxCount: 2 })), [2, 3]);
    t.strictSame(revisions(await store.readStream('concert-r', { direction: 'backward' })), [5, 4, 3, 2, 1, 0]);
    t.strictSame(revisions(await store.readStream('concert-r', { direction: 'backward', maxCount: 1 })), [5], 'the last event');
    t.strictSame(revisions(await store.readStream('concert-r', { direction: 'backward', fromRevision: 3, maxCount: 2 })), [3, 2]);
    t.strictSame(await store.readStream('concert-none'), [], 'a missing stream reads empty');
  });

  t.test('reads all events in position order, after a position, filtered by stream prefix and type', async (t) => {
    const store = await open(t);
    t.strictSame(await store.readAll(), { events: [], position: 0 }, 'an empty store');
    await store.append('concert-1', [event('ConcertScheduled'), event('SeatsHeld')], 'no_stream');
    await store.append('user-1', [event('UserRegistered')], 'no_stream');
    await store.append('concert-2', [event('ConcertScheduled')], 'no_stream');
    await store.append('booking-1', [event('BookingPlaced'), event('BuyerDetailsRecorded')], 'no_stream');
    const head = await store.headPosition();

    const all = await store.readAll();
    t.strictSame(all.events.map((e) => e.type), ['ConcertScheduled', 'SeatsHeld', 'UserRegistered', 'ConcertScheduled', 'BookingPlaced', 'BuyerDetailsRecorded']);
    t.ok(strictlyIncreasing(all.events.map((e) => e.position)));
    t.equal(all.position, head);

    const third = all.events[2] as RecordedEvent;
    t.strictSame((await store.readAll({ after: third.position })).events.map((e) => e.type), ['ConcertScheduled', 'BookingPlaced', 'BuyerDetailsRecorded'], '"after" is exclusive');

    const paged: string[] = [];
    let after = 0;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 4 });
      paged.push(...page.events.map((e) => e.id));
      if (page.position === after) break;
      t.ok(page.events.length <= 4);
      after = page.position;
    }
    t.strictSame(paged, all.events.map((e) => e.id), 'pages cover everything exactly once');

    const concerts = await store.readAll({ filter: { streamPrefixes: ['concert-'] } });
    t.strictSame(concerts.events.map((e) => e.stream), ['concert-1', 'concert-1', 'concert-2']);
    t.equal(concerts.position, head, 'a filtered read still reports how far it looked');
    const scheduled = await store.readAll({ filter: { eventTypes: ['ConcertScheduled', 'BookingPlaced'] } });
    t.strictSame(scheduled.events.map((e) => e.stream), ['concert-1', 'concert-2', 'booking-1']);
    const both = await store.readAll({ filter: { streamPrefixes: ['concert-', 'user-'], eventTypes: ['UserRegistered', 'SeatsHeld'] } });
    t.strictSame(both.events.map((e) => e.type), ['SeatsHeld', 'UserRegistered']);
    t.strictSame((await store.readAll({ filter: { streamPrefixes: ['Concert-'] } })).events, [], 'prefixes are case-sensitive');
    t.strictSame((await store.readAll({ filter: { streamPrefixes: ['concert_'] } })).events, [], 'an underscore is not a wildcard');
  });

  t.test('appending the same events again is a no-op that returns the first result', async (t) => {
    const store = await open(t);
    const batch = events(3);
    const first = await store.append('booking-idem', batch, 'no_stream');
    t.strictSame(await store.append('booking-idem', batch, 'no_stream'), first, 'retried with the same expected revision');
    t.strictSame(await store.append('booking-idem', batch, 'any'), first, 'retried with "any"');
    const more = events(1);
    const second = await store.append('booking-idem', more, 2);
    t.strictSame(await store.append('booking-idem', more, 2), second, 'a later append retried');
    t.equal((await store.readStream('booking-idem')).length, 4, 'nothing was appended twice');
    t.equal(await store.headPosition(), second.position);

    const mixed = [batch[0] as EventToAppend, event('Thing')];
    await rejectsWith(t, store.append('booking-idem', mixed, 0), 'booking-idem', 0, 3);
    t.equal((await store.readStream('booking-idem')).length, 4, 'a partial repeat appends nothing');
  });

  t.test('takes large appends: 1,200 events to one stream, and 1,200 across 400 streams at once', async (t) => {
    const store = await open(t);
    const big = events(1_200);
    const result = await store.append('concert-big', big, 'no_stream');
    t.equal(result.nextExpectedRevision, 1_199);
    t.strictSame((await store.readStream('concert-big')).map((e) => e.id), big.map((e) => e.id));
    const many = Array.from({ length: 400 }, (_, i) => ({ stream: `booking-many-${i}`, events: events(3), expected: 'no_stream' as const }));
    const outcomes = await store.appendMany(many);
    t.ok(outcomes.every((o) => o.status === 'fulfilled'), 'every write is appended');
    t.equal(await store.headPosition(), result.position + 1_200);
  });

  t.test('appends to several streams at once, each answered on its own', async (t) => {
    const store = await open(t);
    await store.append('booking-existing', events(1), 'no_stream');
    const writes = [
      { stream: 'booking-a', events: events(3), expected: 'no_stream' as const },
      { stream: 'booking-b', events: events(1), expected: 'no_stream' as const },
      { stream: 'booking-existing', events: events(2), expected: 0 },
      { stream: 'booking-c', events: events(2), expected: 'any' as const },
    ];
    const outcomes = await store.appendMany(writes);
    t.strictSame(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const results = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : null));
    t.strictSame(results.map((r) => r?.nextExpectedRevision), [2, 0, 2, 1]);
    for (const [i, write] of writes.entries()) {
      const read = await store.readStream(write.stream);
      t.strictSame(read.slice(-write.events.length).map((e) => e.id), write.events.map((e) => e.id), `${write.stream} holds its events`);
      t.equal(read.at(-1)?.position, results[i]?.position, `${write.stream}: the result names its last event`);
    }
    t.strictSame(await store.streamRevisions(['booking-a', 'booking-existing', 'booking-none']), new Map([['booking-a', 2], ['booking-existing', 2]]));

    const again = await store.appendMany([
      { stream: 'booking-d', events: events(1), expected: 'no_stream' },
      { stream: 'booking-a', events: events(1), expected: 'no_stream' },
      { stream: 'booking-e', events: events(2), expected: 'no_stream' },
    ]);
    t.strictSame(again.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled'], "one stream's conflict does not refuse the others");
    t.type((again[1] as PromiseRejectedResult).reason, WrongExpectedRevision);
    t.equal((await store.readStream('booking-a')).length, 3, 'the refused write added nothing');
    t.equal((await store.readStream('booking-e')).length, 2);
    const all = (await store.readAll({ maxCount: 1_000 })).events.map((e) => e.position);
    t.strictSame(all, [...all].sort((a, b) => a - b), 'positions still grow');
    t.equal(new Set(all).size, all.length);
  });

  t.test('keeps every character of a stream name, a type and the data as written', async (t) => {
    const store = await open(t);
    const text = `it's "quoted" \\ back\\slash \\' \0 nul \n newline \r \u001a ? ?? -- ; 🎫 Jalan Merdeka ™ '); DROP TABLE es_events; --`;
    const stream = "booking-o'brien\\ ?";
    const written = { id: randomUUID(), type: "Thing'\\?", data: { text, nested: { list: [text, 1, null] } }, metadata: { note: text } };
    const together = { id: randomUUID(), type: 'Thing', data: { text }, metadata: {} };
    await store.append(stream, [written], 'no_stream');
    const all = await store.appendAll([{ stream, events: [together], expected: 0 }, { stream: `${stream}-2`, events: [together].map((e) => ({ ...e, id: randomUUID() })), expected: 'no_stream' }]);
    const [first, second] = await store.readStream(stream);
    t.strictSame([first?.type, first?.data, first?.metadata], [written.type, written.data, written.metadata]);
    if (all !== null) t.strictSame(second?.data, { text }, 'also through appendAll');
    t.strictSame((await store.readAll({ filter: { streamPrefixes: ["booking-o'brien"] } })).events.map((e) => e.stream), all === null ? [stream] : [stream, stream, `${stream}-2`]);
  });

  t.test('appendAll writes several streams together, or none of them', async (t) => {
    const store = await open(t);
    await store.append('concert-together', events(2), 'no_stream');
    const writes = [
      { stream: 'concert-together', events: events(2), expected: 1 },
      { stream: 'booking-together-a', events: events(1), expected: 'no_stream' as const },
      { stream: 'booking-together-b', events: events(2), expected: 'no_stream' as const },
    ];
    const results = await store.appendAll(writes);
    if (results === null) {
      // A store without transactions across streams writes nothing and says so.
      t.strictSame(await store.streamRevisions(writes.map((w) => w.stream)), new Map([['concert-together', 1]]), 'nothing was written');
      return;
    }
    t.strictSame(results.map((r) => r.nextExpectedRevision), [3, 0, 1]);
    const positions = [];
    for (const [i, write] of writes.entries()) {
      const read = await store.readStream(write.stream);
      t.strictSame(read.slice(-write.events.length).map((e) => e.id), write.events.map((e) => e.id), `${write.stream} holds its events`);
      t.equal(read.at(-1)?.position, results[i]?.position, `${write.stream}: the result names its last event`);
      positions.push(...read.slice(-write.events.length).map((e) => e.position));
    }
    t.strictSame(positions, [...positions].sort((a, b) => a - b), 'positions follow the order of the writes');
    const head = await store.headPosition();

    // A conflict in any write (a stale revision, a stream that exists) writes none of them.
    for (const conflicting of [
      { stream: 'concert-together', events: events(1), expected: 1 },
      { stream: 'booking-together-a', events: events(1), expected: 'no_stream' as const },
    ]) {
      const others = [
        { stream: 'booking-together-c', events: events(1), expected: 'no_stream' as const },
        { stream: 'concert-together', events: events(1), expected: 3 },
      ].filter((w) => w.stream !== conflicting.stream);
      await t.rejects(store.appendAll([...others, conflicting]), WritesConflicted, `${conflicting.stream}: refused`);
      t.equal(await store.headPosition(), head, 'no position was used up');
      t.strictSame(await store.streamRevisions(['concert-together', 'booking-together-a', 'booking-together-c']), new Map([['concert-together', 3], ['booking-together-a', 0]]), 'nothing was written');
    }

    // Two streams that exist, one at its revision and one not (behind, ahead): neither moves.
    for (const stale of [0, 2]) {
      await t.rejects(store.appendAll([
        { stream: 'concert-together', events: events(1), expected: 3 },
        { stream: 'booking-together-b', events: events(1), expected: stale },
        { stream: 'booking-together-d', events: events(1), expected: 'no_stream' as const },
      ]), WritesConflicted, `booking-together-b expected at ${stale}: refused`);
      t.equal(await store.headPosition(), head, 'no position was used up');
      t.strictSame(await store.streamRevisions(['concert-together', 'booking-together-b', 'booking-together-d']), new Map([['concert-together', 3], ['booking-together-b', 1]]), 'nothing was written');
    }
  });

  t.test('refuses what no store should write', async (t) => {
    const store = await open(t);
    await t.rejects(store.append('concert-x', [], 'any'), InvalidAppend);
    await t.rejects(store.append('', events(1), 'any'), InvalidAppend);
    await t.rejects(store.append('concert-x', [{ ...event('Thing'), id: 'not-a-uuid' }], 'any'), InvalidAppend);
    const twice = event('Thing');
    await t.rejects(store.append('concert-x', [twice, twice], 'any'), InvalidAppend);
    t.equal(await store.headPosition(), 0);
  });

  t.test('a subscription catches up, then follows live appends, without loss or repeats across the switch', async (t) => {
    const store = await open(t);
    for (let i = 0; i < 10; i++) await store.append(`concert-${i}`, events(5), 'no_stream');
    const subscription = store.subscribe({ batchSize: 7 });
    // Keep appending while the subscription catches up, and after it has.
    const writer = (async () => {
      for (let i = 10; i < 20; i++) {
        await store.append(`concert-${i}`, events(5), 'no_stream');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const { events: seen, pages } = await collect(subscription, 100);
    await writer;
    await subscription.close();
    t.equal(seen.length, 100, 'every event arrived');
    t.equal(new Set(seen.map((e) => e.id)).size, 100, 'none twice');
    t.ok(strictlyIncreasing(seen.map((e) => e.position)), 'in position order');
    t.ok(pages.every((page) => page.events.length <= 7), 'no page larger than asked');
    const all = await store.readAll({ maxCount: 1_000 });
    t.strictSame(seen.map((e) => e.id), all.events.map((e) => e.id), 'the same events as a read of everything');
  });

  t.test('a subscription resumes after a checkpoint', async (t) => {
    const store = await open(t);
    for (let i = 0; i < 6; i++) await store.append(`booking-${i}`, events(5), 'no_stream');
    const first = store.subscribe({ batchSize: 10 });
    const before = await collect(first, 10);
    await first.close();
    const checkpoint = before.pages[before.pages.length - 1]?.position ?? 0;
    t.equal(before.events.length, 10);

    const resumed = store.subscribe({ after: checkpoint, batchSize: 10 });
    const after = await collect(resumed, 20);
    await resumed.close();
    t.strictSame(
      [...before.events, ...after.events].map((e) => e.id),
      (await store.readAll()).events.map((e) => e.id),
      'the two subscriptions together saw every event once',
    );
  });

  t.test('a filtered subscription hands over matching events and reports progress past the others', async (t) => {
    const store = await open(t);
    await store.append('concert-1', events(2, 'SeatsHeld'), 'no_stream');
    await store.append('user-1', events(3, 'UserRegistered'), 'no_stream');
    const subscription = store.subscribe({ filter: { streamPrefixes: ['concert-'] } });
    const pages: AllPage[] = [];
    const head = await store.headPosition();
    for await (const page of subscription) {
      pages.push(page);
      if (page.position >= head) break;
    }
    await subscription.close();
    t.strictSame(pages.flatMap((p) => p.events.map((e) => e.stream)), ['concert-1', 'concert-1']);
    t.equal(pages[pages.length - 1]?.position, head, 'progress reaches the head although its last events were filtered out');
  });

  t.test('closing a subscription ends it, also while it waits for new events', async (t) => {
    const store = await open(t);
    await store.append('concert-1', events(1), 'no_stream');
    const subscription = store.subscribe();
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await iterator.next();
    t.equal(first.done, false);
    const waiting = iterator.next();
    setTimeout(() => void subscription.close(), 50);
    t.equal((await waiting).done, true, 'the waiting read ends');
    const never = store.subscribe();
    await never.close();
    t.equal((await never[Symbol.asyncIterator]().next()).done, true, 'a subscription closed before it started ends at once');
  });

  t.test('8 writers x 500 appends while a subscriber runs: it sees every event once, in order', async (t) => {
    const store = await open(t);
    const writers = 8;
    const appendsEach = 500;
    const total = writers * appendsEach;
    const subscription = store.subscribe({ batchSize: 100 });
    const reading = collect(subscription, total, 120_000);
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      let expected: ExpectedRevision = 'no_stream';
      for (let i = 0; i < appendsEach; i++) {
        expected = (await store.append(`writer-${w}`, [event('Tick', { w, i })], expected)).nextExpectedRevision;
      }
    }));
    const { events: seen } = await reading;
    await subscription.close();
    t.equal(seen.length, total, `all ${total} events arrived (${seen.length} did)`);
    t.equal(new Set(seen.map((e) => e.id)).size, total, 'none twice');
    t.ok(strictlyIncreasing(seen.map((e) => e.position)), 'strictly increasing positions');
    for (let w = 0; w < writers; w++) {
      const mine = seen.filter((e) => e.stream === `writer-${w}`).map((e) => (e.data as { i: number }).i);
      if (mine.some((value, i) => value !== i)) t.fail(`writer ${w}'s events arrived out of order`);
    }
  });

  t.test('keeps the newest snapshot of a stream', async (t) => {
    const store = await open(t);
    t.equal(await store.loadSnapshot('concert-snap'), null, 'none yet');
    await store.saveSnapshot('concert-snap', { revision: 10, data: { seats: 'AAEC', holds: [['b1', 3]] } });
    t.strictSame(await store.loadSnapshot('concert-snap'), { revision: 10, data: { seats: 'AAEC', holds: [['b1', 3]] } });
    await store.saveSnapshot('concert-snap', { revision: 5, data: { stale: true } });
    t.equal((await store.loadSnapshot('concert-snap'))?.revision, 10, 'an older snapshot does not replace a newer one');
    await store.saveSnapshot('concert-snap', { revision: 20, data: { fresh: true } });
    t.strictSame(await store.loadSnapshot('concert-snap'), { revision: 20, data: { fresh: true } });
    t.equal(await store.loadSnapshot('concert-other'), null, 'per stream');
  });

  t.test("keeps a snapshot longer than one append takes, compressed or not, out of every stream's reads", async (t) => {
    const store = await open(t);
    const stream = `concert-${randomUUID()}`;
    // A big sale's pending holds: sealed holders, random text gzip cannot shrink (EventStoreDB takes 1 MiB in one append).
    const data = { version: 5, holds: Array.from({ length: 25_000 }, () => randomBytes(96).toString('base64')) };
    const head = await store.headPosition();
    await store.saveSnapshot(stream, { revision: 50_000, data });
    t.strictSame(await store.loadSnapshot(stream), { revision: 50_000, data });
    const next = { version: 5, holds: data.holds.slice(1_000) };
    await store.saveSnapshot(stream, { revision: 51_000, data: next });
    t.strictSame(await store.loadSnapshot(stream), { revision: 51_000, data: next }, 'a newer one replaces it');
    t.same(await store.readStream(stream), [], 'the stream has no event of it');
    t.same((await store.readAll({ after: head, maxCount: 100 })).events.filter((event) => event.stream.includes(stream)), [], 'nor has $all');
  });
}
