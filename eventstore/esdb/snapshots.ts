/**
 * Snapshots on EventStoreDB: each stream's in a stream of its own, its events written and read
 * through SnapshotStream (esdb-event-store.ts gives it EventStoreDB's).
 *
 * EventStoreDB takes at most 1 MiB of events in one append (MaxAppendSize), and a big sale's
 * concert snapshot is megabytes even gzipped (each pending hold's sealed holders are random text
 * that does not compress). So a snapshot's text (snapshot-text.ts) longer than one event takes is
 * written as SnapshotPiece events, an append each, then a Snapshot event that counts them; a short
 * one is the Snapshot event alone. Every append expects the revision the one before left: a
 * snapshot saved by another process in between ends this save (the stream keeps the other).
 * Once a Snapshot event is written, the events before the save's first are truncated.
 *
 * A load reads back from the end to the newest Snapshot event (pieces after it are a save that
 * died before its Snapshot event) and then the pieces it counts, just before it. A piece of
 * another revision, or one missing (a newer save truncated them meanwhile), is not a snapshot:
 * the load starts again, and after MAX_ATTEMPTS answers none (the stream is folded).
 */
import { stringifyInSlices } from '../../lib/json-slices.ts';
import type { Snapshot } from '../port.ts';
import { packSnapshot, piecesOf, unpackSnapshot } from '../snapshot-text.ts';

/** An event of a snapshot stream as read back. */
export interface SnapshotStreamEvent {
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
}

/** What snapshots need of their stream. */
export interface SnapshotStream {
  /**
   * Appends one event at `expected` (the stream's last revision, or none yet) and answers its
   * revision; false when the stream was not at `expected` (another save wrote meanwhile).
   */
  append(type: string, data: Record<string, unknown>, expected: number | 'no_stream'): Promise<number | false>;
  /** Up to `count` events, newest first, from revision `from` back (from the last when absent). */
  readBackward(count: number, from?: number): Promise<SnapshotStreamEvent[]>;
  /** Lets the events before `revision` go. */
  truncateBefore(revision: number): Promise<void>;
}

/** The most text one event carries: with its JSON around it, well under EventStoreDB's 1 MiB append. */
export const SNAPSHOT_EVENT_CHARS = 512 * 1024;

/** Loads that found a snapshot's pieces replaced, in a row, before one answers none. */
const MAX_ATTEMPTS = 5;

/** Events read back at a time while looking for the newest Snapshot event. */
const PAGE = 16;

/** Events read back, at most, past the pieces of saves that died: further back, no snapshot is looked for. */
const MAX_LOOK_BACK = 1_024;

/** The Snapshot event: the state's revision, and its text or the count of the pieces before it. */
interface SnapshotEventData {
  readonly revision: number;
  readonly text?: string;
  readonly pieces?: number;
}

interface PieceData {
  readonly revision: number;
  readonly seq: number;
  readonly text: string;
}

export async function saveSnapshot(stream: SnapshotStream, snapshot: Snapshot, eventChars = SNAPSHOT_EVENT_CHARS): Promise<void> {
  const { last, newest } = await newestSnapshot(stream);
  if (newest !== null && newest.data.revision >= snapshot.revision) return;
  // Written a slice at a time: a sale's snapshot is megabytes of JSON, and requests wait while it is written.
  const packed = await packSnapshot(await stringifyInSlices(snapshot.data));
  const pieces = packed.length > eventChars ? piecesOf(packed, eventChars) : [];
  let expected: number | 'no_stream' = last ?? 'no_stream';
  let first: number | undefined;
  const events: [string, Record<string, unknown>][] = [
    ...pieces.map((text, seq): [string, Record<string, unknown>] => ['SnapshotPiece', { revision: snapshot.revision, seq, text } satisfies PieceData]),
    ['Snapshot', (pieces.length > 0 ? { revision: snapshot.revision, pieces: pieces.length } : { revision: snapshot.revision, text: packed }) satisfies SnapshotEventData],
  ];
  for (const [type, data] of events) {
    const written = await stream.append(type, data, expected);
    // Another process saved meanwhile: its snapshot stands, and this save's pieces are left to the next truncation.
    if (written === false) return;
    first ??= written;
    expected = written;
  }
  if (first !== undefined && first > 0) await stream.truncateBefore(first);
}

export async function loadSnapshot(stream: SnapshotStream): Promise<Snapshot | null> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { newest } = await newestSnapshot(stream);
    if (newest === null) return null;
    const { revision, text, pieces } = newest.data;
    const packed = text ?? await piecesBefore(stream, newest.revision, revision, pieces ?? 0);
    if (packed !== null) return { revision, data: JSON.parse(await unpackSnapshot(packed)) as unknown };
  }
  return null;
}

/**
 * The stream's last revision, and its newest Snapshot event (null when none). The last event is
 * read alone first: it is the Snapshot event unless a save died after its first pieces, and each
 * piece is half a megabyte.
 */
async function newestSnapshot(stream: SnapshotStream): Promise<{ last: number | undefined; newest: { revision: number; data: SnapshotEventData } | null }> {
  let last: number | undefined;
  let from: number | undefined;
  for (let read = 0, count = 1; read < MAX_LOOK_BACK; read += count, count = PAGE) {
    const events = await stream.readBackward(count, from);
    last ??= events[0]?.revision;
    const found = events.find((event) => event.type === 'Snapshot' && isSnapshotData(event.data));
    if (found !== undefined) return { last, newest: { revision: found.revision, data: found.data as SnapshotEventData } };
    const oldest = events.at(-1)?.revision;
    if (events.length < count || oldest === undefined || oldest === 0) break;
    from = oldest - 1;
  }
  return { last, newest: null };
}

/** The text of the `count` pieces just before the Snapshot event at `at`, or null when they are not all there, in order, of `revision`. */
async function piecesBefore(stream: SnapshotStream, at: number, revision: number, count: number): Promise<string | null> {
  if (count < 1 || at < count) return null;
  const events = (await stream.readBackward(count, at - 1)).reverse();
  const pieces = events.map((event) => event.data as Partial<PieceData>);
  const whole = events.length === count && events.every((event, i) => event.type === 'SnapshotPiece' && event.revision === at - count + i)
    && pieces.every((piece, seq) => piece.revision === revision && piece.seq === seq && typeof piece.text === 'string');
  return whole ? pieces.map((piece) => piece.text).join('') : null;
}

function isSnapshotData(data: unknown): data is SnapshotEventData {
  if (typeof data !== 'object' || data === null) return false;
  const { revision, text, pieces } = data as Record<string, unknown>;
  return typeof revision === 'number' && (typeof text === 'string' || (typeof pieces === 'number' && pieces >= 1));
}
