/**
 * What a projection is: a named read model over some event types. The runner hands it a batch of
 * events inside a transaction that also moves its checkpoint; the projection turns the batch into
 * bulk writes (load the rows the batch touches, fold the events over them in memory, write each
 * table once). It never commits, and it never sees a batch twice.
 */
import type { Knex } from 'knex';
import type { DomainEvent, EventMetadata } from '../domain/index.ts';
import type { SqlDialect } from '../lib/db/dialect.ts';
import type { LocalInfile } from './bulk.ts';

/** A stored event as projections see it: upcast to the current version, with its position. */
export type ProjectedEvent = DomainEvent & {
  readonly metadata: EventMetadata;
  readonly position: number;
  readonly stream: string;
};

/** The events of some types only: what a projection's filter lets through. */
export type ProjectedOf<T extends DomainEvent['type']> = Extract<ProjectedEvent, { readonly type: T }>;

/** Narrows a batch to the types a projection asked the store for (its eventTypes filter). */
export function ofTypes<T extends DomainEvent['type']>(events: readonly ProjectedEvent[], types: readonly T[]): readonly ProjectedOf<T>[] {
  return events.filter((event): event is ProjectedOf<T> => (types as readonly string[]).includes(event.type));
}

export interface ApplyContext {
  readonly trx: Knex.Transaction;
  readonly dialect: SqlDialect;
  /** The physical name of one of the projection's tables: itself, or its shadow during a rebuild. */
  table(name: string): string;
  /** The generation being written: names the cache keys of these tables (see rebuild.ts). */
  readonly generation: number;
  /** The position the checkpoint moves to with this batch. */
  readonly position: number;
  /** The position it moves from: the end of the page before, which another runner may have applied. */
  readonly from: number;
  /** What the read-model database has shown of LOAD DATA LOCAL (insertMany in bulk.ts). */
  readonly localInfile: LocalInfile;
}

/** Work for after the batch committed (cache writes); the runner retries nothing of it. */
export type AfterCommit = () => Promise<void>;

/** One table's share of a batch's writes: independent of the batch's other writes. */
export type TableWrite = (trx: Knex.Transaction) => Promise<void>;

export interface BatchWrites {
  /**
   * The batch's writes, in no particular order: none depends on another's rows. The live runner
   * runs them one after another in the batch's transaction; a rebuild runs them side by side on
   * connections of their own (a shadow is private until it swaps in, and a rebuild cut short
   * starts over, so its batches need not be atomic).
   */
  readonly writes: readonly TableWrite[];
  readonly afterCommit?: AfterCommit;
}

export interface Projection {
  readonly name: string;
  /** The tables it owns, rebuilt and swapped together. */
  readonly tables: readonly string[];
  /** canHandle, as a filter the event store applies before events are read. */
  readonly eventTypes: readonly DomainEvent['type'][];
  /** Reads what the batch touches (through `context.trx`) and folds the events into writes. */
  apply(events: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites>;
  /** Called once a rebuild has swapped in generation `generation` (switch cache keys). */
  activated?(generation: number): Promise<void>;
}

export function canHandle(projection: Projection, type: string): boolean {
  return (projection.eventTypes as readonly string[]).includes(type);
}
