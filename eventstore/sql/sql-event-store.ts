/**
 * The event store on SQL through knex: MariaDB/MySQL (mysql2) or SQLite (better-sqlite3), one
 * code path, two small dialect differences (dialect.ts).
 *
 * Positions are gap-free and commit in order. Auto-increment ids are not commit order: under
 * concurrent transactions, id 11 can commit before id 10, and a reader that has seen 11 and asks
 * for "position > 11" would never see 10. So an append allocates its positions from the single
 * row of es_head (`position = position + n`) inside its transaction, as its last step before the
 * insert and commit. The row stays locked until commit, so the next append gets its positions
 * only after this one's are committed: committed positions are always a prefix 1..head, and
 * readers never look past the committed head.
 *
 * Lock order is always stream row, then head row, so appends cannot deadlock each other; two
 * appends to different streams overlap in everything but the short head-to-commit section.
 */
import { EventEmitter } from 'node:events';
import knex, { type Knex } from 'knex';
import { mysqlSession } from '../../lib/db/mysql-session.ts';
import { stringifyInSlices } from '../../lib/json-slices.ts';
import {
  InvalidAppend,
  WritesConflicted,
  WrongExpectedRevision,
  checkAppend,
  type AllPage,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamWrite,
  type SubscribeOptions,
  type Subscription,
} from '../port.ts';
import { packSnapshot, piecesOf, unpackSnapshot } from '../snapshot-text.ts';
import { eventStoreDialectOf, type Dialect } from './dialect.ts';
import { RevisionMismatch, type EventRow } from './rows.ts';
import { migrateEventStore } from './schema.ts';
import { pollingSubscription, type AppendedWrites } from './subscription.ts';

export type SqlEventStoreOptions = (
  | { readonly client: 'mysql2'; readonly url: string; readonly poolSize?: number }
  | { readonly client: 'better-sqlite3'; readonly filename: string }
) & {
  /** How often a subscription looks for events appended by other processes (50 ms). */
  readonly pollIntervalMs?: number;
  /**
   * Whether other processes' appends are heard as they happen now (announced over NATS, which
   * wakes the subscriptions through appendedElsewhere): while they are, a subscription polls only
   * every HEARD_POLL_INTERVAL_MS, a safety net for an announcement lost.
   */
  readonly appendsHeard?: () => boolean;
  /**
   * The longest statement the database takes, in bytes: a snapshot whose stored text would not
   * fit is stored in pieces, and an append that would not is sent in several requests. By
   * default the server's max_allowed_packet (MySQL/MariaDB), no limit (SQLite).
   */
  readonly maxStatementBytes?: number;
};

interface SqliteConnection {
  pragma(source: string): unknown;
}
type PoolDone<C> = (error: Error | null, connection: C) => void;


const DEFAULT_POLL_INTERVAL_MS = 50;
/**
 * The poll while appends elsewhere are announced: at 50 ms an idle command role's three reactors
 * sent 60 queries a second to the primary, and the role used 76 ms of CPU a second (measured).
 */
export const HEARD_POLL_INTERVAL_MS = 1_000;
/** Deadlocks and busy databases are retried this many times before the error reaches the caller. */
const MAX_ATTEMPTS = 5;
const MAX_PAGE = 10_000;

export class SqlEventStore implements EventStore {
  readonly #db: Knex;
  readonly #dialect: Dialect;
  readonly #appended = new EventEmitter();
  /** Read at each rest of a subscription: it changes while NATS comes and goes. */
  readonly #pollIntervalMs: () => number;
  /** A snapshot whose stored text is longer is stored in pieces (es_snapshot_pieces)… */
  readonly #inlineChars: number;
  /** …of this many characters. */
  readonly #pieceChars: number;
  /** The longest request the database takes (max_allowed_packet): a longer append is sent in several. */
  readonly #maxStatementBytes: number;

  private constructor(db: Knex, pollIntervalMs: number, maxStatementBytes: number, appendsHeard: () => boolean) {
    this.#db = db;
    this.#dialect = eventStoreDialectOf(db);
    this.#pollIntervalMs = () => (appendsHeard() ? Math.max(pollIntervalMs, HEARD_POLL_INTERVAL_MS) : pollIntervalMs);
    this.#maxStatementBytes = maxStatementBytes;
    // Room for the rest of the statement; a text this long is gzip's base64, a byte a character.
    this.#inlineChars = maxStatementBytes - STATEMENT_ROOM;
    this.#pieceChars = Math.min(this.#inlineChars, MAX_PIECE_CHARS);
    this.#appended.setMaxListeners(0);
  }

  /** Connects, creates or upgrades the store's tables, and returns the store. */
  static async open(options: SqlEventStoreOptions): Promise<SqlEventStore> {
    const db = options.client === 'mysql2'
      ? knex({
          client: 'mysql2',
          // Multiple statements let an append send its locked section in one request (mysql-append.ts).
          connection: { uri: options.url, supportBigNumbers: true, bigNumberStrings: false, multipleStatements: true },
          pool: {
            min: 0,
            max: options.poolSize ?? 20,
            // The pinned sql_mode (mysql-session.ts), and, in the same request: appends need no
            // snapshot isolation, and read committed takes no gap locks on a miss.
            afterCreate: mysqlSession('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'),
          },
        } as Knex.Config)
      : knex({
          client: 'better-sqlite3',
          connection: { filename: options.filename },
          useNullAsDefault: true,
          pool: {
            afterCreate: (connection: SqliteConnection, done: PoolDone<SqliteConnection>) => {
              // WAL lets readers (the CLI, projectors) work while the server appends.
              connection.pragma('journal_mode = WAL');
              connection.pragma('synchronous = NORMAL');
              connection.pragma('busy_timeout = 5000');
              done(null, connection);
            },
          },
        });
    try {
      await migrateEventStore(db);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    let maxStatementBytes = options.maxStatementBytes ?? Number.POSITIVE_INFINITY;
    if (options.client === 'mysql2' && options.maxStatementBytes === undefined) {
      const [[row]] = (await db.raw('SELECT @@max_allowed_packet AS max_packet')) as [[{ max_packet: number | string }]];
      maxStatementBytes = Number(row.max_packet);
    }
    if (!(maxStatementBytes >= MIN_STATEMENT_BYTES)) {
      await db.destroy();
      throw new Error(`statements of at most ${maxStatementBytes} bytes are too short for the event store: it needs ${MIN_STATEMENT_BYTES} (max_allowed_packet)`);
    }
    return new SqlEventStore(db, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, maxStatementBytes, options.appendsHeard ?? (() => false));
  }

  async append(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    checkAppend(stream, events, expected);
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await this.#dialect.append(this.#db, [{ stream, events, expected }], this.#maxStatementBytes);
        if (result === undefined) throw new Error('an append gave no result');
        this.#appended.emit('appended', result.position, [{ stream, events, expected }] satisfies AppendedWrites);
        return result;
      } catch (error) {
        if (this.#dialect.isTransient(error) && attempt < MAX_ATTEMPTS) continue;
        if (!(error instanceof RevisionMismatch) && !this.#dialect.isUniqueViolation(error)) throw error;
        // A retry of an append that already happened returns what the first one did.
        const earlier = await this.#alreadyAppended(stream, events);
        if (earlier !== null) return earlier;
        // 'any' lost a race to create the stream: it exists now, so go again.
        if (expected === 'any' && attempt < MAX_ATTEMPTS) continue;
        throw new WrongExpectedRevision(stream, expected, await this.#currentRevision(stream));
      }
    }
  }

  async appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    for (const { stream, events, expected } of writes) checkAppend(stream, events, expected);
    const streams = new Set(writes.map((write) => write.stream));
    if (writes.length > 1 && streams.size === writes.length) {
      try {
        return (await this.appendAll(writes)).map((value) => ({ status: 'fulfilled', value }));
      } catch (error) {
        // One write conflicted (or the database kept balking, deadlocks retried as appendAll
        // does): every write on its own, each told its fate.
        if (!(error instanceof WritesConflicted) && !this.#dialect.isTransient(error)) throw error;
      }
    }
    const outcomes: PromiseSettledResult<AppendResult>[] = [];
    for (const { stream, events, expected } of writes) {
      try {
        outcomes.push({ status: 'fulfilled', value: await this.append(stream, events, expected) });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
      }
    }
    return outcomes;
  }

  async appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    for (const { stream, events, expected } of writes) checkAppend(stream, events, expected);
    if (new Set(writes.map((write) => write.stream)).size !== writes.length) throw new InvalidAppend('appendAll writes each stream once');
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.#dialect.append(this.#db, writes, this.#maxStatementBytes);
        this.#appended.emit('appended', Math.max(...results.map((result) => result.position)), writes satisfies AppendedWrites);
        return results;
      } catch (error) {
        if (this.#dialect.isTransient(error) && attempt < MAX_ATTEMPTS) continue;
        if (error instanceof RevisionMismatch || this.#dialect.isUniqueViolation(error)) throw new WritesConflicted('a write of appendAll was not at its expected revision: nothing was written');
        throw error;
      }
    }
  }

  async streamRevisions(streams: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let i = 0; i < streams.length; i += 1_000) {
      const rows = await this.#db('es_streams').whereIn('stream_id', streams.slice(i, i + 1_000))
        .select<{ stream_id: string; revision: number | string }[]>('stream_id', 'revision');
      for (const row of rows) found.set(row.stream_id, Number(row.revision));
    }
    return found;
  }

  /** The result of an earlier append of exactly these events to this stream, or null. */
  async #alreadyAppended(stream: string, events: readonly EventToAppend[]): Promise<AppendResult | null> {
    const rows = await this.#db('es_events')
      .whereIn('event_id', events.map((event) => event.id.toLowerCase()))
      .select('event_id', 'stream_id', 'revision', 'position');
    if (rows.length === 0) return null;
    const byId = new Map(rows.map((row: Pick<EventRow, 'event_id' | 'stream_id' | 'revision' | 'position'>) => [row.event_id, row]));
    const found = events.map((event) => byId.get(event.id.toLowerCase()));
    const first = found[0];
    const consecutive = first !== undefined && found.every((row, i) =>
      row !== undefined && row.stream_id === stream && Number(row.revision) === Number(first.revision) + i);
    if (!consecutive) return null; // some of them, or elsewhere: not a retry of the same append
    const lastRow = found[found.length - 1] as Pick<EventRow, 'revision' | 'position'>;
    return { nextExpectedRevision: Number(lastRow.revision), position: Number(lastRow.position) };
  }

  async #currentRevision(stream: string): Promise<number | 'no_stream'> {
    const row = await this.#db('es_streams').where({ stream_id: stream }).first<{ revision: number | string } | undefined>('revision');
    return row === undefined ? 'no_stream' : Number(row.revision);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    let query = this.#db('es_events').where({ stream_id: stream });
    if (options.fromRevision !== undefined) query = query.andWhere('revision', backward ? '<=' : '>=', options.fromRevision);
    query = query.orderBy('revision', backward ? 'desc' : 'asc');
    if (options.maxCount !== undefined) query = query.limit(options.maxCount);
    const rows = (await query.select()) as EventRow[];
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<AllPage> {
    const after = options.after ?? 0;
    const maxCount = Math.min(options.maxCount ?? 1_000, MAX_PAGE);
    // Read the committed head first: everything at or below it is committed and visible.
    const head = await this.headPosition();
    if (head <= after) return { events: [], position: after };
    let query = this.#db('es_events').where('position', '>', after).andWhere('position', '<=', head);
    const prefixes = options.filter?.streamPrefixes;
    if (prefixes !== undefined) {
      query = query.andWhere((where) => {
        for (const prefix of prefixes) where.orWhereRaw('SUBSTR(stream_id, 1, ?) = ?', [prefix.length, prefix]);
        if (prefixes.length === 0) where.whereRaw('1 = 0');
      });
    }
    if (options.filter?.eventTypes !== undefined) query = query.whereIn('type', options.filter.eventTypes);
    const rows = (await query.orderBy('position').limit(maxCount).select()) as EventRow[];
    const events = rows.map(toRecorded);
    const position = events.length === maxCount ? (events[events.length - 1] as RecordedEvent).position : head;
    return { events, position };
  }

  async headPosition(): Promise<number> {
    const row = await this.#db('es_head').where({ id: 1 }).first<{ position: number | string } | undefined>('position');
    return Number(row?.position ?? 0);
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    return pollingSubscription({
      readPage: (after) => this.readAll({ after, maxCount: options.batchSize ?? 500, ...(options.filter ? { filter: options.filter } : {}) }),
      after: options.after ?? 0,
      pageSize: options.batchSize ?? 500,
      pollIntervalMs: this.#pollIntervalMs,
      appended: this.#appended,
      ...(options.filter ? { filter: options.filter } : {}),
      ...(options.handledHere ? { handledHere: options.handledHere } : {}),
    });
  }

  async saveSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    // Written a slice at a time: a sale's snapshot is megabytes of JSON, and requests wait while it is written.
    const packed = await packSnapshot(await stringifyInSlices(snapshot.data));
    const pieces = packed.length > this.#inlineChars ? piecesOf(packed, this.#pieceChars) : [];
    const row = { revision: snapshot.revision, data: pieces.length > 0 ? inPieces(pieces.length) : packed, saved_at: Date.now() };
    const save = () => this.#db.transaction(async (trx) => {
      let written = await trx('es_snapshots').where({ stream_id: stream }).andWhere('revision', '<', snapshot.revision).update(row) > 0;
      if (!written) {
        const existing = await trx('es_snapshots').where({ stream_id: stream }).first<{ revision: number } | undefined>('revision');
        if (existing === undefined) {
          await trx('es_snapshots').insert({ stream_id: stream, ...row });
          written = true;
        }
      }
      // A newer snapshot is stored: this one is not, pieces included.
      if (!written) return;
      await trx('es_snapshot_pieces').where({ stream_id: stream }).delete();
      // One statement a piece: each well under any server's max_allowed_packet.
      for (const [seq, data] of pieces.entries()) await trx('es_snapshot_pieces').insert({ stream_id: stream, revision: snapshot.revision, seq, data });
    });
    try {
      await save();
    } catch (error) {
      // Two first snapshots raced to insert: the row exists now, so the update path decides.
      if (!this.#dialect.isUniqueViolation(error)) throw error;
      await save();
    }
  }

  appendedElsewhere(position: number): void {
    this.#appended.emit('appended', position);
  }

  async loadSnapshot(stream: string): Promise<Snapshot | null> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.#db('es_snapshots').where({ stream_id: stream })
        .first<{ revision: number | string; data: string } | undefined>('revision', 'data');
      if (row === undefined) return null;
      const revision = Number(row.revision);
      const count = piecesIn(row.data);
      const packed = count === undefined ? row.data : await this.#pieces(stream, revision, count);
      if (packed !== null) return { revision, data: JSON.parse(await unpackSnapshot(packed)) as unknown };
      // Replaced by a newer one between the two reads: read again. One that keeps being replaced is not waited for: no snapshot, the stream is folded.
      if (attempt === MAX_ATTEMPTS) return null;
    }
  }

  /** The text of a snapshot stored in `count` pieces, or null when they are not all of `revision` (a newer one replaced it meanwhile). */
  async #pieces(stream: string, revision: number, count: number): Promise<string | null> {
    const rows = await this.#db('es_snapshot_pieces').where({ stream_id: stream, revision }).orderBy('seq').select<{ seq: number; data: string }[]>('seq', 'data');
    return rows.length === count && rows.every((row, i) => Number(row.seq) === i) ? rows.map((row) => row.data).join('') : null;
  }

  async close(): Promise<void> {
    this.#appended.emit('close');
    await this.#db.destroy();
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream_id,
    revision: Number(row.revision),
    position: Number(row.position),
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    recordedAt: new Date(Number(row.recorded_at)).toISOString(),
  };
}

/** The shortest statement limit the store works with; any server's max_allowed_packet is larger (4 MiB or more by default). */
const MIN_STATEMENT_BYTES = 1024 * 1024;
/** What a snapshot's statement holds besides its text. */
const STATEMENT_ROOM = 64 * 1024;
/** Pieces stay this small on a server that takes larger statements: the server holds a whole statement in memory while it parses it. */
const MAX_PIECE_CHARS = 4 * 1024 * 1024;
/**
 * Big snapshots are stored gzipped (snapshot-text.ts), in the same column.
 *
 * Gzip alone does not keep a snapshot under max_allowed_packet (16 MiB by default on MariaDB,
 * 4 MiB on older MySQL), over which the server refuses the statement (and drops the connection):
 * a sale's pending holds each carry sealed holders, random ciphertext gzip cannot shrink, and
 * 60,000 of them came to 17 MB stored. A snapshot that cannot be saved makes every cold load fold
 * a longer tail. So a stored text too long for one statement goes in pieces, one row and one
 * statement each, in es_snapshot_pieces, and the snapshot's row holds only their count; all in one
 * transaction with the row, so a reader sees the old pieces or the new, and tells which by their
 * revision. Only what would not fit is split, and the count is written as a concert snapshot of a
 * version no release restores: a release from before the pieces (a rolling upgrade, a rollback)
 * reads every snapshot it could have saved itself, and folds a concert stored in pieces from its
 * first event, as it did when the save failed.
 */
const PIECES_MARK = /^\{"pieces":(\d+),"concert":\{"version":"in pieces"\}\}$/;

function inPieces(count: number): string {
  return JSON.stringify({ pieces: count, concert: { version: 'in pieces' } });
}

/** How many pieces the row's text says the snapshot is in; undefined when it is the snapshot. */
function piecesIn(text: string): number | undefined {
  const count = PIECES_MARK.exec(text)?.[1];
  return count === undefined ? undefined : Number(count);
}
