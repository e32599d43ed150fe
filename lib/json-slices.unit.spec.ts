import t from 'tap';
import { stringifyInSlices } from './json-slices.ts';

/** A value of every shape JSON.stringify treats specially, nested. */
function tricky(seed: number): unknown {
  const sparse: unknown[] = [1, , 3]; // eslint-disable-line no-sparse-arrays
  return {
    n: seed, neg: -0, big: 2 ** 53 - 1, nan: Number.NaN, inf: Infinity, text: 'Zoë "🎫" \\ \u2028 \u0000 it\'s', empty: '',
    nothing: null, missing: undefined, fn: () => 1, [Symbol('s')]: 'hidden', 10: 'an index key', a: [undefined, () => 2, Symbol('t'), null],
    when: new Date(Date.UTC(2026, 11, 6, 10, seed % 60)), map: new Map([[1, 2]]), boxed: new Number(seed), sparse,
    nested: { deeper: [[seed, [seed, { x: seed }]], {}], none: {} }, bare: Object.assign(Object.create(null) as object, { k: seed }),
  };
}

t.test('writes the text JSON.stringify writes, whatever the value', async (t) => {
  const values: unknown[] = [
    null, 0, 'text', true, [], {}, [[]], tricky(1),
    Array.from({ length: 25 }, (_, i) => tricky(i)),
    { holds: Array.from({ length: 2_500 }, (_, i) => [`b${i}`, [i, i + 1], i % 3 === 0 ? null : [{ iv: 'x', ciphertext: 'y' }]]), seats: Array.from({ length: 7 }, (_, i) => i) },
    [Array.from({ length: 10 }, (_, i) => Array.from({ length: i * 3 }, (_, j) => j))],
  ];
  for (const [i, value] of values.entries()) {
    for (const slice of [1, 3, 1_000]) t.equal(await stringifyInSlices(value, slice), JSON.stringify(value), `value ${i}, slices of ${slice}`);
  }
  await t.rejects(stringifyInSlices(undefined), TypeError, 'no text for undefined (JSON.stringify gives none)');
  await t.rejects(stringifyInSlices({ big: [1n] }, 1), TypeError, 'a BigInt is refused, as JSON.stringify refuses it');
});

t.test('lets the event loop go between slices of a long array', async (t) => {
  const ticks: number[] = [];
  let writing = true;
  const tick = (): void => {
    if (!writing) return;
    ticks.push(ticks.length);
    setImmediate(tick);
  };
  setImmediate(tick);
  const text = await stringifyInSlices({ holds: Array.from({ length: 10_000 }, (_, i) => [i, `b${i}`]) }, 1_000);
  writing = false;
  t.ok(text.startsWith('{"holds":[[0,"b0"],'), 'the text');
  t.ok(ticks.length >= 9, `other work ran between the 10 slices (${ticks.length} turns)`);
});
