/**
 * The EventStoreDB adapter's snapshots and long appends, on a client double that keeps the rules
 * of EventStoreDB's client API for the calls they make (appendToStream at an expected revision,
 * refused past 1 MiB of events with MaxAppendSizeExceededError; readStream both ways from a
 * revision or the end, StreamNotFoundError for a stream never written; setStreamMetadata's
 * truncateBefore). No EventStoreDB server can run on the build machines: esdb.int.spec.ts runs
 * the whole contract against a real one where EVENTSTORE_URL names it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  MaxAppendSizeExceededError,
  NO_STREAM,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type EventStoreDBClient,
} from '@eventstore/db-client';
import t from 'tap';
import { incompressibleSnapshot } from '../../test/support/sealed.ts';
import { AppendTooLarge } from '../port.ts';
import { EsdbEventStore } from './esdb-event-store.ts';

const MAX_APPEND_BYTES = 1024 * 1024;

interface Stored {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly isJson: true;
  readonly contentType: 'application/json';
  readonly created: Date;
  readonly position: { commit: bigint; prepare: bigint };
}

interface Proposed {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

class ClientDouble {
  readonly streams = new Map<string, Stored[]>();
  readonly truncatedBefore = new Map<string, number>();
  readonly appendedBytes: number[] = [];
  #position = 0n;

  async appendToStream(name: string, proposed: Proposed | Proposed[], options: { expectedRevision?: bigint | string } = {}) {
    const events = Array.isArray(proposed) ? proposed : [proposed];
    const bytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata ?? {})), 0);
    if (bytes > MAX_APPEND_BYTES) throw MaxAppendSizeExceededError.fromMaxAppendSize(MAX_APPEND_BYTES);
    const stream = this.streams.get(name) ?? [];
    const current = stream.at(-1)?.revision;
    const expected = options.expectedRevision ?? 'any';
    if (expected !== 'any' && (expected === NO_STREAM ? current !== undefined : current !== expected)) {
      throw new WrongExpectedVersionError(undefined, { streamName: name, current: current ?? NO_STREAM, expected: expected as bigint });
    }
    this.appendedBytes.push(bytes);
    for (const event of events) {
      this.#position += 1n;
      stream.push({
        streamId: name, revision: (stream.at(-1)?.revision ?? -1n) + 1n, id: event.id ?? randomUUID(), type: event.type,
        data: JSON.parse(JSON.stringify(event.data)) as unknown, metadata: event.metadata ?? {}, isJson: true, contentType: 'application/json', created: new Date(), position: { commit: this.#position, prepare: this.#position },
      });
    }
    this.streams.set(name, stream);
    return { success: true, nextExpectedRevision: stream.at(-1)?.revision ?? -1n, position: { commit: this.#position, prepare: this.#position } };
  }

  readStream(name: string, options: { direction?: string; fromRevision?: bigint | string; maxCount?: number | bigint } = {}) {
    const stream = this.streams.get(name);
    const truncated = this.truncatedBefore.get(name) ?? 0;
    return (async function* read() {
      if (stream === undefined) throw new StreamNotFoundError(undefined, name);
      const backward = options.direction === BACKWARDS;
      let events = stream.filter((event) => event.revision >= BigInt(truncated));
      if (backward) events = events.reverse();
      const from = options.fromRevision;
      if (typeof from === 'bigint') events = events.filter((event) => (backward ? event.revision <= from : event.revision >= from));
      else if (from === END && !backward) events = [];
      for (const event of events.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER))) yield { event };
    })();
  }

  async setStreamMetadata(name: string, metadata: { truncateBefore?: number }) {
    if (typeof metadata.truncateBefore === 'number') this.truncatedBefore.set(name, metadata.truncateBefore);
    return { success: true };
  }

  async dispose(): Promise<void> {}
}

function adapterOn(client: ClientDouble): EsdbEventStore {
  return new (EsdbEventStore as unknown as new (client: EventStoreDBClient) => EsdbEventStore)(client as unknown as EventStoreDBClient);
}

t.test('a short snapshot loads back as saved', async (t) => {
  const store = adapterOn(new ClientDouble());
  await store.saveSnapshot('concert-3', { revision: 10, data: { seats: 'AAEC' } });
  t.strictSame(await store.loadSnapshot('concert-3'), { revision: 10, data: { seats: 'AAEC' } });
});

t.test("a sale's snapshot, megabytes that do not compress, is saved in appends EventStoreDB takes and loads back; none of it is a stream's event", async (t) => {
  const client = new ClientDouble();
  const store = adapterOn(client);
  t.equal(await store.loadSnapshot('concert-1'), null, 'none yet');
  const data = incompressibleSnapshot(30_000);
  await store.saveSnapshot('concert-1', { revision: 60_000, data });
  t.ok(client.appendedBytes.length > 3 && client.appendedBytes.every((bytes) => bytes < MAX_APPEND_BYTES), `${client.appendedBytes.length} appends of at most ${Math.max(...client.appendedBytes)} bytes`);
  t.same([...client.streams.keys()], ['snapshot-v2-concert-1'], 'in a snapshot stream of its own');
  t.strictSame(await store.loadSnapshot('concert-1'), { revision: 60_000, data });
  await store.saveSnapshot('concert-1', { revision: 59_000, data: { stale: true } });
  t.equal((await store.loadSnapshot('concert-1'))?.revision, 60_000, 'an older one is not saved');
  const short = { version: 5, holds: [] };
  await store.saveSnapshot('concert-1', { revision: 61_000, data: short });
  t.strictSame(await store.loadSnapshot('concert-1'), { revision: 61_000, data: short }, 'a short newer one replaces it');
  t.equal(client.truncatedBefore.get('snapshot-v2-concert-1'), (client.streams.get('snapshot-v2-concert-1')?.length ?? 0) - 1, 'the older one is truncated');
  t.same(await store.readStream('snapshot-v2-concert-1'), [], 'the snapshot stream is nobody\'s events');
  t.same(await store.readStream('concert-1'), [], 'nor the concert\'s');
});

t.test('an append of more than EventStoreDB takes is refused as AppendTooLarge, nothing written', async (t) => {
  const client = new ClientDouble();
  const store = adapterOn(client);
  const events = Array.from({ length: 400 }, () => ({ id: randomUUID(), type: 'SeatsHeld', data: { holders: randomBytes(2_400).toString('base64') }, metadata: {} }));
  const refused = await store.append('concert-2', events, 'no_stream').then(() => null, (error: unknown) => error);
  t.ok(refused instanceof AppendTooLarge, `refused: ${String(refused)}`);
  t.equal((refused as AppendTooLarge).limit, MAX_APPEND_BYTES, 'with the limit EventStoreDB named');
  t.same(await store.readStream('concert-2'), [], 'nothing was written');
  t.equal((await store.append('concert-2', events.slice(0, 100), 'no_stream')).nextExpectedRevision, 99, 'what fits is appended');
  t.same((await store.readStream('concert-2')).map((event) => event.id), events.slice(0, 100).map((event) => event.id), 'and reads back');
});
