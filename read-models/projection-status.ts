/** What the projector role tells about its projections (the admin route, the CLI, metrics). */

/** The read models the projector keeps, by projection name. */
export const PROJECTION_NAMES = ['users', 'concerts', 'bookings', 'payments', 'tickets', 'legacy-ids', 'queue'] as const;

/**
 * The projections with no tables (the queue's board in Redis): nothing to swap blue/green, so a
 * rebuild replays every event into them — their checkpoint goes back to 0 and their writes,
 * idempotent by position, refill what is missing (a Redis that lost its data).
 */
export const REPLAYED: readonly string[] = ['queue'];

export interface RebuildProgress {
  readonly projection: string;
  readonly phase: 'copying' | 'swapping' | 'done' | 'failed';
  /** Positions covered so far (every event counts, also those the projection ignores). */
  readonly done: number;
  readonly total: number;
  readonly eventsPerSecond: number;
  readonly etaSeconds: number | null;
  readonly startedAt: string;
  readonly error?: string;
}

export interface ProjectionView {
  readonly name: string;
  readonly position: number;
  readonly head_position: number;
  readonly lag: number;
  readonly status: 'live' | 'rebuilding' | 'failed';
  readonly rebuilt_at: string | null;
  /** While rebuilding (or after the last rebuild this process ran): how far it got. */
  readonly rebuild: RebuildProgress | null;
}

/** No projection of that name: the admin route's 404. */
export class UnknownProjection extends Error {
  override readonly name = 'UnknownProjection';
}

/** The projection is rebuilding already (or a rebuild of it waits): the admin route's 409. */
export class RebuildInProgress extends Error {
  override readonly name = 'RebuildInProgress';
}

/** What the admin routes need of the projector role. */
export interface ProjectionAdmin {
  status(): Promise<ProjectionView[]>;
  /** Starts a rebuild; rejects with UnknownProjection or RebuildInProgress. */
  startRebuild(name: string): Promise<void>;
}
