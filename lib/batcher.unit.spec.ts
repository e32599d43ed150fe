import t from 'tap';
import { Batcher } from './batcher.ts';

t.test('items arriving while a batch is handled go together in the next, up to the limit', async (t) => {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  const batcher = new Batcher<number>(3, async (batch) => {
    batches.push(batch);
    if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
  });
  batcher.push(1); // handled at once, alone
  for (const item of [2, 3, 4, 5]) batcher.push(item); // wait behind it
  release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.strictSame(batches, [[1], [2, 3, 4], [5]]);
  batcher.push(6);
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.strictSame(batches.at(-1), [6], 'when idle, an item goes at once');
});
