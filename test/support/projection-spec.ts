/** A read-model row as a spec inspects it. */
export type Row = Record<string, unknown>;

/**
 * Given events → rows: feeds a projection pages of events through the real runner (its
 * transaction and checkpoint) on a fresh read-model database, as the store would deliver them.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Test } from 'tap';
import { upcasters, type DomainEvent } from '../../domain/index.ts';
import type { AllPage, RecordedEvent } from '../../eventstore/port.ts';
import { Checkpoints } from '../../read-models/checkpoints.ts';
import { LocalInfile } from '../../projectors/bulk.ts';
import type { Projection } from '../../projectors/projection.ts';
import { applyPage, type PageOutcome } from '../../projectors/runner.ts';
import { openReadModels } from '../../read-models/database.ts';
import { sqlDialectOf } from '../../lib/db/dialect.ts';
import { databaseFor } from './projections.ts';

export interface GivenEvent {
  readonly event: DomainEvent;
  readonly stream?: string;
  readonly at?: string;
  readonly actor?: string | null;
}

export interface ProjectionFixture {
  readonly db: Knex;
  readonly checkpoints: Checkpoints;
  /** Applies the events as the next page; answers what the runner answered. */
  readonly given: (events: readonly (DomainEvent | GivenEvent)[]) => Promise<PageOutcome>;
  /** Delivers the last page once more, as a restarted subscription might. */
  readonly redeliver: () => Promise<PageOutcome>;
  readonly position: number;
}

function isGiven(value: DomainEvent | GivenEvent): value is GivenEvent {
  return 'event' in value;
}

export async function projectionFixture(t: Test, projection: Projection, kind: 'mysql' | 'sqlite' = 'mysql'): Promise<ProjectionFixture> {
  const { options } = await databaseFor(t, kind);
  const db = await openReadModels(options);
  t.teardown(() => db.destroy());
  const checkpoints = new Checkpoints(db, sqlDialectOf(db));
  await checkpoints.ensure(projection.name);
  const target = { db, checkpoints, projection, checkpoint: projection.name, table: (name: string) => name, localInfile: new LocalInfile() };
  const deliver = async (from: number, page: AllPage): Promise<PageOutcome> => {
    const { outcome, afterCommit } = await applyPage(target, from, page);
    await afterCommit?.();
    return outcome;
  };
  let position = 0;
  let last: { from: number; page: AllPage } | undefined;
  return {
    db,
    checkpoints,
    get position() {
      return position;
    },
    given: async (events) => {
      const from = position;
      const recorded: RecordedEvent[] = events.map((item) => {
        const { event, stream, at, actor } = isGiven(item) ? item : { event: item, stream: undefined, at: undefined, actor: undefined };
        const id = randomUUID();
        const occurredAt = at ?? '2026-12-01T10:00:00.000Z';
        return {
          id,
          stream: stream ?? 'fixture',
          revision: 0,
          position: ++position,
          type: event.type,
          data: event.data,
          metadata: {
            event_id: id, correlation_id: id, causation_id: id, actor_id: actor ?? null,
            schema_version: upcasters.currentVersion(event.type), occurred_at: occurredAt,
          },
          recordedAt: occurredAt,
        };
      });
      const page: AllPage = { events: recorded.filter((event) => (projection.eventTypes as readonly string[]).includes(event.type)), position };
      last = { from, page };
      return deliver(from, page);
    },
    redeliver: async () => {
      if (last === undefined) throw new Error('nothing delivered yet');
      return deliver(last.from, last.page);
    },
  };
}
