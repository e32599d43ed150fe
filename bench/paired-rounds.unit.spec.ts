import { test } from 'tap';
import { agreement, ownRatios, rotated } from './paired-rounds.ts';

const rates = (...values: number[]) => values.map((bookingsPerSecond) => ({ bookingsPerSecond }));

test('each round runs the designs in the first order rotated by one more, every design once', (t) => {
  const designs = ['row-lock', 'redis', 'ours'];
  t.same([0, 1, 2, 3, 4].map((round) => rotated(designs, round)), [
    ['row-lock', 'redis', 'ours'],
    ['redis', 'ours', 'row-lock'],
    ['ours', 'row-lock', 'redis'],
    ['row-lock', 'redis', 'ours'],
    ['redis', 'ours', 'row-lock'],
  ]);
  // Over three rounds each design runs once in each place.
  for (const design of designs) t.same([0, 1, 2].map((round) => rotated(designs, round).indexOf(design)).sort(), [0, 1, 2], design);
  t.same(designs, ['row-lock', 'redis', 'ours'], 'the first order is left as it was');
  t.same(rotated([], 4), []);
  t.throws(() => rotated(designs, -1), /whole number from 0/);
  t.throws(() => rotated(designs, 1.5), /whole number from 0/);
  t.end();
});

test('each round is read against the baseline of the same round', (t) => {
  t.same(ownRatios(rates(300, 400), rates(100, 50)), [3, 8]);
  t.throws(() => ownRatios(rates(300, 400), rates(100)), /must be the same/);
  t.throws(() => ownRatios([], []), /at least one/);
  t.end();
});

test('a round is drawn with its designs together', (t) => {
  // The machine runs both designs at 1× or 2× speed in a round, ours always 5× the baseline. Drawn
  // apart, a run's median of ours could fall on a 2× round and the baseline's on a 1× one (10×).
  const speeds = [1, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1];
  const agreed = agreement(rates(...speeds.map((speed) => 500 * speed)), rates(...speeds.map((speed) => 100 * speed)));
  t.equal(agreed.ofMedians, 1, 'every run reads 5 by its medians');
  t.equal(agreed.ofOwnRatios, 1, 'and by its own ratios');
  t.end();
});

test('within is a share of the larger figure', (t) => {
  // Own ratios 1.0 and 1.105: runs of two rounds read 1.0, 1.0525 or 1.105. 1.105 − 1.0 is within
  // 10% of 1.105, not of 1.0.
  const ours = rates(100, 110.5);
  const baseline = rates(100, 100);
  t.same(agreement(ours, baseline), { ofMedians: 1, ofOwnRatios: 1 });
  const tighter = agreement(ours, baseline, { within: 0.05 });
  t.ok(tighter.ofOwnRatios < 0.9, `1.0 and 1.105 are not within 5% (${tighter.ofOwnRatios})`);
  t.ok(tighter.ofOwnRatios > 0.5, `most pairs still are (${tighter.ofOwnRatios})`);
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

test('a single round gives numbers, not NaN', (t) => {
  t.same(agreement(rates(300), rates(100)), { ofMedians: 1, ofOwnRatios: 1 });
  t.end();
});
