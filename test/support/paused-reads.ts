import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../eventstore/port.ts';

/**
 * Makes two requests interleave where a spec wants them: the `nth` time a stream `matching` is
 * read, the read is made, then `first` runs to its end, then the read returns what it saw before.
 */
export function pauseRead(store: EventStore, matching: (stream: string) => boolean, nth: number, first: () => Promise<unknown>): void {
  const readStream = store.readStream.bind(store);
  let seen = 0;
  store.readStream = async (stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
    if (!matching(stream) || ++seen !== nth) return readStream(stream, options);
    const events = await readStream(stream, options);
    await first();
    return events;
  };
}
