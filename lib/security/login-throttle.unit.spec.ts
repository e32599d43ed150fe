import t from 'tap';
import { MemoryExpiringKeys } from './expiring-keys.ts';
import { LoginThrottle, type Admission } from './login-throttle.ts';

function throttle(limits: Partial<ConstructorParameters<typeof LoginThrottle>[1]> = {}) {
  let now = 1_000_000;
  const keys = new MemoryExpiringKeys(() => now);
  t.teardown(() => keys.close());
  const made = new LoginThrottle(keys, { freeAttempts: 3, windowSeconds: 900, maxDelaySeconds: 10, guardAfter: 100, ...limits });
  return { throttle: made, advance: (ms: number) => void (now += ms) };
}

const wait = (admission: Admission): number => (admission.admitted ? 0 : admission.retryAfterSeconds);

t.test('per account and address: the free attempts, then a wait that doubles up to the cap', async (t) => {
  const { throttle: limiter, advance } = throttle();
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) seen.push(wait(await limiter.admit('bob', '192.0.2.1', false)));
  t.strictSame(seen, [0, 0, 0], 'three attempts go through at once');
  const waits: number[] = [];
  for (let round = 0; round < 6; round++) {
    const refused = wait(await limiter.admit('bob', '192.0.2.1', false));
    waits.push(refused);
    t.equal(wait(await limiter.admit('bob', '192.0.2.1', false)), refused, 'asking again during the wait does not lengthen it');
    advance(refused * 1000);
    t.equal(wait(await limiter.admit('bob', '192.0.2.1', false)), 0, 'after the wait, one attempt');
  }
  t.strictSame(waits, [1, 2, 4, 8, 10, 10], 'doubling, capped at maxDelaySeconds');
  t.equal(wait(await limiter.admit('bob', '198.51.100.7', false)), 0, 'another address is not affected');
  t.equal(wait(await limiter.admit('alice', '192.0.2.1', false)), 0, 'nor another account from the same address');
});

t.test('parallel attempts: no more admitted than the free ones', async (t) => {
  const { throttle: limiter } = throttle({ freeAttempts: 5 });
  const admissions = await Promise.all(Array.from({ length: 50 }, () => limiter.admit('bob', '192.0.2.1', false)));
  t.equal(admissions.filter((admission) => admission.admitted).length, 5);
});

t.test('a success clears that address on that account only', async (t) => {
  const { throttle: limiter } = throttle();
  for (let i = 0; i < 4; i++) await limiter.admit('bob', '192.0.2.1', false);
  for (let i = 0; i < 4; i++) await limiter.admit('bob', '192.0.2.2', false);
  t.ok(wait(await limiter.admit('bob', '192.0.2.1', false)) > 0);
  await limiter.succeeded('bob', '192.0.2.1');
  t.equal(wait(await limiter.admit('bob', '192.0.2.1', false)), 0, 'the signed-in address starts afresh');
  t.ok(wait(await limiter.admit('bob', '192.0.2.2', false)) > 0, 'the other address still waits');
});

t.test('the account-wide guard: after guardAfter failures; its wait spares addresses with no attempts', async (t) => {
  const { throttle: limiter, advance } = throttle({ guardAfter: 3 });
  for (let i = 0; i < 3; i++) {
    t.notOk(await limiter.guarded('bob'), `not guarded after ${i} failures`);
    await limiter.admit('bob', `192.0.2.${i}`, false);
    await limiter.failed('bob');
  }
  t.ok(await limiter.guarded('bob'), 'guarded after 3');
  t.notOk(await limiter.guarded('alice'), 'only that account');
  t.equal(wait(await limiter.admit('bob', '192.0.2.0', true)), 0, 'an address that tried before takes the account-wide turn');
  t.equal(wait(await limiter.admit('bob', '192.0.2.1', true)), 1, 'the next one waits');
  t.equal(wait(await limiter.admit('bob', '198.51.100.7', true)), 0, 'an address with no attempts does not');
  advance(1000);
  t.equal(wait(await limiter.admit('bob', '192.0.2.1', true)), 0, 'after the wait, the next turn');
  advance(900_000);
  t.notOk(await limiter.guarded('bob'), 'failures are forgotten after the window');
});
