/**
 * The read models' migrations, in order. Kept in code (not discovered on disk) so the compiled
 * build and the TypeScript sources run the same list.
 */
import type { Knex } from 'knex';
import { readModels } from './001_read_models.ts';
import { rebuildRequests } from './002_rebuild_requests.ts';
import { refunds } from './003_refunds.ts';
import { tickets } from './004_tickets.ts';
import { concertEdits } from './005_concert_edits.ts';
import { adminSearch } from './006_admin_search.ts';
import { salesReport } from './007_sales_report.ts';
import { legacyIds } from './008_legacy_ids.ts';
import { waitingRoom } from './009_waiting_room.ts';
import { redundantIndexes } from './010_redundant_indexes.ts';

export const readModelMigrations: Readonly<Record<string, Knex.Migration>> = {
  '001_read_models': readModels,
  '002_rebuild_requests': rebuildRequests,
  '003_refunds': refunds,
  '004_tickets': tickets,
  '005_concert_edits': concertEdits,
  '006_admin_search': adminSearch,
  '007_sales_report': salesReport,
  '008_legacy_ids': legacyIds,
  '009_waiting_room': waitingRoom,
  '010_redundant_indexes': redundantIndexes,
};

export const READ_MODEL_MIGRATIONS_TABLE = 'read_model_migrations';
