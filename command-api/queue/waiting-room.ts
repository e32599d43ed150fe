/**
 * Joining a concert's waiting room: one place per account, its id the visitor's token. The flag
 * is the concert's (details.waiting_room); the queue (domain/queue) decides the rest. Opening the
 * queue is a second write after the concert's own (ConcertService), so a join heals a room whose
 * opening failed: flag on, queue not opened, it opens it first.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type CommandContext } from '../../domain/index.ts';
import { placeOfUser, placeView, type JoinQueue, type PlaceStatus } from '../../domain/queue/index.ts';
import { isRefusal } from '../../lib/errors.ts';
import type { Principal } from '../../lib/http/auth.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { QueueWriter } from './queue-writer.ts';

export interface WaitingRoomDeps {
  readonly writer: ConcertWriter;
  readonly queues: QueueWriter;
  /** EMAIL_NOT_VERIFIED when verification is required and the account has not verified (as booking asks). */
  readonly requireVerified: (principal: Principal) => Promise<void>;
  readonly now: () => Date;
}

export interface PlaceAnswer {
  /** The place id: the token of GET /api/v1/queue/:token. */
  readonly token: string;
  readonly status: PlaceStatus;
  /** 1-based place in lottery-then-arrival order; null until the lottery has run. */
  readonly position: number | null;
}

export class WaitingRoomService {
  constructor(private readonly deps: WaitingRoomDeps) {}

  /** `joined`: a new place (201); else the account's place as it is now (200). */
  async join(principal: Principal, concertId: string, requestContext: RequestContext): Promise<{ joined: boolean; place: PlaceAnswer }> {
    await this.deps.requireVerified(principal);
    const id = concertId.toLowerCase();
    const concert = await this.deps.writer.read(id, (state) => (state.details === null || state.status === 'unscheduled'
      ? undefined
      : { waitingRoom: state.details.waiting_room, salesOpenAt: state.details.sales_open_at }));
    if (concert === undefined) throw new DomainError('CONCERT_NOT_FOUND', 'no such concert');
    if (!concert.waitingRoom) throw new DomainError('NO_WAITING_ROOM', 'this concert has no waiting room');
    const now = this.deps.now().toISOString();
    const context: CommandContext = { ...requestContext, actorId: principal.userId, occurredAt: now };
    const join: JoinQueue = { type: 'JoinQueue', user_id: principal.userId, place_id: randomUUID(), now };
    let written;
    try {
      written = await this.deps.queues.submit(id, join, context);
    } catch (error) {
      if (!isRefusal(error, 'NO_WAITING_ROOM')) throw error;
      // The concert's room is on but its queue was never opened (that write failed): open it now.
      await this.deps.queues.submit(id, { type: 'OpenWaitingRoom', concert_id: id, opens_at: concert.salesOpenAt ?? now, now }, context);
      written = await this.deps.queues.submit(id, join, context);
    }
    const view = await this.deps.queues.read(id, (state) => {
      const place = placeOfUser(state, principal.userId);
      return place === undefined ? undefined : placeView(state, place.placeId, now);
    });
    if (view === undefined) throw new Error('an account that joined has no place');
    return { joined: written.events.length > 0, place: { token: view.place_id, status: view.status, position: view.position } };
  }
}
