/**
 * The waiting rooms' batching writer: each concert's `queue-…` stream decided and appended in
 * batches (lanes/batching-writer.ts), so thousands of joins in the on-sale minute become a few
 * appends. The state is folded from the whole stream once (a queue lives for one sale); after a
 * lost race only the winner's events are folded on.
 */
import type { Owned } from '../../domain/index.ts';
import { queueDecider, queueStream, undoQueueEvents, type QueueCommand, type QueueEvent, type QueueState } from '../../domain/queue/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { BatchingWriter, type BatchingWriterOptions, type Written } from '../lanes/batching-writer.ts';

export type QueueWritten = Written<QueueEvent>;

export class QueueWriter extends BatchingWriter<QueueCommand, QueueEvent, QueueState> {
  constructor(store: EventStore, options: BatchingWriterOptions) {
    super(store, queueDecider, queueStream, options);
  }

  /** A join that lost a race to another instance is taken back and the winner's events folded on: no whole-stream reload in the rush. */
  protected override undo(state: Owned<QueueState>, events: readonly QueueEvent[]): boolean {
    return undoQueueEvents(state, events);
  }

  /** A concert without a waiting room keeps no memory. */
  protected override isAbsent(state: QueueState): boolean {
    return state.concertId === null;
  }
}
