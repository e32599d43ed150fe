import t from 'tap';
import { MemoryExpiringKeys, type ExpiringKeys } from './expiring-keys.ts';
import { FRESH_MS, Sessions, UNCHANGED, type UserSession } from './sessions.ts';

const customer: UserSession = { generation: 0, role: 'customer', emailVerified: true, active: true };

function made(keys: ExpiringKeys, records: Map<string, UserSession>) {
  let now = Date.now(); // the memory keys expire by the real clock
  let loads = 0;
  const sessions = new Sessions({
    keys,
    load: async (userId) => {
      loads++;
      return records.get(userId) ?? null;
    },
    tokenTtlMs: 900_000,
    now: () => now,
  });
  return { sessions, loads: () => loads, advance: (ms: number) => void (now += ms) };
}

t.test("an unmarked user's claims stand, without reading the stream", async (t) => {
  const keys = new MemoryExpiringKeys();
  t.teardown(() => keys.close());
  const { sessions, loads } = made(keys, new Map([['u1', customer]]));
  t.equal(await sessions.current('u1'), UNCHANGED);
  t.equal(loads(), 0);
});

t.test('a change is seen at once on the instance that made it, and within FRESH_MS on another sharing the keys', async (t) => {
  const keys = new MemoryExpiringKeys();
  t.teardown(() => keys.close());
  const records = new Map([['u1', customer]]);
  const here = made(keys, records);
  const there = made(keys, records);
  t.equal(await there.sessions.current('u1'), UNCHANGED, 'the other instance remembers: nothing changed');

  await here.sessions.changing('u1');
  const promoted = { ...customer, generation: 1, role: 'staff' as const };
  records.set('u1', promoted);
  here.sessions.changed('u1', promoted);
  t.strictSame(await here.sessions.current('u1'), promoted, 'at once, without a read');
  t.equal(here.loads(), 0);

  t.equal(await there.sessions.current('u1'), UNCHANGED, 'still remembered on the other instance');
  there.advance(FRESH_MS);
  t.strictSame(await there.sessions.current('u1'), promoted, 'after FRESH_MS, read from the stream');
  t.equal(there.loads(), 1);
});

t.test('the shared keys away: the stream tells', async (t) => {
  const broken: ExpiringKeys = {
    increment: async () => { throw new Error('down'); },
    set: async () => { throw new Error('down'); },
    get: async () => { throw new Error('down'); },
    delete: async () => { throw new Error('down'); },
  };
  const { sessions, loads } = made(broken, new Map([['u1', customer]]));
  t.strictSame(await sessions.current('u1'), customer);
  t.equal(loads(), 1);
  await t.rejects(sessions.changing('u1'), /down/, 'a change that cannot be marked is not made');
});
