/**
 * The hold expirer after a big sale: hundreds of holds come due together, and their seats must
 * come back in a few appends, not one append each. The real concert writer, reactor store and
 * event store, on MariaDB and on SQLite files (the embedded default).
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { CommandContext } from '../../domain/index.ts';
import { concertEvents, concertStream, type HoldSeats } from '../../domain/concert/index.ts';
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { SqlEventStore } from '../../eventstore/sql/sql-event-store.ts';
import { CONCERT, HOLD_END, REGULAR, T0, holdByClass, minutesAfter, scheduleConcert, sell } from '../../test/support/concert-fixtures.ts';
import { sealed } from '../../test/support/sealed.ts';
import { eventAndReactorStores } from '../../test/support/services.ts';
import { bookingStreamsOf } from '../bookings/placement.ts';
import { CommandHandler } from '../command-handler.ts';
import { ConcertWriter } from '../concerts/concert-writer.ts';
import { ReactorStore } from './reactor-store.ts';
import { HoldExpirer, releasesInFlight } from './reactors.ts';

const HOLDS = 300;
const context: CommandContext = { correlationId: 'req-1', causationId: 'req-1', actorId: null, occurredAt: T0 };
const hold = (bookingId: string): HoldSeats => holdByClass(bookingId, randomUUID(), [{ ticket_class_id: REGULAR, quantity: 1 }], {
  personal_data: { buyer: sealed('buyer'), ticket_holders: [sealed('holder')] },
});

/**
 * A concert of `holds` regular seats, every one held (with its booking stream) and its due time
 * indexed; the appends made through the store are counted from here on.
 */
async function rig(t: Test, client: 'mysql2' | 'better-sqlite3', holds = HOLDS) {
  const at = await eventAndReactorStores(t, client);
  const store = await SqlEventStore.open(at.events);
  t.teardown(() => store.close());
  const reactors = await ReactorStore.open(at.reactors);
  t.teardown(() => reactors.close());
  let appends = 0;
  const counted = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'append' || property === 'appendAll') return (...args: unknown[]) => ((appends++), (value as (...a: unknown[]) => unknown).apply(target, args));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  }) as EventStore;
  const writer = new ConcertWriter(counted, { queueLimit: 1_000, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => t.fail(String(error)), companionsOf: bookingStreamsOf });
  await writer.submit(CONCERT, scheduleConcert({ ticket_classes: [{ ticket_class_id: REGULAR, name: 'Regular', price: 500_000, seat_count: holds }] }), context);
  const bookings = Array.from({ length: holds }, () => randomUUID());
  await Promise.all(bookings.map((booking) => writer.submit(CONCERT, hold(booking), context)));
  await reactors.addDeadlines(bookings.map((bookingId) => ({ bookingId, concertId: CONCERT, expiresAt: Date.parse(HOLD_END) })));
  const failures: unknown[] = [];
  const expirer = (over: Partial<ConstructorParameters<typeof HoldExpirer>[0]> = {}) => new HoldExpirer({
    reactors, writer, store, commands: new CommandHandler(store), now: () => new Date(minutesAfter(HOLD_END, 1)), intervalMs: 60_000,
    onError: (error) => failures.push(error), ...over,
  });
  /** The bookings whose holds the concert's stream says were released as expired. */
  const expired = async () => new Set((await store.readStream(concertStream(CONCERT))).map((recorded) => decode(recorded, concertEvents))
    .flatMap((event) => (event.type === 'HoldReleased' && event.data.reason === 'expired' ? [event.data.booking_id] : [])));
  const stillDue = async () => new Set((await reactors.due(Date.parse(minutesAfter(HOLD_END, 1)), 10_000)).map((deadline) => deadline.bookingId));
  return { store, writer, reactors, bookings, expirer, expired, stillDue, failures, appends: () => appends };
}

for (const client of ['mysql2', 'better-sqlite3'] as const) {
  t.test(`${client}: ${HOLDS} holds due together come back in a few appends, the paid ones are dropped from the index`, async (t) => {
    const rig_ = await rig(t, client);
    const paid = rig_.bookings.slice(0, 20);
    for (const booking of paid) await rig_.writer.submit(CONCERT, sell(booking, `tx-${booking}`), context);
    const before = rig_.appends();
    t.equal(await rig_.expirer().expireDue(), HOLDS - paid.length, 'every unpaid hold released');
    const appends = rig_.appends() - before;
    // 280 releases, RELEASES_IN_FLIGHT (100) at a time: each hundred in one or two appends (an idle
    // lane takes the first command alone). One append a release would be 280.
    t.ok(appends <= 8, `${appends} appends for ${HOLDS - paid.length} releases`);
    const expired = await rig_.expired();
    t.equal(expired.size, HOLDS - paid.length);
    // The paid ones are dropped here; the released ones when the bookings reactor reads their release.
    t.same([...await rig_.stillDue()].sort(), [...expired].sort(), 'only the released are still indexed');
    t.same(rig_.failures, []);
  });
}

t.test('a release the concert refuses as not yet expired (this instance\'s clock behind) stays due for the next round', async (t) => {
  const rig_ = await rig(t, 'mysql2');
  const early = rig_.bookings.slice(0, 3);
  // Their due times say 15 minutes before the holds end: the decider, at the expirer's now, refuses.
  await rig_.reactors.removeDeadlines(early);
  await rig_.reactors.addDeadlines(early.map((bookingId) => ({ bookingId, concertId: CONCERT, expiresAt: Date.parse(T0) })));
  const expirer = rig_.expirer({ now: () => new Date(minutesAfter(T0, 1)) });
  t.equal(await expirer.expireDue(), 0, 'none of them expired yet');
  t.same([...await rig_.stillDue()].sort(), [...rig_.bookings].sort(), 'all still due');
  t.equal(await rig_.expirer().expireDue(), HOLDS, 'later, with the holds\' time up, all released');
  t.equal((await rig_.expired()).size, HOLDS);
  t.same(rig_.failures, []);
});

t.test('an error releasing one hold is thrown once the others are released; its due time stays for the next round', async (t) => {
  const rig_ = await rig(t, 'mysql2');
  const [broken = ''] = rig_.bookings;
  const writer = {
    submit: (concertId: string, command: { booking_id?: string }, at: CommandContext) => (command.booking_id === broken
      ? Promise.reject(new Error('the disk is full'))
      : rig_.writer.submit(concertId, command as Parameters<ConcertWriter['submit']>[1], at)),
  } as unknown as ConcertWriter;
  await t.rejects(rig_.expirer({ writer }).expireDue(), /the disk is full/);
  const expired = await rig_.expired();
  t.equal(expired.size, HOLDS - 1, 'every other hold released');
  t.notOk(expired.has(broken));
  t.ok((await rig_.stillDue()).has(broken), 'the broken one is still due');
  t.equal(await rig_.expirer().expireDue(), 1, 'the next round releases it (the others were released already: nothing to do)');
  t.ok((await rig_.expired()).has(broken));
  t.same(rig_.failures, [], 'the one error was thrown, not reported as well');
});

t.test('releases refused because the concert\'s queue is full wait for the next round, which is said once a round', async (t) => {
  const rig_ = await rig(t, 'mysql2');
  // A writer whose queue takes 10: the expirer's 100 in flight overflow it.
  const small = new ConcertWriter(rig_.store, { queueLimit: 10, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => t.fail(String(error)) });
  const released = await rig_.expirer({ writer: small, releasesInFlight: 100 }).expireDue();
  t.ok(released > 0 && released < HOLDS, `${released} released, the others refused`);
  t.equal((await rig_.stillDue()).size, HOLDS, 'the refused ones still due (the released ones until the reactor reads them)');
  t.equal(rig_.failures.length, 1, 'one report for the round');
  t.match(String(rig_.failures[0]), new RegExp(`${HOLDS - released} expired holds not released this round: the concert's queue was full \\(OVERLOADED\\)`));
  const expirer = rig_.expirer({ writer: small, releasesInFlight: 100 });
  let rounds = 1;
  while ((await rig_.expired()).size < HOLDS && rounds < 100) {
    await expirer.expireDue();
    rounds++;
  }
  t.equal((await rig_.expired()).size, HOLDS, `all released after ${rounds} rounds`);
  t.equal(await rig_.expirer({ writer: small, releasesInFlight: releasesInFlight(10) }).expireDue(), 0, 'nothing left');
});

/** The reactor store, with what each `due` was asked for (the concerts left out, or the only ones) and how many it gave. */
function dueSpy(reactors: ReactorStore): { reactors: ReactorStore; asked: string[] } {
  const asked: string[] = [];
  const spied = new Proxy(reactors, {
    get(target, property) {
      if (property === 'due') {
        return async (...args: Parameters<ReactorStore['due']>) => {
          const [, , concerts = {}] = args;
          const page = await target.due(...args);
          asked.push(`${concerts.only === undefined ? `except [${(concerts.except ?? []).join(', ')}]` : `only [${concerts.only.join(', ')}]`}: ${page.length}`);
          return page;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { reactors: spied, asked };
}

for (const client of ['mysql2', 'better-sqlite3'] as const) {
  t.test(`${client}: a concert whose queue stays full does not hold back another's expiry, and keeps the rest of the page`, async (t) => {
    // The first concert has more holds due than a round takes (500). Another concert's 5 are due a
    // minute later: a round takes the oldest first.
    const rig_ = await rig(t, client, 550);
    const other = randomUUID();
    const others = Array.from({ length: 5 }, () => randomUUID());
    await rig_.writer.submit(other, scheduleConcert({ concert_id: other }), context);
    await Promise.all(others.map((booking) => rig_.writer.submit(other, { ...hold(booking), expires_at: minutesAfter(HOLD_END, 1) }, context)));
    await rig_.reactors.addDeadlines(others.map((bookingId) => ({ bookingId, concertId: other, expiresAt: Date.parse(minutesAfter(HOLD_END, 1)) })));
    // A writer whose queue takes 10 commands a concert: most of the first concert's releases are refused.
    const small = new ConcertWriter(rig_.store, { queueLimit: 10, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => t.fail(String(error)) });
    const spy = dueSpy(rig_.reactors);
    const expirer = rig_.expirer({ writer: small, reactors: spy.reactors, releasesInFlight: 100, now: () => new Date(minutesAfter(HOLD_END, 2)) });
    const releasedOf = async (concertId: string) => (await rig_.store.readStream(concertStream(concertId))).filter((recorded) => recorded.type === 'HoldReleased').length;

    await expirer.expireDue();
    const first = await releasedOf(CONCERT);
    t.ok(first > 0 && first < 500, `round 1: ${first} of the first concert's released, the others refused`);
    t.equal(await releasedOf(other), 0, 'round 1: none of the other concert\'s, not among the oldest 500');
    await expirer.expireDue();
    t.equal(await releasedOf(other), others.length, 'round 2: the other concert\'s holds released');
    t.same(spy.asked, ['except []: 500', `except [${CONCERT}]: 5`, `only [${CONCERT}]: 495`], 'round 2: the other concert\'s first, the rest of the page the first concert\'s');
    t.equal(rig_.failures.length, 2, 'rounds 1 and 2 each said what they put off');
  });
}

t.test('a concert alone in its rush, with more holds due than a round takes, is tried every round', async (t) => {
  const rig_ = await rig(t, 'mysql2', 550);
  const small = new ConcertWriter(rig_.store, { queueLimit: 10, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => t.fail(String(error)) });
  const spy = dueSpy(rig_.reactors);
  const expirer = rig_.expirer({ writer: small, reactors: spy.reactors, releasesInFlight: 100 });
  for (let round = 0; round < 3; round++) await expirer.expireDue();
  t.equal(rig_.failures.length, 3, 'each round had releases refused');
  t.same(spy.asked, ['except []: 500', `except [${CONCERT}]: 0`, `only [${CONCERT}]: 500`, `except [${CONCERT}]: 0`, `only [${CONCERT}]: 500`], 'nobody else waiting: every round a full page of it');
});

t.test('a concert alone in its rush, with fewer holds due than a round takes, is never put behind', async (t) => {
  const rig_ = await rig(t, 'mysql2');
  const small = new ConcertWriter(rig_.store, { queueLimit: 10, maxBatch: 500, snapshotEvery: 10_000, onBackgroundError: (error) => t.fail(String(error)) });
  const spy = dueSpy(rig_.reactors);
  const expirer = rig_.expirer({ writer: small, reactors: spy.reactors, releasesInFlight: 100 });
  for (let round = 0; round < 3; round++) await expirer.expireDue();
  t.equal(rig_.failures.length, 3, 'each round had releases refused');
  // The pages shrink as the released holds' due times are dropped.
  t.same(spy.asked.map((asked) => asked.split(':')[0]), ['except []', 'except []', 'except []'], 'no round left it out: its page was not full');
});

t.test('the releases in flight are an eighth of the queue limit, 1 to 100', async (t) => {
  t.equal(releasesInFlight(5_000), 100);
  t.equal(releasesInFlight(800), 100);
  t.equal(releasesInFlight(400), 50);
  t.equal(releasesInFlight(7), 1);
});
