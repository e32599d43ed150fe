/**
 * The opening lottery: everyone who joined the waiting room before the sale opened is put in a
 * uniformly random order, derived from a seed alone. The seed (32 random bytes, drawn by the
 * caller) is recorded in `LotteryDrawn`, so every replay, projector and auditor derives the same
 * order from the same seed and the number of entrants; the order itself is not stored.
 *
 * The algorithm is part of the event's meaning, so it is fixed forever under its name
 * (LOTTERY_ALGORITHM); a different one would need a new name, and this one kept for old events.
 *
 * - Seed: 64 lower-case hex digits, read as eight big-endian 32-bit words w0…w7.
 * - Generator: xoshiro128** (Blackman & Vigna, 2018), 128 bits of state s0…s3, with
 *   s_i = fmix32(w_i ^ fmix32((w_{i+4} + (i + 1) · 0x9E3779B9) mod 2^32)), where fmix32 is
 *   MurmurHash3's 32-bit finaliser (a bijection that spreads every input bit over the output). An
 *   all-zero state (the generator's one fixed point) becomes s0 = 1. The first 16 outputs are
 *   thrown away, so seeds that differ in one bit start far apart.
 * - Bounded integers: a uniform integer below n by rejection: an output x below 2^32 mod n is
 *   drawn again, else x mod n (the kept range is a whole number of n-blocks, so no remainder is
 *   favoured; plain `x mod n` would favour small values).
 * - Shuffle: Fisher–Yates (Durstenfeld) from the top: for i = n-1 … 1, swap slot i with a
 *   uniform j in 0…i. The input is the join ranks 0…n-1 in the order the joins were recorded.
 */

export const LOTTERY_ALGORITHM = 'xoshiro128**/fisher-yates/v1';

/** 32 bytes as 64 lower-case hex digits. */
export const LOTTERY_SEED_PATTERN = '^[0-9a-f]{64}$';
const SEED = new RegExp(LOTTERY_SEED_PATTERN);

const GOLDEN = 0x9e3779b9;
const WARM_UP = 16;

export function isLotterySeed(value: string): boolean {
  return SEED.test(value);
}

/** MurmurHash3's fmix32: a bijection on 32-bit words with full avalanche. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** xoshiro128** from the state s0…s3 (not all zero): the reference algorithm, word for word. */
export function xoshiro128starstar(s0: number, s1: number, s2: number, s3: number): () => number {
  let a = s0 >>> 0, b = s1 >>> 0, c = s2 >>> 0, d = s3 >>> 0;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c = (c ^ a) >>> 0;
    d = (d ^ b) >>> 0;
    b = (b ^ c) >>> 0;
    a = (a ^ d) >>> 0;
    c = (c ^ t) >>> 0;
    d = rotl(d, 11);
    return result;
  };
}

/** A generator of uniform 32-bit unsigned integers, seeded as described above. */
export function seededGenerator(seed: string): () => number {
  if (!isLotterySeed(seed)) throw new RangeError('a lottery seed is 64 lower-case hex digits');
  const words = Array.from({ length: 8 }, (_, i) => Number.parseInt(seed.slice(i * 8, i * 8 + 8), 16));
  const [s0, s1, s2, s3] = [0, 1, 2, 3].map((i) => fmix32((words[i] ?? 0) ^ fmix32((words[i + 4] ?? 0) + (i + 1) * GOLDEN))) as [number, number, number, number];
  const next = xoshiro128starstar((s0 | s1 | s2 | s3) === 0 ? 1 : s0, s1, s2, s3);
  for (let i = 0; i < WARM_UP; i++) next();
  return next;
}

/** A uniform integer in 0…n-1 (1 ≤ n ≤ 2^32), by rejection: never biased towards small values. */
export function uniformBelow(next: () => number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) throw new RangeError(`no uniform integer below ${n}`);
  const threshold = 0x1_0000_0000 % n; // 2^32 mod n: the outputs below it would make the low remainders likelier
  for (;;) {
    const x = next();
    if (x >= threshold) return x % n;
  }
}

/** Shuffles `items` in place, uniformly, with Fisher–Yates and unbiased bounded integers. */
export function shuffle<T>(items: T[] | Uint32Array, next: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = uniformBelow(next, i + 1);
    const kept = items[i]!;
    items[i] = items[j]!;
    items[j] = kept;
  }
}

/**
 * The lottery's order of `entrants` joiners: element k is the join rank (0 = the first join
 * recorded) of whoever stands k-th. The same seed and count give the same order, always.
 */
export function lotteryOrder(seed: string, entrants: number): Uint32Array {
  const order = new Uint32Array(entrants);
  for (let rank = 0; rank < entrants; rank++) order[rank] = rank;
  shuffle(order, seededGenerator(seed));
  return order;
}
