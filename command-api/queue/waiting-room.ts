/**
 * Joining a concert's waiting room: one place per account, its id the visitor's token. The flag
 * is the concert's (details.waiting_room); the queue (domain/queue) decides the rest. Opening the
 * queue is a second write after the concert's own (ConcertService), so a join heals a room whose
 * opening failed: flag on, queue not opened, it opens it first.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type CommandContext } from '../../domain/index.ts';
import type { ConcertState } from '../../domain/concert/index.ts';
import { placeOfUser, placeView, type JoinQueue, type PlaceStatus, type QueueState } from '../../domain/queue/index.ts';
import { isRefusal } from '../../lib/errors.ts';
import { setNewest } from '../../lib/bounded-map.ts';
import type { Principal } from '../../lib/http/auth.ts';
import type { RequestContext } from '../../lib/http/schemas.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { EnteringJoins } from './entering-joins.ts';
import type { QueueWriter } from './queue-writer.ts';

export interface WaitingRoomDeps {
  readonly writer: ConcertWriter;
  readonly queues: QueueWriter;
  /** EMAIL_NOT_VERIFIED when verification is required and the account has not verified (as booking asks). */
  readonly requireVerified: (principal: Principal) => Promise<void>;
  readonly now: () => Date;
  /** Joins received before the opening and not yet recorded, reported to every instance's keeper (the lottery waits for them). */
  readonly entering: EnteringJoins;
}

export interface PlaceAnswer {
  /** The place id: the token of GET /api/v1/queue/:token. */
  readonly token: string;
  /** As the status poll says it: a pass already used reads `admitted`. */
  readonly status: Exclude<PlaceStatus, 'used'>;
  /** 1-based place in lottery-then-arrival order; null until the lottery has run. */
  readonly position: number | null;
}

interface ConcertFlag {
  readonly waitingRoom: boolean;
  readonly salesOpenAt: string | null;
}

/**
 * How long a concert's flag is taken as read. A join reads it from the concert's lane, where a
 * read ends the batch of holds queued before it: in the on-sale minute thousands of joins would
 * break the sale's group commits apart. Once a second per concert is enough: joining a room just
 * switched off (or refused one just switched on) for a second harms nobody, and bookings check the
 * flag against the very state that decides the hold.
 */
const FLAG_FRESH_MS = 1000;
/** Concerts whose flag is remembered at most (random ids must not grow the memory). */
const FLAGS_KEPT = 1000;

export class WaitingRoomService {
  readonly #flags = new Map<string, { readonly until: number; readonly flag: Promise<ConcertFlag | undefined> }>();
  /** The openings of concerts with a room, as last read (FLAGS_KEPT at most): a join is counted from its receipt. */
  readonly #openings = new Map<string, number | null>();

  constructor(private readonly deps: WaitingRoomDeps) {}

  /** `joined`: a new place (201); else the account's place as it is now (200). */
  async join(principal: Principal, concertId: string, requestContext: RequestContext): Promise<{ joined: boolean; place: PlaceAnswer }> {
    // Received now: who joins before the opening enters the lottery, however long the join then waits.
    const receivedAt = this.deps.now();
    const id = concertId.toLowerCase();
    // Counted from its receipt where the room's opening is known: verifying the account and reading
    // the concert's flag may wait, and a draw meanwhile would decide this join as an arrival.
    const known = this.#openings.get(id);
    const checking = known === undefined ? () => {} : this.deps.entering.enter(id, receivedAt.getTime(), known);
    try {
      await this.deps.requireVerified(principal);
      let concert = await this.#flagOf(id);
      // A refusal only from the store's current state: the room may have been switched on through another instance.
      if (concert?.waitingRoom !== true) concert = await this.#flagOf(id, true);
      if (concert === undefined) throw new DomainError('CONCERT_NOT_FOUND', 'no such concert');
      if (!concert.waitingRoom) throw new DomainError('NO_WAITING_ROOM', 'this concert has no waiting room');
      const opensAt = concert.salesOpenAt === null ? null : Date.parse(concert.salesOpenAt);
      this.#rememberOpening(id, opensAt);
      const leave = this.deps.entering.enter(id, receivedAt.getTime(), opensAt);
      try {
        return await this.#join(principal, id, concert, receivedAt.toISOString(), requestContext);
      } finally {
        leave();
      }
    } finally {
      checking();
    }
  }

  #rememberOpening(concertId: string, opensAt: number | null): void {
    setNewest(this.#openings, concertId, opensAt, FLAGS_KEPT);
  }

  async #join(principal: Principal, id: string, concert: ConcertFlag, now: string, requestContext: RequestContext): Promise<{ joined: boolean; place: PlaceAnswer }> {
    const context: CommandContext = { ...requestContext, actorId: principal.userId, occurredAt: now };
    const join: JoinQueue = { type: 'JoinQueue', user_id: principal.userId, place_id: randomUUID(), now };
    // The account's place as the join left it, read inside the join's batch.
    const placeAfter = (state: QueueState) => {
      const place = placeOfUser(state, principal.userId);
      return place === undefined ? undefined : placeView(state, place.placeId, now);
    };
    let written;
    try {
      written = await this.deps.queues.submitThenRead(id, join, context, placeAfter);
    } catch (error) {
      if (!isRefusal(error, 'NO_WAITING_ROOM')) throw error;
      // The concert's room is on but its queue was never opened (that write failed): open it now.
      await this.deps.queues.submit(id, { type: 'OpenWaitingRoom', concert_id: id, opens_at: concert.salesOpenAt ?? now, now }, context);
      written = await this.deps.queues.submitThenRead(id, join, context, placeAfter);
    }
    const view = written.read;
    if (view === undefined) throw new Error('an account that joined has no place');
    return { joined: written.events.length > 0, place: { token: view.place_id, status: view.status === 'used' ? 'admitted' : view.status, position: view.position } };
  }

  /** The concert's flag, remembered for FLAG_FRESH_MS; `current`: as the store has it now (this instance's state may be behind). */
  #flagOf(concertId: string, current = false): Promise<ConcertFlag | undefined> {
    const nowMs = this.deps.now().getTime();
    const cached = this.#flags.get(concertId);
    if (!current && cached !== undefined && cached.until > nowMs) return cached.flag;
    const read = (state: ConcertState): ConcertFlag | undefined => (state.details === null || state.status === 'unscheduled'
      ? undefined
      : { waitingRoom: state.details.waiting_room, salesOpenAt: state.details.sales_open_at });
    const flag = current ? this.deps.writer.readCurrent(concertId, read) : this.deps.writer.read(concertId, read);
    setNewest(this.#flags, concertId, { until: nowMs + FLAG_FRESH_MS, flag }, FLAGS_KEPT);
    flag.catch(() => this.#flags.delete(concertId));
    return flag;
  }
}
