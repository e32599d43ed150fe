/**
 * The flash sale's figures from its rounds. A round runs the designs back to back, so each round's
 * own ratio (ours over a baseline) compares two phases run at nearly the same time. That matters on
 * this machine: its speed swings by up to 2× within seconds while /proc/stat shows no steal, and a
 * ratio of each design's median round compares phases run minutes apart.
 */
import { median } from './quantile.ts';

/** A design's bookings/s in one round. */
export interface RoundRate {
  readonly bookingsPerSecond: number;
}

/** One design's rate against a baseline's, in the same round. */
export interface MedianRound {
  /** Which round, counting from 0. */
  readonly index: number;
  /** Ours over the baseline, in that round. */
  readonly ratio: number;
}

/** Each round's ratio of ours to the baseline (the two lists are the same rounds, in order). */
export function ownRatios(ours: readonly RoundRate[], baseline: readonly RoundRate[]): number[] {
  if (ours.length !== baseline.length || ours.length === 0) throw new Error(`the rounds of ours (${ours.length}) and of the baseline (${baseline.length}) must be the same, and at least one`);
  return ours.map((round, i) => round.bookingsPerSecond / (baseline[i] as RoundRate).bookingsPerSecond);
}

/**
 * The round whose own ratio is the median of the rounds' (of an even count, the lower of the two in
 * the middle): its rates are a real pair, measured together, whose ratio is the figure.
 */
export function medianRound(ours: readonly RoundRate[], baseline: readonly RoundRate[]): MedianRound {
  const ratios = ownRatios(ours, baseline);
  const order = ratios.map((ratio, index) => ({ ratio, index })).sort((a, b) => a.ratio - b.ratio || a.index - b.index);
  return order[Math.floor((order.length - 1) / 2)] as MedianRound;
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
 */
export function agreement(ours: readonly RoundRate[], baseline: readonly RoundRate[], options: { within?: number; draws?: number; seed?: number } = {}): Agreement {
  const { within = 0.1, draws = 10_000, seed = 22 } = options;
  const ratios = ownRatios(ours, baseline);
  const random = mulberry32(seed);
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

/** A small seeded generator of numbers in [0, 1) (mulberry32): a bench's resampling must repeat. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
