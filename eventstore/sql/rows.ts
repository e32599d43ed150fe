import type { EventToAppend } from '../port.ts';

/** The expected revision did not hold; thrown inside the transaction so it rolls back. */
export class RevisionMismatch extends Error {}

/** The driver's code of an error ('ER_DUP_ENTRY', 'SQLITE_BUSY', …), or ''. */
export const codeOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';

export interface EventRow {
  position: number | string;
  stream_id: string;
  revision: number | string;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number | string;
}

/** An event as es_events stores it, but for its position, which the append allocates. */
export function eventRow(stream: string, event: EventToAppend, revision: number, recordedAt: number): Omit<EventRow, 'position'> {
  return {
    stream_id: stream,
    revision,
    event_id: event.id.toLowerCase(),
    type: event.type,
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(event.metadata),
    recorded_at: recordedAt,
  };
}
