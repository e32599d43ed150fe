import t from 'tap';
import { lotteryOrder, seededGenerator, shuffle, uniformBelow, xoshiro128starstar } from './lottery.ts';

/**
 * The opening lottery must be a uniform shuffle: whoever joined first, last or in between has the
 * same chance of every final position. Checked over 20,000 fixed seeds (so the test is the same on
 * every run and cannot flake), with controls: shuffles with known biases must fail the same check.
 */
const N = 10;
const SEEDS = 20_000;
const seedOf = (k: number): string => k.toString(16).padStart(64, '0'); // low-entropy on purpose: the seeding must still spread them
/** chi-square's 0.999 quantile for N-1 = 9 degrees of freedom (one join rank's row), and for (N-1)^2 = 81 (the whole table). */
const CRITICAL_ROW = 27.877;
const CRITICAL_TABLE = 126.083;
/** The mean final position of a join rank is (N-1)/2 = 4.5; its standard error over 20,000 draws is sqrt((N²-1)/12 / 20,000) ≈ 0.020. */
const MEAN_TOLERANCE = 0.1; // ≈ 4.9 standard errors

type Shuffler = (items: number[], next: () => number) => void;

/** counts[rank][position]: how often the rank-th joiner ended at that position. */
function positionCounts(shuffler: Shuffler): number[][] {
  const counts = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  for (let k = 0; k < SEEDS; k++) {
    const items = Array.from({ length: N }, (_, rank) => rank);
    shuffler(items, seededGenerator(seedOf(k)));
    items.forEach((rank, position) => counts[rank]![position]!++);
  }
  return counts;
}

function chiSquare(observed: readonly number[], expected: number): number {
  return observed.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

const meanPosition = (row: readonly number[]): number => row.reduce((sum, count, position) => sum + count * position, 0) / SEEDS;

/** What is wrong with a shuffle's position distribution; empty when it looks uniform. */
function uniformityFailures(shuffler: Shuffler): { failures: string[]; rows: number[]; table: number; means: number[] } {
  const counts = positionCounts(shuffler);
  const expected = SEEDS / N;
  const rows = counts.map((row) => chiSquare(row, expected));
  const table = rows.reduce((a, b) => a + b, 0);
  const failures: string[] = [];
  rows.forEach((statistic, rank) => {
    if (statistic >= CRITICAL_ROW) failures.push(`join rank ${rank}: chi-square ${statistic.toFixed(1)} ≥ ${CRITICAL_ROW}`);
  });
  if (table >= CRITICAL_TABLE) failures.push(`whole table: chi-square ${table.toFixed(1)} ≥ ${CRITICAL_TABLE}`);
  for (const rank of [0, N - 1]) {
    const mean = meanPosition(counts[rank]!);
    if (Math.abs(mean - (N - 1) / 2) > MEAN_TOLERANCE) failures.push(`join rank ${rank}: mean position ${mean.toFixed(3)}, not ${(N - 1) / 2} ± ${MEAN_TOLERANCE}`);
  }
  return { failures, rows, table, means: counts.map(meanPosition) };
}

const swap = (items: number[], i: number, j: number): void => {
  const kept = items[i]!;
  items[i] = items[j]!;
  items[j] = kept;
};

t.test('the opening lottery is a uniform shuffle: no bias towards early or late joiners', async (t) => {
  const { failures, rows, table, means } = uniformityFailures((items, next) => shuffle(items, next));
  t.comment(`row chi-squares (df 9, critical ${CRITICAL_ROW}): ${rows.map((r) => r.toFixed(1)).join(' ')}; table (df 81, critical ${CRITICAL_TABLE}): ${table.toFixed(1)}`);
  t.comment(`mean final position by join rank (uniform: ${(N - 1) / 2}): ${means.map((m) => m.toFixed(3)).join(' ')}`);
  t.strictSame(failures, []);
  // and the lottery itself (lotteryOrder) is that shuffle, seed for seed
  const viaLottery = Array.from(lotteryOrder(seedOf(7), N));
  const viaShuffle = Array.from({ length: N }, (_, rank) => rank);
  shuffle(viaShuffle, seededGenerator(seedOf(7)));
  t.strictSame(viaLottery, viaShuffle);
});

t.test('the test can fail: shuffles with known biases do not pass it', async (t) => {
  // Swapping every slot with any slot (n^n equally likely paths onto n! orders): the classic naive shuffle.
  const naive = uniformityFailures((items, next) => {
    for (let i = 0; i < items.length; i++) swap(items, i, uniformBelow(next, items.length));
  });
  t.not(naive.failures.length, 0, `naive swap-with-any fails: ${naive.failures.slice(0, 3).join('; ')}`);
  // Sattolo's off-by-one (j below i, never i itself): nobody keeps their join rank's position.
  const offByOne = uniformityFailures((items, next) => {
    for (let i = items.length - 1; i > 0; i--) swap(items, i, uniformBelow(next, i));
  });
  t.not(offByOne.failures.length, 0, `off-by-one fails: ${offByOne.failures.slice(0, 3).join('; ')}`);
  // Fisher–Yates with modulo over a small random range (5 bits): the low remainders are likelier
  // (32 mod n ≠ 0). Over 32 bits the same bias is ~2^-29, beyond any sampling: the rejection
  // itself is checked directly in 'bounded integers…' below.
  const modulo = uniformityFailures((items, next) => {
    for (let i = items.length - 1; i > 0; i--) swap(items, i, (next() >>> 27) % (i + 1));
  });
  t.not(modulo.failures.length, 0, `modulo bias fails: ${modulo.failures.slice(0, 3).join('; ')}`);
  // Early joiners ahead: a shuffle that puts the first joiner first in 2% of draws more than chance.
  const favoursEarly = uniformityFailures((items, next) => {
    shuffle(items, next);
    if (uniformBelow(next, 50) === 0) swap(items, 0, items.indexOf(0));
  });
  t.not(favoursEarly.failures.length, 0, `a 2% head start for the first joiner fails: ${favoursEarly.failures.slice(0, 3).join('; ')}`);
});

t.test('the same seed gives the same order (a replay orders everyone the same way); other seeds differ', async (t) => {
  const seed = 'c0ffee00'.repeat(8);
  const first = Array.from(lotteryOrder(seed, 5_000));
  t.strictSame(Array.from(lotteryOrder(seed, 5_000)), first, 'replayed: the same order');
  t.strictSame([...first].sort((a, b) => a - b), Array.from({ length: 5_000 }, (_, i) => i), 'a permutation: everyone once');
  const other = Array.from(lotteryOrder('c0ffee01'.repeat(8), 5_000));
  t.not(other.join(','), first.join(','), 'another seed, another order');
  const oneBit = Array.from(lotteryOrder(`${seed.slice(0, 63)}1`, 5_000));
  t.ok(oneBit.filter((rank, k) => rank === first[k]).length < 50, 'one bit of seed apart: about one place in 5,000 agrees');
  t.strictSame(Array.from(lotteryOrder(seed, 0)), [], 'no entrants: an empty order');
  t.strictSame(Array.from(lotteryOrder(seed, 1)), [0]);
});

t.test('the algorithm is pinned: the order of a recorded seed never changes', async (t) => {
  // A change here re-orders every waiting room already drawn: give the new algorithm a new name instead.
  t.strictSame(Array.from(lotteryOrder('00'.repeat(32), 10)), GOLDEN_ZERO);
  t.strictSame(Array.from(lotteryOrder('0123456789abcdef'.repeat(4), 10)), GOLDEN_COUNTING);
  // xoshiro128** against the reference C implementation (Blackman & Vigna), from the state (1, 2, 3, 4) and another
  const reference = xoshiro128starstar(1, 2, 3, 4);
  t.strictSame(Array.from({ length: 6 }, reference), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  const other = xoshiro128starstar(0x9e3779b9, 0xdeadbeef, 0x01234567, 0xffffffff);
  t.strictSame(Array.from({ length: 6 }, other), [1162347276, 3455143876, 4030867362, 1305335628, 96195844, 1709856328]);
});

t.test('bounded integers reject the outputs that would favour low values, not fold them in with modulo', async (t) => {
  // 2^32 mod 3 = 1: the output 0 would make remainder 0 likelier, so it is drawn again.
  const outputs = [0, 5];
  t.equal(uniformBelow(() => outputs.shift()!, 3), 2);
  t.strictSame(outputs, [], 'both outputs were drawn');
  // 2^32 mod 10 = 6: 0…5 are rejected, 6 is kept (6 mod 10)
  const tens = [3, 5, 6];
  t.equal(uniformBelow(() => tens.shift()!, 10), 6);
  // a power of two rejects nothing
  t.equal(uniformBelow(() => 0xffff_ffff, 8), 7);
  t.equal(uniformBelow(() => 0, 1), 0);
  t.throws(() => uniformBelow(() => 0, 0), RangeError);
  t.throws(() => seededGenerator('not hex'), RangeError, 'a seed is 64 hex digits');
  t.throws(() => seededGenerator('AB'.repeat(32)), RangeError, 'lower-case only: one seed, one spelling');
});

const GOLDEN_ZERO = [7, 6, 2, 9, 8, 5, 3, 0, 4, 1];
const GOLDEN_COUNTING = [4, 3, 1, 6, 9, 2, 0, 8, 5, 7];
