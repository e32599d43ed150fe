/**
 * The door's read model: one row per ticket (a sold seat), the holds not yet paid for (what a
 * sale turns into tickets), and the admissions counted per class and gate (the door's summary,
 * read by the admin route and at every /metrics scrape, so it stays small).
 */
import type { Knex } from 'knex';

const ID = 36;
const INSTANT = 24;

export const tickets: Knex.Migration = {
  async up(db) {
    await db.schema.createTable('tickets', (table) => {
      /** The seat's id: a ticket is the right to one sold seat. */
      table.string('id', ID).notNullable().primary();
      table.string('booking_id', ID).notNullable().index('tickets_booking_id_index');
      table.string('concert_id', ID).notNullable();
      /** The buyer: who may read the ticket, and whose forgetting clears its holder. */
      table.string('user_id', ID).notNullable().index('tickets_user_id_index');
      table.string('ticket_class_id', ID).notNullable();
      table.integer('seat_number').unsigned().notNullable();
      /** The seat's place in its booking (seat order). */
      table.integer('seq').unsigned().notNullable();
      /** 1 at the sale, one more per transfer. */
      table.integer('revision').unsigned().notNullable();
      /** Name and KTP of the current holder, sealed with the buyer's key; null once forgotten. */
      table.text('holder').nullable();
      /** valid, admitted or void. */
      table.string('status', 16).notNullable();
      table.string('admitted_at', INSTANT).nullable();
      table.string('gate', 64).nullable();
      table.bigInteger('position').unsigned().notNullable();
      // The door's per-class counts read this index alone.
      table.index(['concert_id', 'status', 'ticket_class_id'], 'tickets_concert_status_index');
    });

    await db.schema.createTable('ticket_holds', (table) => {
      table.string('booking_id', ID).notNullable().primary();
      table.string('concert_id', ID).notNullable().index('ticket_holds_concert_id_index');
      table.string('user_id', ID).notNullable().index('ticket_holds_user_id_index');
      /** JSON: the held seats in seat order, each with seat_id, ticket_class_id and seat_number. */
      table.text('seats').notNullable();
      /** JSON: the sealed holders in seat order (sealed text each); null when the hold carried none, or once forgotten. */
      table.text('holders').nullable();
    });

    await db.schema.createTable('ticket_admissions', (table) => {
      table.string('concert_id', ID).notNullable();
      table.string('ticket_class_id', ID).notNullable();
      table.string('gate', 64).notNullable();
      table.integer('admitted').unsigned().notNullable();
      table.primary(['concert_id', 'ticket_class_id', 'gate']);
    });
  },

  async down(db) {
    for (const table of ['ticket_admissions', 'ticket_holds', 'tickets']) await db.schema.dropTableIfExists(table);
  },
};
