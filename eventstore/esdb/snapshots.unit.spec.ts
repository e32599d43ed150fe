/**
 * Snapshots on EventStoreDB, on a stream that keeps EventStoreDB's rules for what they use of it:
 * an append is refused past 1 MiB of event data (MaxAppendSize's default) or at another revision
 * than expected, and events before a stream's truncateBefore are not read back. No EventStoreDB
 * server can run on the build machines; the adapter's contract spec runs these cases against one
 * where EVENTSTORE_URL names it.
 */
import t from 'tap';
import { incompressibleSnapshot } from '../../test/support/sealed.ts';
import { loadSnapshot, saveSnapshot, type SnapshotStream, type SnapshotStreamEvent } from './snapshots.ts';

const MAX_APPEND_BYTES = 1024 * 1024;

class RuledStream implements SnapshotStream {
  readonly events: SnapshotStreamEvent[] = [];
  readonly appendedBytes: number[] = [];
  /** Events handed out by reads. */
  eventsRead = 0;
  truncatedBefore = 0;
  /** Called before each append is applied (a crash, another process's save). */
  beforeAppend: (type: string) => Promise<void> = async () => undefined;

  async append(type: string, data: Record<string, unknown>, expected: number | 'no_stream'): Promise<number | false> {
    await this.beforeAppend(type);
    const bytes = Buffer.byteLength(JSON.stringify(data));
    if (bytes > MAX_APPEND_BYTES) throw new Error(`Maximum Append Size of ${MAX_APPEND_BYTES} Exceeded.`);
    const last = this.events.at(-1)?.revision;
    if ((last ?? 'no_stream') !== expected) return false;
    this.appendedBytes.push(bytes);
    const revision = last === undefined ? 0 : last + 1;
    this.events.push({ revision, type, data: JSON.parse(JSON.stringify(data)) as unknown });
    return revision;
  }

  async readBackward(count: number, from?: number): Promise<SnapshotStreamEvent[]> {
    const events = this.events.filter((event) => event.revision >= this.truncatedBefore && (from === undefined || event.revision <= from)).reverse().slice(0, count);
    this.eventsRead += events.length;
    return events;
  }

  async truncateBefore(revision: number): Promise<void> {
    this.truncatedBefore = revision;
  }
}

t.test('a short snapshot is one Snapshot event, and a newer replaces it, never an older', async (t) => {
  const stream = new RuledStream();
  t.equal(await loadSnapshot(stream), null, 'none yet');
  await saveSnapshot(stream, { revision: 10, data: { seats: 'AAEC' } });
  t.same(await loadSnapshot(stream), { revision: 10, data: { seats: 'AAEC' } });
  await saveSnapshot(stream, { revision: 5, data: { stale: true } });
  t.same(await loadSnapshot(stream), { revision: 10, data: { seats: 'AAEC' } }, 'an older one is not saved');
  await saveSnapshot(stream, { revision: 20, data: { fresh: true } });
  t.same(await loadSnapshot(stream), { revision: 20, data: { fresh: true } });
  t.same(stream.events.map((event) => event.type), ['Snapshot', 'Snapshot']);
  t.equal(stream.truncatedBefore, 1, 'the replaced one is truncated');
});

t.test('a snapshot longer than one append takes is written in pieces, each append under 1 MiB, and loads back whole', async (t) => {
  const stream = new RuledStream();
  const data = incompressibleSnapshot(30_000);
  t.ok(JSON.stringify(data).length > 3 * MAX_APPEND_BYTES, `${JSON.stringify(data).length} bytes of JSON`);
  await saveSnapshot(stream, { revision: 60_000, data });
  const types = stream.events.map((event) => event.type);
  t.ok(types.length > 3 && types.slice(0, -1).every((type) => type === 'SnapshotPiece') && types.at(-1) === 'Snapshot', `${types.length - 1} pieces, then the Snapshot event`);
  t.ok(stream.appendedBytes.every((bytes) => bytes < MAX_APPEND_BYTES), `appends of ${Math.max(...stream.appendedBytes)} bytes at most`);
  stream.eventsRead = 0;
  t.same(await loadSnapshot(stream), { revision: 60_000, data });
  t.equal(stream.eventsRead, types.length, 'a load reads the Snapshot event, then each piece once');

  const next = incompressibleSnapshot(31_000);
  await saveSnapshot(stream, { revision: 62_000, data: next });
  t.same(await loadSnapshot(stream), { revision: 62_000, data: next }, 'a newer one replaces it');
  t.equal(stream.truncatedBefore, types.length, "the older one's pieces are truncated");
});

t.test('a save that died between its pieces and its Snapshot event: the snapshot before it loads, and the next save goes on', async (t) => {
  const stream = new RuledStream();
  const first = incompressibleSnapshot(20_000);
  await saveSnapshot(stream, { revision: 40_000, data: first });
  let pieces = 0;
  stream.beforeAppend = async (type) => {
    if (type === 'SnapshotPiece' && ++pieces === 3) throw new Error('the process died');
  };
  await t.rejects(saveSnapshot(stream, { revision: 45_000, data: incompressibleSnapshot(22_000) }), /died/);
  t.equal(stream.events.at(-1)?.type, 'SnapshotPiece', 'two pieces of the dead save are last in the stream');
  t.same(await loadSnapshot(stream), { revision: 40_000, data: first }, 'the last whole snapshot loads');
  stream.beforeAppend = async () => undefined;
  const third = incompressibleSnapshot(25_000);
  await saveSnapshot(stream, { revision: 50_000, data: third });
  t.same(await loadSnapshot(stream), { revision: 50_000, data: third });
});

t.test('two processes saving at once: one save stands whole, the other ends, and a load never mixes their pieces', async (t) => {
  const stream = new RuledStream();
  const mine = incompressibleSnapshot(20_000);
  const theirs = incompressibleSnapshot(20_000);
  let interleaved = false;
  stream.beforeAppend = async (type) => {
    if (type !== 'SnapshotPiece' || interleaved) return;
    interleaved = true;
    // Another process's whole save lands just before this process's first piece.
    stream.beforeAppend = async () => undefined;
    await saveSnapshot(stream, { revision: 41_000, data: theirs });
  };
  await saveSnapshot(stream, { revision: 40_000, data: mine });
  t.same(await loadSnapshot(stream), { revision: 41_000, data: theirs }, "the other process's snapshot stands");
  t.notOk(stream.events.some((event) => (event.data as { revision?: number }).revision === 40_000), 'nothing of the save that lost was written');
});

t.test('a load whose pieces a newer save truncated meanwhile reads again, and gets one whole snapshot', async (t) => {
  const stream = new RuledStream();
  const older = incompressibleSnapshot(20_000);
  const newer = incompressibleSnapshot(21_000);
  await saveSnapshot(stream, { revision: 40_000, data: older });
  const readBackward = stream.readBackward.bind(stream);
  let replaced = false;
  stream.readBackward = async (count, from) => {
    const events = await readBackward(count, from);
    if (!replaced && events[0]?.type === 'Snapshot') {
      // Right after the load found the Snapshot event, a newer save replaces it and truncates its pieces.
      replaced = true;
      await saveSnapshot(stream, { revision: 42_000, data: newer });
    }
    return events;
  };
  t.same(await loadSnapshot(stream), { revision: 42_000, data: newer });
  t.ok(replaced, 'the pieces were replaced between the two reads');
});
