/**
 * What one run of `import:legacy` shares between its parts (users.ts, concerts.ts, bookings.ts):
 * the store and the command path it writes through, the old rows taken so far, the tally and the
 * progress, and the small steps every part takes (a row taken or refused, old ids recorded).
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext, DomainEventShape, Sealed } from '../../domain/index.ts';
import { bookingDecider, bookingStream, type BookingState } from '../../domain/booking/index.ts';
import { legacyStream, type LegacyKind } from '../../domain/legacy/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { derivedUuid } from '../../lib/ids.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { PaymentService } from '../payments/payments.ts';
import { Reconciliation, type LegacyTable } from './reconciliation.ts';
import { CountingStore, DryRunStore } from './stores.ts';
import { ImportCommands, UnitConcertWriter } from './units.ts';

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly phase: 'users' | 'concerts' | 'bookings' | 'payments' | 'done';
}

export interface LegacyImportDeps {
  readonly store: EventStore;
  /** Seals a value with the user's data key (lib/personal-data), as every other path does. */
  readonly seal: (userId: string, value: unknown) => Promise<Sealed>;
  readonly emailDigest: (email: string) => string;
  readonly ktpFingerprint: (ktpNumber: string) => string;
  /** The per-KTP limit of every imported concert (the older system had none of its own). */
  readonly maxTicketsPerKtp: number;
  readonly dryRun: boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
}

/** The id boxoffice gives an old row: the same on every run and every machine. */
export const legacyId = (kind: LegacyKind, id: number): string => derivedUuid('legacy', kind, String(id));

/** The owner of money that arrived for no booking anyone can be found for (its refund is still owed). */
export const UNKNOWN_PAYER = derivedUuid('legacy', 'unknown-payer');

export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** A row not taken, with the reason the report gives. */
export class Refused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface TakenConcert {
  readonly concertId: string;
  readonly prices: ReadonlyMap<number, number>;
}

export interface TakenSeat {
  readonly concertLegacyId: number;
  readonly seatId: string;
  readonly classLegacyId: number;
  readonly legacyStatus: string;
}

export type PlacedBooking = Exclude<BookingState, { status: 'none' }>;

const noGateway: PaymentGateway = {
  createPayment: () => Promise.reject(new Error('the importer opens no payment at a gateway')),
  transactionStatus: () => Promise.reject(new Error('the importer asks no gateway')),
  refund: () => Promise.reject(new Error('the importer pays no refund')),
  checkNotification: () => null,
};

export class ImportRun {
  readonly store: CountingStore;
  readonly commands: ImportCommands;
  readonly writer: UnitConcertWriter;
  readonly payments: PaymentService;
  readonly tally = new Reconciliation();
  /** Old user id → boxoffice id, for the users taken. */
  readonly users = new Map<number, string>();
  readonly concerts = new Map<number, TakenConcert>();
  readonly seats = new Map<number, TakenSeat>();
  readonly #correlationId = `import-legacy-${randomUUID()}`;
  #done = 0;
  #total = 0;
  #phase: ImportProgress['phase'] = 'users';

  constructor(readonly deps: LegacyImportDeps) {
    this.store = deps.dryRun ? new DryRunStore(deps.store) : new CountingStore(deps.store);
    this.commands = new ImportCommands(this.store);
    this.writer = new UnitConcertWriter({
      queueLimit: 10_000,
      maxBatch: 500,
      snapshotEvery: 10_000,
      onBackgroundError: () => undefined,
    }, this.commands);
    this.payments = new PaymentService({ store: this.store, commands: this.commands, writer: this.writer, gateway: noGateway, now: () => new Date() });
  }

  /** Rows to take in all (users, concerts, bookings, payments): the progress's total. */
  set total(total: number) {
    this.#total = total;
  }

  /** Runs one row's import: taken, or refused with its reason. Anything else (the store down) stops the run. */
  async row(table: LegacyTable, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      this.tally.taken(table);
      return true;
    } catch (error) {
      if (error instanceof Refused) {
        this.tally.refused(table, error.reason);
        return false;
      }
      throw error;
    } finally {
      this.countRow();
    }
  }

  /** A row counted as done without running it (a soft-deleted payment refused on its booking's way). */
  countRow(): void {
    this.#done++;
    this.#progress();
  }

  children(table: LegacyTable, rows: readonly { deleted_at: string | null }[], refusedBecause: string | null): void {
    for (const row of rows) {
      if (row.deleted_at !== null) this.tally.refused(table, 'SOFT_DELETED');
      else if (refusedBecause !== null) this.tally.refused(table, refusedBecause);
      else this.tally.taken(table);
    }
  }

  phase(phase: ImportProgress['phase']): void {
    this.#phase = phase;
    this.#progress();
  }

  context(at: string, cause: string): CommandContext {
    return { correlationId: this.#correlationId, causationId: `legacy:${cause}`, actorId: null, occurredAt: at };
  }

  /** Appends the old ids' mapping once: a stream per row (or per class, for seats) with "no stream". */
  async legacyIds(kind: LegacyKind, key: number, ids: readonly { legacy_id: number; id: string; label?: string }[], at: string): Promise<void> {
    const event: DomainEventShape = { type: 'LegacyIdsImported', data: { kind, ids: [...ids], imported_at: at } };
    await this.commands.appendOnce(legacyStream(kind, key), [event], this.context(at, `${kind}:${key}`));
  }

  async booking(bookingId: string): Promise<PlacedBooking | null> {
    const { state } = await this.commands.load(bookingStream(bookingId), bookingDecider);
    return state.status === 'none' ? null : state;
  }

  #progress(): void {
    this.deps.onProgress?.({ done: this.#done, total: this.#total, phase: this.#phase });
  }
}
