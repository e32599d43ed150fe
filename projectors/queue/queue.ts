/**
 * The waiting room's status board (read-models/queue-board.ts): no tables, a board in Redis (or
 * memory). Each concert's queue is folded in memory with the domain's own `evolve`, and a batch
 * writes only what its events changed: a join one place, a lottery every place's index, an
 * admission the admitted places and the concert's count, a pass used or expired its place, a
 * sold-out the concert. The writes run inside the batch's transaction, before the checkpoint
 * moves: a batch whose board write failed is not checkpointed, and comes again.
 *
 * After a restart, a concert met for the first time is folded from its stream's start up to the
 * batch (everything before it is below the checkpoint). Events the fold already holds (a batch
 * that rolled back after its fold, and came again) are not folded twice, but what they touch is
 * still written: the board's position guard makes every write idempotent.
 */
import { decode } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { evolve, initialState, queueEvents, queueStream, type Place, type QueueEvent, type QueueState } from '../../domain/queue/index.ts';
import type { Owned } from '../../domain/shared/decider.ts';
import type { BoardConcert, BoardPlace, QueueBoard } from '../../read-models/queue-board.ts';
import { ofTypes, type ApplyContext, type BatchWrites, type ProjectedEvent, type Projection } from '../projection.ts';

const EVENT_TYPES = ['WaitingRoomOpened', 'QueueJoined', 'LotteryDrawn', 'VisitorsAdmitted', 'PassUsed', 'PassExpired', 'QueueSoldOut'] as const;

/** How far back admissions count towards the rate an estimated wait divides by (event time). */
const RATE_WINDOW_MS = 60_000;

interface FoldedQueue {
  state: Owned<QueueState>;
  /** The position of the last event folded in. */
  position: number;
  /** Recent admissions: when (event time, ms) and the admitted count after each. */
  readonly admissions: { readonly at: number; readonly admitted: number }[];
}

interface Touched {
  readonly places: Set<string>;
  concert: boolean;
}

export interface QueueProjectionOptions {
  readonly board: QueueBoard;
  /** Where a concert met after a restart is folded from. */
  readonly store: EventStore;
}

export function queueProjection({ board, store }: QueueProjectionOptions): Projection {
  const queues = new Map<string, FoldedQueue>();
  /** The end of the last page this runner applied: a page from elsewhere means other runners applied some in between. */
  let through: number | undefined;

  function fold(queue: FoldedQueue, event: QueueEvent, position: number): void {
    queue.state = evolve(queue.state, event);
    queue.position = position;
    if (event.type === 'VisitorsAdmitted') {
      const at = Date.parse(event.data.admitted_at);
      queue.admissions.push({ at, admitted: queue.state.admitted });
      while (queue.admissions.length > 2 && at - queue.admissions[0]!.at > RATE_WINDOW_MS) queue.admissions.shift();
    }
  }

  /** The concert's queue as folded up to just before `before` (from its stream after a restart). */
  async function folded(concertId: string, before: number): Promise<FoldedQueue> {
    let queue = queues.get(concertId);
    if (queue !== undefined) return queue;
    queue = { state: initialState(), position: 0, admissions: [] };
    for (const recorded of await store.readStream(queueStream(concertId))) {
      if (recorded.position >= before) break;
      fold(queue, decode(recorded, queueEvents), recorded.position);
    }
    queues.set(concertId, queue);
    return queue;
  }

  return {
    name: 'queue',
    tables: [],
    eventTypes: [...EVENT_TYPES],

    async apply(batch: readonly ProjectedEvent[], context: ApplyContext): Promise<BatchWrites> {
      // Pages this runner did not apply (another runner of the projection did) are not in its
      // folds: every queue is folded again from its stream when next met.
      if (through !== undefined && context.from !== through) queues.clear();
      through = context.position;
      const events = ofTypes(batch, EVENT_TYPES);
      const touched = new Map<string, Touched>();
      for (const event of events) {
        const concertId = event.data.concert_id;
        const queue = await folded(concertId, event.position);
        if (event.position > queue.position) fold(queue, event, event.position);
        let marks = touched.get(concertId);
        if (marks === undefined) touched.set(concertId, marks = { places: new Set(), concert: false });
        switch (event.type) {
          case 'WaitingRoomOpened':
          case 'QueueSoldOut':
            marks.concert = true;
            break;
          case 'QueueJoined':
          case 'PassUsed':
          case 'PassExpired':
            marks.places.add(event.data.place_id);
            break;
          case 'LotteryDrawn':
            for (const placeId of queue.state.order) marks.places.add(placeId);
            break;
          case 'VisitorsAdmitted':
            for (const admission of event.data.admissions) marks.places.add(admission.place_id);
            marks.concert = true;
            break;
        }
      }
      if (touched.size === 0) return { writes: [] };
      const places: BoardPlace[] = [];
      const concerts: BoardConcert[] = [];
      for (const [concertId, marks] of touched) {
        const queue = queues.get(concertId)!;
        for (const placeId of marks.places) {
          const place = queue.state.places.get(placeId);
          if (place !== undefined) places.push(boardPlace(concertId, place));
        }
        if (marks.concert) concerts.push(boardConcert(concertId, queue));
      }
      // Before the checkpoint commits: a failed write rolls the batch back, and it comes again.
      return { writes: [async () => board.write({ position: context.position, places, concerts })] };
    },
  };
}

function boardPlace(concertId: string, place: Place): BoardPlace {
  return {
    placeId: place.placeId,
    concertId,
    userId: place.userId,
    index: place.index,
    pass: place.pass === null ? null : { passId: place.pass.passId, expiresAtMs: place.pass.expiresAtMs, expiresAt: place.pass.expiresAt },
    spent: place.spent === null ? '' : place.spent.as,
  };
}

function boardConcert(concertId: string, queue: FoldedQueue): BoardConcert {
  const { state, admissions } = queue;
  const first = admissions[0];
  const last = admissions.at(-1);
  const seconds = first === undefined || last === undefined ? 0 : (last.at - first.at) / 1000;
  const rate = seconds > 0 ? (last!.admitted - first!.admitted) / seconds : 0;
  return {
    concertId,
    admitted: state.admitted,
    soldOut: state.soldOutAt !== null,
    opensAtMs: state.opensAt === null ? Number.NaN : state.opensAtMs,
    admissionRate: Math.round(rate * 1000) / 1000,
  };
}
