import { EventEmitter } from 'node:events';
import t from 'tap';
import type { AllPage } from '../port.ts';
import { pollingSubscription } from './subscription.ts';

/** A subscription over a fake store whose head the test moves; counts the pages it reads. */
function following(filter?: { streamPrefixes?: string[]; eventTypes?: string[] }) {
  const appended = new EventEmitter();
  let head = 0;
  let reads = 0;
  const readPage = async (after: number): Promise<AllPage> => {
    reads++;
    return { events: [], position: Math.max(after, head) };
  };
  // Polling an hour apart: only a wake from an append makes it read again within the test.
  const subscription = pollingSubscription({ readPage, after: 0, pageSize: 100, pollIntervalMs: 3_600_000, appended, ...(filter ? { filter } : {}) });
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

t.test('an append in this process with nothing the filter passes does not wake the subscription', async (t) => {
  const follow = following({ streamPrefixes: ['payment-'], eventTypes: ['PaymentSucceeded'] });
  t.teardown(() => follow.subscription.close());
  const next = follow.iterator.next();
  await settle();
  t.equal(follow.reads(), 1, 'the first page is read at once');
  follow.append(1, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }]);
  follow.append(2, [{ stream: 'booking-1', events: [{ type: 'BookingPlaced' }] }, { stream: 'payment-1', events: [{ type: 'PaymentOpened' }] }]);
  await settle();
  t.equal(follow.reads(), 1, 'holds, bookings and other payment events: no read');
  follow.append(3, [{ stream: 'concert-1', events: [{ type: 'SeatsHeld' }] }, { stream: 'payment-1', events: [{ type: 'PaymentOpened' }, { type: 'PaymentSucceeded' }] }]);
  const page = await next;
  t.equal(follow.reads(), 2, 'an append with one event it handles wakes it');
  t.equal(positionOf(page), 3, 'and its read covers everything appended before');
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
