/** A waiting room's history for read-side specs and benches: decided by the queue's own decider. */
import { fold } from '../../domain/shared/decider.ts';
import { queueDecider, queueStream, type QueueCommand, type QueueEvent } from '../../domain/queue/index.ts';
import { T0, minutesAfter } from './concert-fixtures.ts';

export const QUEUE_CONCERT = 'c9000000-0000-4000-8000-000000000001';
export const QUEUE_STREAM = queueStream(QUEUE_CONCERT);
export const OPENS_AT = minutesAfter(T0, 60);
export const QUEUE_SEED = '5eed'.repeat(16);

const hex = (n: number): string => n.toString(16).padStart(12, '0');
/** The n-th visitor's place (its token), account and pass. */
export const placeId = (n: number): string => `a0000000-0000-4000-8000-${hex(n)}`;
export const userId = (n: number): string => `b0000000-0000-4000-8000-${hex(n)}`;
export const passId = (n: number): string => `d0000000-0000-4000-8000-${hex(n)}`;

/** A queue's history so far; each command is decided against it and its events kept. */
export class WaitingRoomScript {
  readonly events: QueueEvent[] = [];

  constructor(readonly concertId = QUEUE_CONCERT) {}

  run(command: QueueCommand): QueueEvent[] {
    const decided = queueDecider.decide(command, fold(queueDecider, this.events));
    this.events.push(...decided);
    return decided;
  }

  open(now = T0, opensAt = OPENS_AT): QueueEvent[] {
    return this.run({ type: 'OpenWaitingRoom', concert_id: this.concertId, opens_at: opensAt, now });
  }

  join(n: number, now = minutesAfter(T0, 1)): QueueEvent[] {
    return this.run({ type: 'JoinQueue', user_id: userId(n), place_id: placeId(n), now });
  }

  draw(now = OPENS_AT): QueueEvent[] {
    return this.run({ type: 'DrawLottery', seed: QUEUE_SEED, now });
  }

  admit(passes: readonly number[], now = minutesAfter(OPENS_AT, 1), ttlSeconds = 300): QueueEvent[] {
    return this.run({ type: 'AdmitVisitors', pass_ids: passes.map(passId), pass_ttl_seconds: ttlSeconds, max_outstanding: Number.MAX_SAFE_INTEGER, now });
  }

  use(n: number, pass: number, now = minutesAfter(OPENS_AT, 2)): QueueEvent[] {
    return this.run({ type: 'UsePass', pass_id: passId(pass), user_id: userId(n), booking_id: `e0000000-0000-4000-8000-${hex(n)}`, now });
  }

  expire(now: string): QueueEvent[] {
    return this.run({ type: 'ExpirePasses', now });
  }

  soldOut(now = minutesAfter(OPENS_AT, 10)): QueueEvent[] {
    return this.run({ type: 'MarkSoldOut', now });
  }

  /** Where each visitor stands (0-based), in the order the queue admits them. */
  order(): string[] {
    return fold(queueDecider, this.events).order;
  }
}
