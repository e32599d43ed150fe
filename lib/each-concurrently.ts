/** Runs `work` over `items` with at most `lanes` at once, each lane taking the next item when it is free. */
export async function eachConcurrently<T>(items: readonly T[], lanes: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T, i);
  }));
}
