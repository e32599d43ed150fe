import t from 'tap';
import { setNewest } from './bounded-map.ts';

t.test('keeps the newest entries, a set again counting as new', async (t) => {
  const map = new Map<string, number>();
  for (const [i, key] of ['a', 'b', 'c'].entries()) setNewest(map, key, i, 3);
  setNewest(map, 'a', 10, 3);
  setNewest(map, 'd', 4, 3);
  t.strictSame([...map], [['c', 2], ['a', 10], ['d', 4]], '"b" was the oldest once "a" was set again');
  setNewest(map, 'e', 5, 1);
  t.strictSame([...map], [['e', 5]], 'a smaller bound drops all the older ones');
});
