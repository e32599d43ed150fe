/** Every command carries the instant it was received, and every id it creates: the domain has no clock and no randomness. */
interface Timed {
  readonly now: string;
}

/**
 * Switch the waiting room on for a concert's sale. `opens_at` is the sale's opening (the concert's
 * sales_open_at); an opening already past (the sale is open) counts as `now`.
 */
export interface OpenWaitingRoom extends Timed {
  readonly type: 'OpenWaitingRoom';
  readonly concert_id: string;
  readonly opens_at: string;
}

/** Take a place for an account; `place_id` (a fresh uuid from the caller) becomes its token. */
export interface JoinQueue extends Timed {
  readonly type: 'JoinQueue';
  readonly user_id: string;
  readonly place_id: string;
}

/** Draw the opening lottery with `seed` (32 random bytes as 64 hex digits, from the caller); at or after the opening. */
export interface DrawLottery extends Timed {
  readonly type: 'DrawLottery';
  readonly seed: string;
}

/**
 * Let in the next visitors in lottery-then-arrival order, one per pass id (fresh ids from the
 * caller): as many as there are ids, fewer if fewer are waiting, and never so many that more than
 * `max_outstanding` passes are out (admitted, neither used nor expired): the window is kept by the
 * decider, so keepers on several instances, each deciding on the stream as committed, cannot
 * widen it together. Each pass is good for `pass_ttl_seconds`.
 */
export interface AdmitVisitors extends Timed {
  readonly type: 'AdmitVisitors';
  readonly pass_ids: readonly string[];
  readonly pass_ttl_seconds: number;
  readonly max_outstanding: number;
}

/** Spend a pass on a booking: only its own account's, before it expires, once. */
export interface UsePass extends Timed {
  readonly type: 'UsePass';
  readonly pass_id: string;
  readonly user_id: string;
  readonly booking_id: string;
}

/** Record every pass whose time is up and that was not used. */
export interface ExpirePasses extends Timed {
  readonly type: 'ExpirePasses';
}

/** The concert is sold out: stop admitting and tell everyone still waiting. */
export interface MarkSoldOut extends Timed {
  readonly type: 'MarkSoldOut';
}

export type QueueCommand = OpenWaitingRoom | JoinQueue | DrawLottery | AdmitVisitors | UsePass | ExpirePasses | MarkSoldOut;
