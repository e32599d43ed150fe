import { EventEmitter } from 'node:events';
import t, { type Test } from 'tap';
import type { AllPage, SubscribeOptions } from '../port.ts';
import { pollingSubscription } from './subscription.ts';

/** A subscription over a fake store whose head the test moves; counts the pages it reads. */
function following(filter?: { streamPrefixes?: string[]; eventTypes?: string[] }, options: { handledHere?: SubscribeOptions['handledHere']; pollIntervalMs?: number } = {}) {
  const appended = new EventEmitter();
  let head = 0;
  let reads = 0;
  const readPage = async (after: number): Promise<AllPage> => {
    reads++;
    return { events: [], position: Math.max(after, head) };
  };
  // Polling an hour apart: only a wake from an append makes it read again within the test.
  const subscription = pollingSubscription({
    readPage, after: 0, pageSize: 100, pollIntervalMs: () => options.pollIntervalMs ?? 3_600_000, appended,
    ...(filter ? { filter } : {}), ...(options.handledHere ? { handledHere: options.handledHere } : {}),
  });
  const iterator = subscription[Symbol.asyncIterator]();
  return {
    subscription,
    iterator,
    reads: () => reads,
    append(position: number, writes?: { stream: string; events: { type: string }[] }[]) {
      head = position;
      appended.emit('appended', position, writes);
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const positionOf = (result: IteratorResult<AllPage>) => (result.done === true ? undefined : result.value.position);

t.test('an append in this process with nothing the filter passes is not read', async (t) => {
  const follow = following({ streamPrefixes: ['payment-'], eventTypes: ['PaymentSucceeded'] });
  t.teardown(() => follow.subscription.close());
  const next = follow.iterator.next();
  await settle();
  t.equal(follow.reads(), 1, 'the first page is read at once');
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  follow.append(3, [{ stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }, { stream: 'payment-1', events: [{ type: 'PaymentOpened' }] }]);
  await settle();
  t.equal(follow.reads(), 1, 'holds, bookings and other payment events: no read');
  const passed = await within(100, next);
  t.equal(passed === 'late' ? 'late' : positionOf(passed), 3, 'but a page of nothing at their position at once, as a read would have given');
  follow.append(6, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }, { stream: 'payment-1', events: [{ type: 'PaymentOpened' }, { type: 'PaymentSucceeded' }] }]);
  const page = await follow.iterator.next();
  t.equal(follow.reads(), 2, 'an append with one event it handles wakes it');
  t.equal(positionOf(page), 6, 'and its read covers everything appended before');
});

t.test('an append elsewhere (a position only) or any append without a filter wakes it', async (t) => {
  const filtered = following({ eventTypes: ['PaymentSucceeded'] });
  t.teardown(() => filtered.subscription.close());
  const first = filtered.iterator.next();
  await settle();
  filtered.append(5);
  t.equal(positionOf(await first), 5, 'woken by a position told by another process');
  const all = following();
  t.teardown(() => all.subscription.close());
  const second = all.iterator.next();
  await settle();
  all.append(7, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  t.equal(positionOf(await second), 7, 'no filter: every append wakes it');
});

const within = <T>(ms: number, promise: Promise<T>) => Promise.race([promise, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ms).unref())]);

t.test('an append in this process with nothing for it, right after its position, moves it to the append\'s position at once and without a read', async (t) => {
  const follow = following({ eventTypes: ['SeatsHeld'] });
  t.teardown(() => follow.subscription.close());
  const first = follow.iterator.next();
  await settle();
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  t.equal(positionOf(await first), 1, 'the hold is read');
  const reads = follow.reads();
  follow.append(2, [{ stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }]);
  const next = await within(100, follow.iterator.next());
  t.equal(next === 'late' ? 'late' : positionOf(next), 2, 'the next page, at the booking\'s position, comes within 100 ms (polls are an hour apart)');
  t.equal(follow.reads(), reads, 'and without reading the store');
});

t.test('an append in this process with nothing for it after a gap (events from elsewhere may lie between) is read', async (t) => {
  const follow = following({ eventTypes: ['SeatsHeld'] });
  t.teardown(() => follow.subscription.close());
  const first = follow.iterator.next();
  await settle();
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  t.equal(positionOf(await first), 1, 'the hold is read');
  // Position 2 is another process's, not told yet: only a read knows whether it holds seats.
  follow.append(3, [{ stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }]);
  const next = await within(100, follow.iterator.next());
  t.equal(next === 'late' ? 'late' : positionOf(next), 3, 'read at once');
  t.equal(follow.reads(), 3, 'by a read of the store');
});

t.test('appends with nothing for it while the consumer works, or while a page is read, are passed in one page without a read', async (t) => {
  const appended = new EventEmitter();
  let head = 0;
  let reads = 0;
  let release: (() => void) | undefined;
  const readPage = async (after: number): Promise<AllPage> => {
    reads++;
    const seen = head; // what the read sees: the head when it began
    if (reads === 3) await new Promise<void>((resolve) => { release = resolve; });
    return { events: [], position: Math.max(after, seen) };
  };
  const subscription = pollingSubscription({ readPage, after: 0, pageSize: 100, pollIntervalMs: () => 3_600_000, appended, filter: { eventTypes: ['SeatsHeld'] } });
  t.teardown(() => subscription.close());
  const iterator = subscription[Symbol.asyncIterator]();
  const append = (position: number, type: string, stream = 'booking-1') => {
    head = position;
    appended.emit('appended', position, [{ stream, events: [{ type }] }]);
  };
  const first = iterator.next();
  await settle();
  append(1, 'SeatsHeld');
  t.equal(positionOf(await first), 1, 'read');
  for (let position = 2; position <= 5; position++) append(position, 'BookingPlaced');
  const bookings = await within(100, iterator.next());
  t.equal(bookings === 'late' ? 'late' : positionOf(bookings), 5, 'four bookings: one page at the last');
  t.equal(reads, 2, 'no read for them');
  // A hold wakes a read; bookings appended while it is in flight (which it may not see) follow it.
  const third = iterator.next();
  append(6, 'SeatsHeld', 'concert-1');
  await settle();
  append(7, 'BookingPlaced');
  append(8, 'BookingPlaced');
  release?.();
  t.equal(positionOf(await third), 6, 'the read saw the hold only');
  const after = await within(100, iterator.next());
  t.equal(after === 'late' ? 'late' : positionOf(after), 8, 'then the bookings after it, at once');
  t.equal(reads, 3, 'without another read');
});

/**
 * A subscription to holds, started (its first read done), whose appends are offered to a
 * handledHere that takes on every one, each settled by the test (`asked`).
 */
async function offering(t: Test, pollIntervalMs?: number) {
  const asked: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const handledHere = () => new Promise<void>((resolve, reject) => {
    asked.push({ resolve, reject });
  });
  const follow = following({ eventTypes: ['SeatsHeld'] }, { handledHere, ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });
  t.teardown(() => follow.subscription.close());
  const first = follow.iterator.next();
  await settle();
  return { asked, follow, first };
}

/** An append of a hold with its booking stream. */
const holdWithBooking = [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }, { stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }];

/** The position of the page within 100 ms, or 'late'. */
const positionWithin = async (page: Promise<IteratorResult<AllPage>>) => {
  const result = await within(100, page);
  return result === 'late' ? 'late' : positionOf(result);
};

t.test('an append whose work is done elsewhere in this process is passed without a read once that work is done, not before', async (t) => {
  const { asked, follow, first } = await offering(t);
  t.equal(follow.reads(), 1, 'the first page is read at once');
  follow.append(2, holdWithBooking);
  t.equal(asked.length, 1, 'the append it would read is offered');
  t.equal(await within(100, first), 'late', 'no page while the work is not done');
  t.equal(follow.reads(), 1, 'and no read');
  asked[0]?.resolve();
  t.equal(await positionWithin(first), 2, 'once done: a page of nothing at its position');
  t.equal(follow.reads(), 1, 'without reading the store');
});

t.test('an append whose work elsewhere failed is read', async (t) => {
  const { asked, follow, first } = await offering(t);
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  await settle();
  asked[0]?.reject(new Error('the due times could not be written'));
  t.equal(await positionWithin(first), 1, 'its page comes at once');
  t.equal(follow.reads(), 2, 'from a read of the store');
});

t.test('an append nothing here takes on is read as before', async (t) => {
  let asked = 0;
  const follow = following({ eventTypes: ['SeatsHeld'] }, { handledHere: () => void asked++ });
  t.teardown(() => follow.subscription.close());
  const first = follow.iterator.next();
  await settle();
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  t.equal(positionOf(await first), 1, 'read');
  t.equal(follow.reads(), 2, 'by a read of the store');
  t.equal(asked, 1, 'after it was offered');
  follow.append(2, [{ stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }]);
  t.equal(positionOf(await follow.iterator.next()), 2, 'an append the filter leaves out is passed');
  t.equal(asked, 1, 'without being offered');
});

t.test('an append taken on after a gap (another process\'s events may lie between) is read once its work is done', async (t) => {
  const { asked, follow, first } = await offering(t);
  // Position 1 is another process's, not told yet.
  follow.append(3, holdWithBooking);
  await settle();
  t.equal(follow.reads(), 1, 'no read while its work goes on');
  asked[0]?.resolve();
  t.equal(await positionWithin(first), 3, 'then its page');
  t.equal(follow.reads(), 2, 'from a read, which finds what lies in the gap');
});

t.test('an append taken on after a gap is read even when appends told after it were passed meanwhile', async (t) => {
  const { asked, follow, first } = await offering(t);
  // Position 1 is another process's, not told yet; the holds at 2..3 are taken on.
  follow.append(3, holdWithBooking);
  // Then something it does not read, told at once: right after the holds, so no gap of its own.
  follow.append(4, [{ stream: 'queue-1', events: [{ type: 'QueueJoined' }] }]);
  await settle();
  t.equal(follow.reads(), 1, 'no read yet');
  asked[0]?.resolve();
  t.equal(await positionWithin(first), 4, 'once the holds\' work is done, a page up to both');
  t.equal(follow.reads(), 2, 'from a read, which finds what lies in the gap');
});

t.test('no poll while work taken on is pending: a poll would read what it covers', async (t) => {
  const { asked, follow, first } = await offering(t, 10);
  const polled = follow.reads();
  t.ok(polled >= 2, `it polls every 10 ms while nothing is pending (${polled} reads in 20 ms)`);
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  const pending = follow.reads();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(follow.reads(), pending, 'no read in 100 ms while the work is pending');
  asked[0]?.resolve();
  t.equal(positionOf(await first), 1, 'once done, its page');
  t.equal(follow.reads(), pending, 'without a read');
  void follow.iterator.next();
  await settle();
  t.ok(follow.reads() > pending, 'and polling goes on');
});
