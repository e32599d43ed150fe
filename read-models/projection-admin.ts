/**
 * The projections' status and rebuilds for a process that does not run them (a query-api of its
 * own): positions from the checkpoints, the head from the event store, and rebuilds left as
 * requests on the checkpoint rows for the projector process to take (it polls every second).
 */
import type { Knex } from 'knex';
import { Checkpoints, RebuildRequests } from './checkpoints.ts';
import { PROJECTION_NAMES, RebuildInProgress, UnknownProjection, type ProjectionAdmin, type ProjectionView } from './projection-status.ts';
import { sqlDialectOf } from '../lib/db/dialect.ts';

export class RequestedRebuilds implements ProjectionAdmin {
  readonly #checkpoints: Checkpoints;
  readonly #requests: RebuildRequests;

  constructor(db: Knex, private readonly headPosition: () => Promise<number>, private readonly now: () => Date) {
    this.#checkpoints = new Checkpoints(db, sqlDialectOf(db));
    this.#requests = new RebuildRequests(db);
  }

  async status(): Promise<ProjectionView[]> {
    const [head, rows, waiting] = await Promise.all([this.headPosition(), this.#checkpoints.all(), this.#requests.waiting()]);
    const byName = new Map(rows.map((row) => [row.name, row]));
    return PROJECTION_NAMES.map((name) => {
      const row = byName.get(name);
      const position = row?.position ?? 0;
      const status = row?.status ?? 'live';
      return {
        name,
        position,
        head_position: Math.max(head, position),
        lag: Math.max(0, head - position),
        status: waiting.has(name) || status === 'swapping' ? 'rebuilding' : status,
        rebuilt_at: row?.rebuiltAt ?? null,
        // The progress is the projector process's to tell (its /metrics, the CLI).
        rebuild: null,
      };
    });
  }

  async startRebuild(name: string): Promise<void> {
    if (!(PROJECTION_NAMES as readonly string[]).includes(name)) throw new UnknownProjection(`no projection named ${name}`);
    const outcome = await this.#requests.request(name, this.now().toISOString());
    if (outcome === 'rebuilding') throw new RebuildInProgress(`projection ${name} is already rebuilding`);
  }
}
