/**
 * Reading the flash sale's rounds two ways: the median of ours over the median of a baseline (the
 * ratio line), and the median of each round's own ratio (a round runs the designs back to back, so
 * its two phases ran close in time: this machine's speed swings by up to 2× within seconds while
 * /proc/stat shows no steal). And how steady a run's rounds make either reading.
 */
import { seededRandom } from '../test/support/seeded-random.ts';
import { median } from './quantile.ts';

/**
 * The order the designs run in round `round` (from 0): the first list, rotated by one each round,
 * so over every three rounds each design runs once first, once in the middle and once last. Within
 * a round each still follows the same one (a rotation keeps the cycle: row-lock, Redis + Lua, ours).
 */
export function rotated<T>(designs: readonly T[], round: number): T[] {
  if (!Number.isInteger(round) || round < 0) throw new Error(`a round is a whole number from 0, not ${round}`);
  const shift = designs.length === 0 ? 0 : round % designs.length;
  return [...designs.slice(shift), ...designs.slice(0, shift)];
}

/** A design's bookings/s in one round. */
export interface RoundRate {
  readonly bookingsPerSecond: number;
}

/** Each round's ratio of ours to the baseline (the two lists are the same rounds, in order). */
export function ownRatios(ours: readonly RoundRate[], baseline: readonly RoundRate[]): number[] {
  if (ours.length !== baseline.length || ours.length === 0) throw new Error(`the rounds of ours (${ours.length}) and of the baseline (${baseline.length}) must be the same, and at least one`);
  return ours.map((round, i) => round.bookingsPerSecond / (baseline[i] as RoundRate).bookingsPerSecond);
}

/** How often two runs would agree, by each way of reading the rounds, as shares of the pairs of runs drawn. */
export interface Agreement {
  /** The median of ours over the median of the baseline. */
  readonly ofMedians: number;
  /** The median of the rounds' own ratios. */
  readonly ofOwnRatios: number;
}

/**
 * Draws pairs of runs of as many rounds as were measured, each round drawn with replacement from
 * the measured ones (a round keeps its designs together), and counts the pairs whose two figures
 * are within `within` of the larger. A seeded generator: the same rounds give the same answer.
 * Rounds drawn one by one: what shifts a whole run (the machine slower for minutes) is not in it.
 */
export function agreement(ours: readonly RoundRate[], baseline: readonly RoundRate[], options: { within?: number; draws?: number; seed?: number } = {}): Agreement {
  const { within = 0.1, draws = 10_000, seed = 22 } = options;
  const ratios = ownRatios(ours, baseline);
  const random = seededRandom(seed);
  const n = ratios.length;
  const figures = () => {
    const picked = Array.from({ length: n }, () => Math.floor(random() * n));
    return {
      ofMedians: median(picked.map((i) => (ours[i] as RoundRate).bookingsPerSecond)) / median(picked.map((i) => (baseline[i] as RoundRate).bookingsPerSecond)),
      ofOwnRatios: median(picked.map((i) => ratios[i] as number)),
    };
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= within * Math.max(a, b);
  let ofMedians = 0;
  let ofOwnRatios = 0;
  for (let draw = 0; draw < draws; draw++) {
    const first = figures();
    const second = figures();
    if (close(first.ofMedians, second.ofMedians)) ofMedians++;
    if (close(first.ofOwnRatios, second.ofOwnRatios)) ofOwnRatios++;
  }
  return { ofMedians: ofMedians / draws, ofOwnRatios: ofOwnRatios / draws };
}
