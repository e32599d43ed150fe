/**
 * The read models the query API serves, with the older system's tables and index strategy.
 * Times are ISO-8601 UTC strings (they sort as instants and mean the same on MySQL and SQLite);
 * money is an integer number of rupiah; personal columns hold sealed envelopes (ciphertext),
 * cleared when the user is forgotten. No foreign keys: a projection rebuilds its tables as a set
 * and swaps them in, so the read model never depends on another projection's rows existing.
 */
import type { Knex } from 'knex';

const ID = 36;
const INSTANT = 24;

export const readModels: Knex.Migration = {
  async up(db) {
    await db.schema.createTable('projection_checkpoints', (table) => {
      table.string('name', 64).notNullable().primary();
      /** The last $all position applied (also of events the projection ignores). */
      table.bigInteger('position').unsigned().notNullable().defaultTo(0);
      table.string('status', 16).notNullable().defaultTo('live');
      /** Increases at each swap: names the Redis key set of the tables in use. */
      table.integer('generation').unsigned().notNullable().defaultTo(1);
      table.string('rebuilt_at', INSTANT).nullable();
      /** While a rebuild swaps: the position its shadow tables had reached (crash recovery). */
      table.bigInteger('swap_position').unsigned().nullable();
      /** While rebuilding: when the rebuilder last showed it is alive (epoch ms). */
      table.bigInteger('heartbeat_at').nullable();
      table.text('last_error').nullable();
    });

    await db.schema.createTable('users', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('username', 50).notNullable().unique('users_username_unique');
      /** sha256 of the normalized address; null once forgotten. */
      table.string('email_hash', 64).nullable().unique('users_email_hash_unique');
      /** The sealed address (ciphertext); null once forgotten. */
      table.text('email').nullable();
      table.string('role', 16).notNullable();
      table.boolean('email_verified').notNullable().defaultTo(false);
      table.string('created_at', INSTANT).notNullable();
      table.string('last_login', INSTANT).nullable();
      table.bigInteger('position').unsigned().notNullable();
    });

    await db.schema.createTable('concerts', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('name', 200).notNullable().index('concerts_name_index');
      table.string('artist', 200).notNullable().index('concerts_artist_index');
      table.string('date', INSTANT).notNullable().index('concerts_date_index');
      table.string('venue', 200).notNullable();
      table.text('description').nullable();
      table.text('image_url').nullable();
      table.string('status', 16).notNullable().index('concerts_status_index');
      table.integer('max_tickets_per_ktp').nullable();
      table.integer('total_seats').unsigned().notNullable();
      table.integer('available_seats').unsigned().notNullable();
      table.string('created_at', INSTANT).notNullable();
      /** Position of the last event that changed this concert or its seats (ETag, cache guard). */
      table.bigInteger('position').unsigned().notNullable();
    });

    await db.schema.createTable('ticket_classes', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('concert_id', ID).notNullable();
      table.string('name', 200).notNullable();
      table.bigInteger('price').unsigned().notNullable();
      table.integer('total_seats_in_class').unsigned().notNullable();
      table.integer('available_seats_in_class').unsigned().notNullable();
      /** Order of the class in the concert as scheduled. */
      table.integer('sort_order').unsigned().notNullable();
      table.index(['concert_id', 'name'], 'ticket_classes_concert_id_name_index');
    });

    await db.schema.createTable('seats', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('concert_id', ID).notNullable();
      table.string('ticket_class_id', ID).notNullable();
      table.integer('seat_number').unsigned().notNullable();
      /** available, reserved (held by a pending booking) or booked (sold). */
      table.string('status', 16).notNullable().index('seats_status_index');
      table.string('booking_id', ID).nullable().index('seats_booking_id_index');
      table.unique(['concert_id', 'ticket_class_id', 'seat_number'], { indexName: 'seats_concert_class_number_unique' });
    });

    await db.schema.createTable('bookings', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('user_id', ID).notNullable().index('bookings_user_id_index');
      table.string('concert_id', ID).notNullable().index('bookings_concert_id_index');
      table.string('status', 16).notNullable().index('bookings_status_index');
      table.bigInteger('total_price').unsigned().notNullable();
      table.string('expires_at', INSTANT).notNullable().index('bookings_expires_at_index');
      table.string('created_at', INSTANT).notNullable();
      table.string('updated_at', INSTANT).notNullable();
      table.string('payment_id', ID).nullable();
      table.string('transaction_id', ID).nullable();
      table.bigInteger('position').unsigned().notNullable();
      // "My bookings, newest first" walks this index with a keyset cursor.
      table.index(['user_id', 'created_at', 'id'], 'bookings_user_created_index');
    });

    await db.schema.createTable('booking_seats', (table) => {
      table.string('booking_id', ID).notNullable();
      table.string('seat_id', ID).notNullable();
      table.string('ticket_class_id', ID).notNullable();
      table.integer('seat_number').unsigned().notNullable();
      table.bigInteger('price').unsigned().notNullable();
      table.integer('seq').unsigned().notNullable();
      table.primary(['booking_id', 'seat_id']);
    });

    await db.schema.createTable('buyers', (table) => {
      table.string('booking_id', ID).notNullable().primary();
      table.string('user_id', ID).notNullable().index('buyers_user_id_index');
      /** Name, phone, email and KTP sealed with the buyer's key; null once forgotten. */
      table.text('personal_data').nullable();
    });

    await db.schema.createTable('ticket_holders', (table) => {
      table.string('booking_id', ID).notNullable();
      table.integer('seq').unsigned().notNullable();
      table.string('seat_id', ID).notNullable();
      /** Name and KTP sealed with the buyer's key; null once forgotten. */
      table.text('personal_data').nullable();
      table.primary(['booking_id', 'seq']);
    });

    await db.schema.createTable('payments', (table) => {
      table.string('id', ID).notNullable().primary();
      table.string('booking_id', ID).notNullable().index('payments_booking_id_index');
      table.string('user_id', ID).notNullable();
      table.string('transaction_id', ID).notNullable().unique('payments_transaction_id_unique');
      table.bigInteger('amount').unsigned().notNullable();
      table.string('payment_method', 32).notNullable();
      /** pending, succeeded, failed or refund_due. */
      table.string('status', 16).notNullable();
      table.text('checkout_url').notNullable();
      table.string('created_at', INSTANT).notNullable();
      table.string('updated_at', INSTANT).notNullable();
      table.bigInteger('position').unsigned().notNullable();
    });
  },

  async down(db) {
    for (const table of ['payments', 'ticket_holders', 'buyers', 'booking_seats', 'bookings', 'seats', 'ticket_classes', 'concerts', 'users', 'projection_checkpoints']) {
      await db.schema.dropTableIfExists(table);
    }
  },
};
