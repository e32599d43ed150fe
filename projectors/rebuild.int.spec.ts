import { setTimeout } from 'node:timers/promises';
import t from 'tap';
import { appendBookingFlow } from '../test/support/booking-flow.ts';
import { caughtUp, projectionRig, READ_TABLES, tableChecksums } from '../test/support/projections.ts';
import { shadowCheckpoint, type Checkpoints } from '../read-models/checkpoints.ts';
import { PROJECTION_NAMES, REPLAYED } from '../read-models/projection-status.ts';
import { overriding } from '../test/support/overriding.ts';
import { rebuild, recoverSwap, STALE_REBUILD_MS } from './rebuild.ts';
import { shadowTable } from './shadow-tables.ts';

const TABLES_OF: Record<string, string[]> = {
  users: ['users'], concerts: ['concerts', 'ticket_classes', 'seats'], bookings: ['bookings', 'booking_seats', 'buyers', 'ticket_holders'], payments: ['payments'],
  tickets: ['tickets', 'ticket_holds', 'ticket_admissions'],
};

for (const kind of ['mysql', 'sqlite'] as const) {
  t.test(`a rebuild while events keep coming swaps in tables equal to the live ones (${kind})`, async (t) => {
    const rig = await projectionRig(t, { kind, batchSize: 200, rebuildBatchSize: 300 });
    const flow = await appendBookingFlow(rig.store, { users: 40, concerts: 2, classSeats: [50, 150], bookings: 300 });
    rig.projectors.start();
    await caughtUp(rig.projectors);

    const progress: string[] = [];
    // Events keep arriving during the rebuild: the live tables follow them, so must the shadows.
    const [result] = await Promise.all([
      rig.projectors.rebuild('concerts', (p) => progress.push(p.phase)),
      appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [30], bookings: 60, seed: 11 }),
    ]);
    t.equal(result.phase, 'done');
    t.ok(progress.includes('copying') && progress.includes('swapping'), 'progress is reported through the phases');
    await caughtUp(rig.projectors);
    const live = await tableChecksums(rig.db);

    for (const name of ['users', 'bookings', 'payments', 'tickets', 'legacy-ids']) await rig.projectors.rebuild(name);
    await caughtUp(rig.projectors);
    t.same(await tableChecksums(rig.db), live, 'rebuilt tables equal the tables they replaced, row for row');

    // The queue's board has no tables: it is rebuilt by a replay, not blue/green, and not asked for here.
    const status = (await rig.projectors.status()).filter((view) => !REPLAYED.includes(view.name));
    t.equal(status.length, PROJECTION_NAMES.length - REPLAYED.length);
    for (const view of status) {
      t.equal(view.status, 'live');
      t.ok(view.rebuilt_at !== null, `${view.name} records when it was rebuilt`);
      t.equal(view.lag, 0);
    }
    const rows = await rig.projectors.checkpoints.all();
    t.same(rows.map((row) => [row.name, row.generation]).sort(), [['bookings', 2], ['concerts', 2], ['legacy-ids', 2], ['payments', 2], ['queue', 1], ['tickets', 2], ['users', 2]], 'no shadow checkpoint is left');
    for (const table of READ_TABLES) t.notOk(await rig.db.schema.hasTable(shadowTable(table)), `no ${shadowTable(table)} is left`);

    // The seat cache follows the new generation.
    await rig.projectors.cacheRefilled();
    for (const concert of flow.concerts) {
      const cached = await rig.projectors.seatCache?.availability(concert.id);
      t.same(cached?.classes, new Map(concert.classes.map((c) => [c.id, flow.available.get(c.id)])), 'the cache serves the rebuilt generation');
    }
    t.equal(await rig.redis.get(`${rig.cachePrefix}:generation`), '2');
    t.equal((await rig.redis.keys(`${rig.cachePrefix}:g1:*`)).length, 0, "the old generation's keys are gone");
    t.same(rig.errors, []);
  });
}

t.test('projections rebuilt together from many small pages, each read while the one before is decoded, equal the live ones row for row', async (t) => {
  // Live batches of 25 events, rebuild batches of 300 from pages of 40: seats held, released and held again, bookings
  // placed in one batch and paid, failed or expired in a later one (updated) or the same one (inserted once).
  const rig = await projectionRig(t, { batchSize: 25 });
  await appendBookingFlow(rig.store, { users: 30, concerts: 2, classSeats: [40, 60], bookings: 250 });
  rig.projectors.start();
  await caughtUp(rig.projectors);
  await rig.projectors.stop();
  const live = await tableChecksums(rig.db);
  const projections = Object.keys(TABLES_OF).concat('legacy-ids').map((name) => rig.projectors.projection(name));
  let reads = 0;
  const store = overriding(rig.store, { readAll: async (...args) => (reads++, rig.store.readAll(...args)) });
  await rebuild({ db: rig.db, store, checkpoints: rig.projectors.checkpoints, projections, batchSize: 300, readPage: 40, sharedPages: 3, onError: () => undefined });
  t.ok(reads > 10, `the store was read in many pages (${reads})`);
  t.same(await tableChecksums(rig.db), live, 'rebuilt tables equal the live ones, row for row');
  t.same(rig.errors, []);
});

t.test('projections rebuilt together share one read: one that fails during the fill fails alone, the others swap in', async (t) => {
  const rig = await projectionRig(t);
  await appendBookingFlow(rig.store, { users: 30, concerts: 1, classSeats: [200], bookings: 300 });
  const users = rig.projectors.projection('users');
  const payments = rig.projectors.projection('payments');
  let batches = 0;
  const failing = { ...payments, apply: async (...args: Parameters<typeof payments.apply>) => {
    if (++batches === 1) throw new Error('payments broke on its first batch');
    return payments.apply(...args);
  } };
  const phases = new Map<string, string>();
  const rebuilt = rebuild({
    db: rig.db, store: rig.store, checkpoints: rig.projectors.checkpoints, projections: [users, failing], batchSize: 40,
    onProgress: (progress) => phases.set(progress.projection, progress.phase), onError: () => undefined,
  });
  await t.rejects(rebuilt, { message: 'payments broke on its first batch' });
  t.equal(batches, 1, 'payments stopped at its failing batch');
  t.equal(phases.get('users'), 'done', 'users kept taking the shared pages and swapped in');
  t.equal(phases.get('payments'), 'failed');
  t.equal((await rig.projectors.checkpoints.get('users'))?.generation, 2, 'the rebuilt users tables are live');
  const [registered] = await rig.db('users').count<{ n: number }[]>({ n: '*' });
  t.equal(Number(registered?.n), 30, 'every user in the rebuilt table');
  t.equal((await rig.projectors.checkpoints.get('payments'))?.status, 'live', 'payments left as it was');
  t.notOk(await rig.db.schema.hasTable(shadowTable('payments')), 'its shadow dropped');
});

t.test('a projection of rare events keeps its heartbeat while it waits for the shared pages of a slow one', async (t) => {
  const rig = await projectionRig(t);
  await appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [100], bookings: 80 });
  const { checkpoints } = rig.projectors;
  let clock = Date.now();
  const now = (): Date => new Date(clock);
  const users = rig.projectors.projection('users');
  const bookings = rig.projectors.projection('bookings');
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered!: () => void;
  const held = new Promise<void>((resolve) => (entered = resolve));
  const gated = { ...bookings, apply: async (...args: Parameters<typeof bookings.apply>) => {
    entered();
    await gate;
    return bookings.apply(...args);
  } };
  // Pages of 10 events, at most 2 held: users (its batch collected across the whole store) soon waits for bookings.
  const rebuilt = rebuild({
    db: rig.db, store: rig.store, checkpoints, projections: [users, gated], batchSize: 10, readPage: 10, sharedPages: 2,
    heartbeatMs: 20, now, onError: () => undefined,
  });
  await held;
  await setTimeout(100); // users reads on until no page is free
  clock += STALE_REBUILD_MS + 1;
  // A few beats later the rebuilder has shown it is alive at the new time (before the fix it never does).
  const deadline = Date.now() + 2_000;
  while (((await checkpoints.get('users'))?.heartbeatAt ?? 0) < clock && Date.now() < deadline) await setTimeout(20);
  t.equal(await recoverSwap(rig.db, checkpoints, users, now), 'none', "another process's recovery leaves the waiting rebuild alone");
  t.ok(await rig.db.schema.hasTable(shadowTable('users')), 'its shadow is still there');
  open();
  await rebuilt;
  t.equal((await checkpoints.get('users'))?.generation, 2, 'users swapped in');
  t.equal((await checkpoints.get('bookings'))?.generation, 2, 'bookings swapped in');
  const [registered] = await rig.db('users').count<{ n: number }[]>({ n: '*' });
  t.equal(Number(registered?.n), 10, 'every user in the rebuilt table');
});

t.test('a job that fails before it takes its first page leaves the shared read: the others go on and rebuild() settles', async (t) => {
  const rig = await projectionRig(t);
  await appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [100], bookings: 80 });
  const { checkpoints } = rig.projectors;
  let failures = 0;
  const flaky = overriding(checkpoints, {
    async get(...args: Parameters<Checkpoints['get']>) {
      if (args[0] === shadowCheckpoint('bookings') && failures++ === 0) throw new Error('the checkpoint read failed');
      return checkpoints.get(...args);
    },
  });
  const users = rig.projectors.projection('users');
  const bookings = rig.projectors.projection('bookings');
  // Pages of 10 events, at most 2 held: users outruns them unless bookings leaves the shared read.
  const rebuilt = rebuild({
    db: rig.db, store: rig.store, checkpoints: flaky, projections: [users, bookings], batchSize: 10, readPage: 10, sharedPages: 2,
    onError: () => undefined,
  });
  const settled = await Promise.race([
    rebuilt.then(() => 'resolved', (error: unknown) => (error as Error).message),
    setTimeout(5_000, 'still running after 5 s'),
  ]);
  t.equal(settled, 'the checkpoint read failed', 'rebuild() rejects with the failure');
  t.equal((await checkpoints.get('users'))?.generation, 2, 'users swapped in');
  t.equal((await checkpoints.get('bookings'))?.status, 'live', 'bookings left as it was');
  t.notOk(await rig.db.schema.hasTable(shadowTable('bookings')), 'its shadow dropped');
});

t.test('a store read that fails while a batch is written fails the rebuild, and is never an unhandled rejection', async (t) => {
  const rig = await projectionRig(t);
  await appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [100], bookings: 80 });
  let reads = 0;
  const store = overriding(rig.store, {
    readAll: async (...args) => {
      if (++reads === 3) throw new Error('the store read failed');
      return rig.store.readAll(...args);
    },
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  // Each batch takes a while to write: the failing read (the third page) is a prefetch that fails meanwhile.
  const slow = (projection: ReturnType<typeof rig.projectors.projection>): typeof projection => ({ ...projection, apply: async (...args: Parameters<typeof projection.apply>) => {
    await setTimeout(100);
    return projection.apply(...args);
  } });
  const rebuilt = rebuild({
    db: rig.db, store, checkpoints: rig.projectors.checkpoints, batchSize: 10, readPage: 10, sharedPages: 4,
    projections: [slow(rig.projectors.projection('users')), slow(rig.projectors.projection('bookings'))], onError: () => undefined,
  });
  await t.rejects(rebuilt, { message: 'the store read failed' });
  t.same(unhandled, [], 'no failed read was left unhandled');
  t.equal((await rig.projectors.checkpoints.get('users'))?.status, 'live', 'users left as it was');
  t.notOk(await rig.db.schema.hasTable(shadowTable('users')), 'its shadow dropped');
});

t.test('a second rebuild of the same projection is refused while one runs', async (t) => {
  const rig = await projectionRig(t, { rebuildBatchSize: 50 });
  await appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [100], bookings: 200 });
  rig.projectors.start();
  await caughtUp(rig.projectors);
  let started!: () => void;
  const claimed = new Promise<void>((resolve) => (started = resolve));
  const first = rig.projectors.rebuild('bookings', undefined, () => started());
  await claimed;
  await t.rejects(rig.projectors.startRebuild('bookings'), { name: 'RebuildInProgress' });
  await first;
  await t.rejects(rig.projectors.startRebuild('nope'), { name: 'UnknownProjection' });
});

t.test('a swap cut short by a crash is finished or abandoned at the next start', async (t) => {
  const rig = await projectionRig(t);
  await appendBookingFlow(rig.store, { users: 10, concerts: 1, classSeats: [100], bookings: 80 });
  rig.projectors.start();
  await caughtUp(rig.projectors);
  await rig.projectors.stop();
  const projection = rig.projectors.projection('payments');
  const before = await tableChecksums(rig.db, TABLES_OF.payments);
  const { position, generation } = (await rig.projectors.checkpoints.get('payments'))!;

  // Crash before the rename: shadows exist, the live tables are untouched → abandoned.
  await rig.db.raw('CREATE TABLE ?? LIKE ??', [shadowTable('payments'), 'payments']);
  await rig.projectors.checkpoints.ensure(shadowCheckpoint('payments'), { position: 10, generation: generation + 1 });
  await rig.projectors.checkpoints.update('payments', { status: 'swapping', swap_position: position, heartbeat_at: Date.now() });
  t.equal(await recoverSwap(rig.db, rig.projectors.checkpoints, projection), 'none', 'a rebuild that showed signs of life lately is left to its rebuilder');
  t.ok(await rig.db.schema.hasTable(shadowTable('payments')));
  await rig.projectors.checkpoints.update('payments', { heartbeat_at: Date.now() - STALE_REBUILD_MS - 1 });
  t.equal(await recoverSwap(rig.db, rig.projectors.checkpoints, projection), 'abandoned', 'a silent one is abandoned');
  t.match(await rig.projectors.checkpoints.get('payments'), { status: 'live', position, generation, swapPosition: null });
  t.notOk(await rig.db.schema.hasTable(shadowTable('payments')));
  t.equal(await rig.projectors.checkpoints.get(shadowCheckpoint('payments')), undefined);

  // Crash after the rename, before the checkpoint moved → finished: the new tables are live at swap_position.
  await rig.db.raw('CREATE TABLE ?? LIKE ??', [shadowTable('payments'), 'payments']);
  await rig.db.raw('INSERT INTO ?? SELECT * FROM ??', [shadowTable('payments'), 'payments']);
  await rig.projectors.checkpoints.ensure(shadowCheckpoint('payments'), { position, generation: generation + 1 });
  await rig.projectors.checkpoints.update('payments', { status: 'swapping', swap_position: position, position: position - 5 });
  await rig.db.raw('RENAME TABLE ?? TO ??, ?? TO ??', ['payments', 'payments__old', shadowTable('payments'), 'payments']);
  t.equal(await recoverSwap(rig.db, rig.projectors.checkpoints, projection), 'finished');
  const row = await rig.projectors.checkpoints.get('payments');
  t.match(row, { status: 'live', position, generation: generation + 1, swapPosition: null });
  t.ok(row?.rebuiltAt);
  t.notOk(await rig.db.schema.hasTable('payments__old'));
  t.same(await tableChecksums(rig.db, TABLES_OF.payments), before);
  t.equal(await recoverSwap(rig.db, rig.projectors.checkpoints, projection), 'none', 'nothing to do once live');
});
