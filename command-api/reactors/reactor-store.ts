/**
 * What the reactors keep outside the event store: how far each has read ($all checkpoints), the
 * events each has parked (could not handle after its tries, with the reason), and the due-time
 * index of unpaid holds, and which concert each ticket belongs to (a transfer names the ticket
 * only). MySQL/MariaDB, or a SQLite file in the data dir.
 */
import type { Knex } from 'knex';
import { chunks, SQLITE_MAX_INSERT_ROWS } from '../../lib/db/chunks.ts';
import { openDatabase, type DatabaseOptions } from '../../lib/db/database.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';

export type ReactorStoreOptions = DatabaseOptions;

const migrations: Record<string, Knex.Migration> = {
  '001_reactors': {
    async up(db) {
      await db.schema.createTable('reactor_checkpoints', (table) => {
        table.string('name', 100).notNullable().primary();
        table.bigInteger('position').unsigned().notNullable();
      });
      await db.schema.createTable('hold_deadlines', (table) => {
        table.string('booking_id', 64).notNullable().primary();
        table.string('concert_id', 64).notNullable();
        table.bigInteger('expires_at').notNullable().index('hold_deadlines_expires_at');
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('hold_deadlines');
      await db.schema.dropTableIfExists('reactor_checkpoints');
    },
  },
  '002_parked_events': {
    async up(db) {
      await db.schema.createTable('reactor_parked_events', (table) => {
        table.string('reactor', 100).notNullable();
        table.string('event_id', 64).notNullable();
        table.bigInteger('position').unsigned().notNullable();
        table.string('stream', 200).notNullable();
        table.string('type', 100).notNullable();
        table.string('reason', 500).notNullable();
        table.bigInteger('first_failed_at').notNullable();
        table.bigInteger('last_failed_at').notNullable();
        table.integer('tries').unsigned().notNullable();
        table.primary(['reactor', 'event_id']);
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('reactor_parked_events');
    },
  },
  '003_ticket_concerts': {
    async up(db) {
      await db.schema.createTable('ticket_concerts', (table) => {
        table.string('ticket_id', 64).notNullable().primary();
        table.string('concert_id', 64).notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('ticket_concerts');
    },
  },
  '004_hold_deadlines_by_time_and_concert': {
    // A round that leaves out the concerts whose queue was full (due(…, { except })) skips their
    // due rows: with the concert in the index it reads them there, not each row. 200,000 due holds
    // of one concert, 500 of another: 265–442 ms a round before, 61 ms after (MariaDB, 2026-12-07).
    async up(db) {
      await db.schema.alterTable('hold_deadlines', (table) => {
        table.dropIndex(['expires_at'], 'hold_deadlines_expires_at');
        table.index(['expires_at', 'concert_id'], 'hold_deadlines_expires_at_concert');
      });
    },
    async down(db) {
      await db.schema.alterTable('hold_deadlines', (table) => {
        table.dropIndex(['expires_at', 'concert_id'], 'hold_deadlines_expires_at_concert');
        table.index(['expires_at'], 'hold_deadlines_expires_at');
      });
    },
  },
};

/** An event a reactor could not handle after its tries: kept aside with the reason, retried on request. */
export interface ParkedEvent {
  readonly reactor: string;
  readonly eventId: string;
  readonly position: number;
  readonly stream: string;
  readonly type: string;
  /** The last error's name and message, trimmed (an error message names no personal data). */
  readonly reason: string;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  readonly tries: number;
}

interface ParkedRow {
  reactor: string;
  event_id: string;
  position: number | string;
  stream: string;
  type: string;
  reason: string;
  first_failed_at: number | string;
  last_failed_at: number | string;
  tries: number | string;
}

export interface Deadline {
  readonly bookingId: string;
  readonly concertId: string;
  readonly expiresAt: number;
}

export class ReactorStore {
  private constructor(private readonly db: Knex) {}

  static async open(options: ReactorStoreOptions): Promise<ReactorStore> {
    return new ReactorStore(await openDatabase(options, { migrationsTable: 'reactor_migrations', migrations }));
  }

  async checkpoint(name: string): Promise<number> {
    const row = await this.db('reactor_checkpoints').where({ name }).first<{ position: number | string } | undefined>('position');
    return Number(row?.position ?? 0);
  }

  /** Every reactor's checkpoint, by name. */
  async checkpoints(): Promise<Map<string, number>> {
    const rows = await this.db('reactor_checkpoints').select<{ name: string; position: number | string }[]>('name', 'position');
    return new Map(rows.map((row) => [row.name, Number(row.position)]));
  }

  /**
   * Moves a checkpoint forward, never back: two instances may run the same reactor. One upsert
   * statement: an update-then-insert transaction deadlocked on MySQL's gap locks when two of them
   * wrote the first checkpoint at once (the load test's server logged it).
   */
  async advance(name: string, position: number): Promise<void> {
    const larger = sqlDialectOf(this.db) === 'sqlite' ? 'MAX(position, excluded.position)' : 'GREATEST(position, VALUES(position))';
    await this.db('reactor_checkpoints').insert({ name, position }).onConflict('name').merge({ position: this.db.raw(larger) });
  }

  /**
   * Parks an event (or, parked already, counts its new tries and keeps the newest reason). Two
   * instances running the same reactor may park the same event: one row.
   */
  async park(reactor: string, event: { id: string; position: number; stream: string; type: string }, reason: string, tries: number, atMs: number): Promise<void> {
    await this.db('reactor_parked_events')
      .insert({
        reactor, event_id: event.id, position: event.position, stream: event.stream.slice(0, 200), type: event.type.slice(0, 100),
        reason: reason.slice(0, 500), first_failed_at: atMs, last_failed_at: atMs, tries,
      })
      .onConflict(['reactor', 'event_id'])
      .merge({ reason: reason.slice(0, 500), last_failed_at: atMs, tries: this.db.raw('?? + ?', ['reactor_parked_events.tries', tries]) });
  }

  /** The events parked by one reactor, or by all, oldest position first (the first `limit`). */
  async parked(reactor?: string, limit = 1_000): Promise<ParkedEvent[]> {
    if (limit <= 0) return [];
    const rows = await this.db('reactor_parked_events')
      .modify((query) => { if (reactor !== undefined) void query.where({ reactor }); })
      .orderBy([{ column: 'reactor' }, { column: 'position' }])
      .limit(limit)
      .select<ParkedRow[]>();
    return rows.map((row) => ({
      reactor: row.reactor,
      eventId: row.event_id,
      position: Number(row.position),
      stream: row.stream,
      type: row.type,
      reason: row.reason,
      firstFailedAt: new Date(Number(row.first_failed_at)).toISOString(),
      lastFailedAt: new Date(Number(row.last_failed_at)).toISOString(),
      tries: Number(row.tries),
    }));
  }

  /** How many events the reactor has parked. */
  async parkedCount(reactor: string): Promise<number> {
    const row = await this.db('reactor_parked_events').where({ reactor }).count<{ count: number | string }[]>({ count: '*' }).first();
    return Number(row?.count ?? 0);
  }

  /** Removes a parked event once its reactor handled it; false when it was not parked. */
  async unpark(reactor: string, eventId: string): Promise<boolean> {
    return (await this.db('reactor_parked_events').where({ reactor, event_id: eventId }).delete()) > 0;
  }

  async addDeadlines(deadlines: readonly Deadline[]): Promise<void> {
    for (const part of chunks(deadlines, SQLITE_MAX_INSERT_ROWS)) {
      await this.db('hold_deadlines')
        .insert(part.map((d) => ({ booking_id: d.bookingId, concert_id: d.concertId, expires_at: d.expiresAt })))
        .onConflict('booking_id').ignore();
    }
  }

  async removeDeadlines(bookingIds: readonly string[]): Promise<void> {
    if (bookingIds.length > 0) await this.db('hold_deadlines').whereIn('booking_id', bookingIds).delete();
  }

  /** Holds whose time is up, oldest first: none of the concerts in `except`, or only those in `only`. */
  async due(nowMs: number, limit: number, concerts: { readonly except?: readonly string[]; readonly only?: readonly string[] } = {}): Promise<Deadline[]> {
    const { except = [], only } = concerts;
    if (only?.length === 0) return [];
    const upTo = this.db('hold_deadlines').where('expires_at', '<=', nowMs);
    const some = only === undefined ? upTo : upTo.whereIn('concert_id', only);
    const rows = await (except.length > 0 ? some.whereNotIn('concert_id', except) : some).orderBy('expires_at').limit(limit)
      .select<{ booking_id: string; concert_id: string; expires_at: number | string }[]>('booking_id', 'concert_id', 'expires_at');
    return rows.map((row) => ({ bookingId: row.booking_id, concertId: row.concert_id, expiresAt: Number(row.expires_at) }));
  }

  /** Remembers the concert of sold tickets; reading a page again after a crash does no harm. */
  async addTickets(tickets: readonly { readonly ticketId: string; readonly concertId: string }[]): Promise<void> {
    for (const part of chunks(tickets, SQLITE_MAX_INSERT_ROWS)) {
      await this.db('ticket_concerts').insert(part.map((ticket) => ({ ticket_id: ticket.ticketId, concert_id: ticket.concertId })))
        .onConflict('ticket_id').ignore();
    }
  }

  /** The concert of a sold ticket, or null when no sale of it has been seen. */
  async concertOfTicket(ticketId: string): Promise<string | null> {
    const row = await this.db('ticket_concerts').where({ ticket_id: ticketId }).first<{ concert_id: string } | undefined>('concert_id');
    return row?.concert_id ?? null;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
