import { test } from 'tap';
import { agreement, medianRound, ownRatios } from './paired-rounds.ts';

const rates = (...values: number[]) => values.map((bookingsPerSecond) => ({ bookingsPerSecond }));

test('each round is read against the baseline of the same round', (t) => {
  t.same(ownRatios(rates(300, 400), rates(100, 50)), [3, 8]);
  t.throws(() => ownRatios(rates(300, 400), rates(100)), /must be the same/);
  t.throws(() => ownRatios([], []), /at least one/);
  t.end();
});

test('the figure is the round whose own ratio is the median, not the medians of each design', (t) => {
  // Own ratios 10, 2, 6 → the median is round 3's (6); the medians' ratio would be 300 / 100 = 3.
  const ours = rates(1_000, 200, 300);
  const baseline = rates(100, 100, 50);
  t.same(medianRound(ours, baseline), { index: 2, ratio: 6 });
  t.end();
});

test('of an even count of rounds, the lower of the two in the middle', (t) => {
  // Own ratios 4, 1, 3, 2 → sorted 1, 2, 3, 4: round 4's ratio, 2.
  t.same(medianRound(rates(400, 100, 300, 200), rates(100, 100, 100, 100)), { index: 3, ratio: 2 });
  t.end();
});

test('rounds whose speed swings together agree by their own ratios', (t) => {
  // The machine runs every design at 1× or 2× speed in a round: the own ratio is 5 in each.
  const speeds = [1, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1];
  const agreed = agreement(rates(...speeds.map((speed) => 500 * speed)), rates(...speeds.map((speed) => 100 * speed)));
  t.same(agreed, { ofMedians: 1, ofOwnRatios: 1 }, 'every pair of runs gives 5 either way');
  t.end();
});

test('rounds whose own ratios differ widely seldom agree', (t) => {
  // Own ratios 2 and 8 in turn: a run's median falls on either, so two runs often differ fourfold.
  const ours = rates(200, 800, 200, 800, 200, 800, 200);
  const baseline = rates(100, 100, 100, 100, 100, 100, 100);
  const agreed = agreement(ours, baseline);
  t.ok(agreed.ofOwnRatios > 0.3 && agreed.ofOwnRatios < 0.7, `about half the pairs agree (${agreed.ofOwnRatios})`);
  t.equal(agreed.ofMedians, agreed.ofOwnRatios, 'with one baseline rate, both ways read the same');
  t.same(agreement(ours, baseline), agreed, 'seeded: the same rounds give the same answer');
  t.not(agreement(ours, baseline, { seed: 7 }).ofOwnRatios, agreed.ofOwnRatios, 'another seed draws other runs');
  t.end();
});

test('one round agrees with itself', (t) => {
  t.same(agreement(rates(300), rates(100)), { ofMedians: 1, ofOwnRatios: 1 });
  t.end();
});
