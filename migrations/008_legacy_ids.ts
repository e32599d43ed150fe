/**
 * The older system's integer ids (projectors/legacy-ids): one number per user, concert, ticket
 * class and payment; a range of numbers per ticket class for its seats (seat n of the class is
 * base + n - 1), and a number of its own for each seat the importer brought over. The highest
 * number given per kind (natives are numbered above it), an imported seat's old label, and the
 * imported numbers refused because another object had them first.
 */
import type { Knex } from 'knex';

const ID = 36;
const INSTANT = 24;

export const legacyIds: Knex.Migration = {
  async up(db) {
    await db.schema.createTable('legacy_ids', (table) => {
      /** user, concert, ticket_class, seat or payment. */
      table.string('kind', 16).notNullable();
      table.string('id', ID).notNullable();
      table.bigInteger('legacy_id').unsigned().notNullable();
      /** `native` (numbered here) or `imported` (LegacyIdsImported). */
      table.string('origin', 8).notNullable();
      /** An imported seat's old label (its `seat_number` there, such as "VIP-12"); null for the rest. */
      table.string('label', 64).nullable();
      table.primary(['kind', 'id']);
      table.unique(['kind', 'legacy_id'], { indexName: 'legacy_ids_number_unique' });
    });

    await db.schema.createTable('legacy_seat_ranges', (table) => {
      table.string('ticket_class_id', ID).notNullable().primary();
      table.string('concert_id', ID).notNullable();
      /** The number of seat 1 of the class. */
      table.bigInteger('base').unsigned().notNullable();
      table.integer('seat_count').unsigned().notNullable();
      table.index(['base'], 'legacy_seat_ranges_base_index');
    });

    await db.schema.createTable('legacy_id_high', (table) => {
      table.string('kind', 16).notNullable().primary();
      /** The highest number given to this kind so far. */
      table.bigInteger('high').unsigned().notNullable();
    });

    await db.schema.createTable('legacy_id_refusals', (table) => {
      /** The position of the LegacyIdsImported event. */
      table.bigInteger('position').unsigned().notNullable();
      table.string('kind', 16).notNullable();
      table.bigInteger('legacy_id').unsigned().notNullable();
      table.string('id', ID).notNullable();
      /** number_taken (another object holds it) or already_numbered (this object has another imported number). */
      table.string('reason', 32).notNullable();
      /** Who holds the number, or the object's number. */
      table.string('holder', ID).nullable();
      table.string('refused_at', INSTANT).notNullable();
      table.primary(['position', 'kind', 'legacy_id', 'id']);
    });
  },

  async down(db) {
    for (const table of ['legacy_id_refusals', 'legacy_id_high', 'legacy_seat_ranges', 'legacy_ids']) await db.schema.dropTableIfExists(table);
  },
};
