/**
 * JSON.stringify's text, written a slice at a time. A sale's concert snapshot holds tens of
 * thousands of holds: written in one call it kept the event loop while every request waited (in
 * the flash-sale bench, 37 ms for one of about 10,000 holds; 50–170 ms for JSON.stringify alone
 * at 40,000 holds, 17.5 MB). Long arrays are written `slice` elements at a time here, the event
 * loop let go between slices (at 40,000 holds the longest turn was 3–9 ms, the whole 85–110 ms).
 * The value must not change until the text is done (a snapshot is a copy of the state).
 */
export async function stringifyInSlices(value: unknown, slice = 1_000): Promise<string> {
  const text = await sliced(value, slice);
  if (text === undefined) throw new TypeError('the value has no JSON text');
  return text;
}

const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Plain objects and arrays are walked; anything else (toJSON, Map, a boxed number…) is JSON.stringify's. */
async function sliced(value: unknown, slice: number): Promise<string | undefined> {
  if (Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    if (value.length <= slice) return JSON.stringify(value);
    // Each slice is JSON.stringify's own text of those elements (its brackets cut off): the same
    // text, at the native writer's speed.
    const parts: string[] = [];
    for (let at = 0; at < value.length; at += slice) {
      if (at > 0) await pause();
      parts.push(JSON.stringify(value.slice(at, at + slice)).slice(1, -1));
    }
    return `[${parts.join(',')}]`;
  }
  if (typeof value === 'object' && value !== null && isPlain(value)) {
    const members: string[] = [];
    for (const [key, member] of Object.entries(value)) {
      const text = await sliced(member, slice);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

function isPlain(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}
