/**
 * The waiting rooms' keeper: the background work of every open waiting room, each tick, through
 * the queue's writer, so every decision is an event an auditor can replay:
 * - expires the passes whose time is up (ExpirePasses);
 * - draws the opening lottery once the opening has come and the joins received before it are
 *   recorded, as far as any instance reports (DrawLottery, a fresh 32-byte seed);
 * - says sold out (MarkSoldOut → QueueSoldOut, with how many were still waiting) when every seat
 *   is sold, the concert is cancelled or its sales have closed; while the last seats are only
 *   held it pauses instead, since unpaid holds expire and come back;
 * - admits the next visitors (AdmitVisitors) by the measured load of the concert's writer.
 *
 * Which rooms are open is read from $all (WaitingRoomOpened without QueueSoldOut), from the
 * beginning on every start, so every instance finds them after a restart. Several instances run
 * keepers at once: the decider never lets more than the window's passes out (`max_outstanding`),
 * and the batching writer decides again after a conflict, so two keepers cannot double it.
 *
 * The control law (AIMD on a window of outstanding passes, like TCP's congestion window): W caps
 * the passes out at once (admitted, neither used nor expired). Each tick, with D the deepest
 * write queue of the concert on any instance (QueueLoad) and L the queue limit:
 * D ≥ L/4 → W halves; else, when the window is full and D < L/8 → W grows by `grow`. W is capped
 * by the seats still available (each booking takes at least one) and by L/2, and is at least 1
 * while seats are available. Each instance's keeper keeps its own W by the same law (N keepers
 * grow it up to N times as fast, and each halves it); the passes out never exceed the widest.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CommandContext } from '../../domain/index.ts';
import type { ConcertState } from '../../domain/concert/index.ts';
import { waitingCount, type QueueCommand, type QueueState } from '../../domain/queue/index.ts';
import { decode, eventsOf } from '../../eventstore/decode.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { WaitingRoomFigures } from '../../lib/observability/metrics.ts';
import { Ticker } from '../../lib/ticker.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { QueueLoad } from './queue-load.ts';
import type { QueueWriter } from './queue-writer.ts';

/** What discovery reads from $all: a room opened, a room done. */
const roomChanges = eventsOf('WaitingRoomOpened', 'QueueSoldOut');
const DISCOVERY_PAGE = 500;

export interface WaitingRoomKeeperDeps {
  readonly store: EventStore;
  readonly queues: QueueWriter;
  readonly concerts: ConcertWriter;
  readonly load: QueueLoad;
  readonly now: () => Date;
  readonly tickMs: number;
  /** The concert writer's queue limit (COMMAND_QUEUE_LIMIT): what the window keeps the queues well below. */
  readonly queueLimit: number;
  readonly passTtlSeconds: number;
  readonly onError: (error: unknown, what: string) => void;
  /** Told how many visitors this keeper admitted to a concert (the admissions counter). */
  readonly onAdmitted?: (concertId: string, count: number) => void;
  /** The window's start and additive step (default: L/200, at least 1). */
  readonly window?: { readonly initial?: number; readonly grow?: number };
  readonly newId?: () => string;
  readonly newSeed?: () => string;
  /** How long after the opening the lottery is drawn (DRAW_GRACE_MS). */
  readonly drawGraceMs?: number;
}

/**
 * The lottery is drawn this long after the opening: a join received before the opening may still
 * wait in a lane (or lose a race to another instance) for a moment, and is decided by when it was
 * received only while the draw has not been recorded. Longer than a join ever waits in the rush:
 * with 2 s, a loaded machine (the whole test suite beside the on-sale e2e, joins answered in 9 s
 * at the median) went 2 s without a new entrant while joins were still queued, and 478 joins
 * received before the opening were decided after the draw, as arrivals.
 */
export const DRAW_GRACE_MS = 5_000;

/**
 * The lottery is drawn once no lottery entrant has been recorded for DRAW_GRACE_MS and no instance
 * reports joins received before the opening that it has not recorded yet (QueueLoad.entering: the
 * lanes have let them through), but no later than this after the opening: an instance that cannot
 * record its joins (or a report that outlives its instance) does not hold the sale up for longer.
 */
export const DRAW_WAIT_MAX_MS = 30_000;

/** One concert's figures for /metrics, and how many of its places were admitted so far. */
export type KeptRoomFigures = WaitingRoomFigures & { readonly admitted: number };

interface Room {
  readonly concertId: string;
  window: number;
  /** Lottery entrants at the last tick (-1 before the first), and when their number last grew (as this keeper saw it). */
  entrants: number;
  entrantsGrewAtMs: number;
  /** (time, places admitted) at each tick, the oldest at or before a minute ago first. */
  readonly samples: { ms: number; admitted: number }[];
}

/** What the keeper needs of the concert: is the sale over, is it selling, how many seats are left. */
interface Sale {
  readonly over: boolean;
  readonly selling: boolean;
  readonly available: number;
}

export function saleOf(state: ConcertState, nowMs: number): Sale {
  if (state.status === 'unscheduled') return { over: false, selling: false, available: 0 };
  if (state.status === 'cancelled') return { over: true, selling: false, available: 0 };
  const closesAtMs = state.salesCloseAtMs ?? state.startsAtMs;
  if (closesAtMs !== null && nowMs >= closesAtMs) return { over: true, selling: false, available: 0 };
  const available = state.classes.reduce((sum, ticketClass) => sum + ticketClass.available, 0);
  let held = 0;
  for (const hold of state.holds.values()) if (hold.status === 'held') held += hold.seatIndexes.length;
  const seats = state.classes.reduce((sum, ticketClass) => sum + ticketClass.seatCount, 0);
  const onSale = state.status === 'on_sale' && (state.salesOpenAtMs === null || nowMs >= state.salesOpenAtMs);
  return { over: onSale && seats > 0 && available === 0 && held === 0, selling: onSale && available > 0, available };
}

/** The next window (see the control law above). */
export function nextWindow(window: number, at: { depth: number; outstanding: number; available: number; limit: number; grow: number }): number {
  let next = window;
  if (at.depth >= at.limit / 4) next = Math.floor(window / 2);
  else if (at.outstanding >= window && at.depth < at.limit / 8) next = window + at.grow;
  const cap = Math.min(at.available, Math.floor(at.limit / 2));
  return Math.max(Math.min(next, cap), Math.min(1, cap));
}

export class WaitingRoomKeeper {
  readonly #rooms = new Map<string, Room>();
  /** Rooms that said sold out: a WaitingRoomOpened read later does not reopen them. */
  readonly #done = new Set<string>();
  #position = 0;
  #ticker: Ticker | undefined;
  #figures: Promise<KeptRoomFigures[]> | undefined;
  readonly #grow: number;
  readonly #initial: number;

  constructor(private readonly deps: WaitingRoomKeeperDeps) {
    this.#grow = deps.window?.grow ?? Math.max(1, Math.floor(deps.queueLimit / 200));
    this.#initial = deps.window?.initial ?? this.#grow;
  }

  start(): void {
    this.#ticker ??= new Ticker(this.deps.tickMs, () => this.tick(), (error) => this.deps.onError(error, 'waiting rooms'));
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker?.stop();
  }

  /** The concerts whose waiting room is open, as far as this keeper has read. */
  open(): string[] {
    return [...this.#rooms.keys()];
  }

  /** The window of passes this keeper lets out for the concert (undefined: no open room). */
  windowOf(concertId: string): number | undefined {
    return this.#rooms.get(concertId)?.window;
  }

  /** One round: reads which rooms opened or closed, then looks after each open one. */
  async tick(): Promise<void> {
    await this.#discover();
    for (const room of [...this.#rooms.values()]) {
      try {
        await this.#lookAfter(room);
      } catch (error) {
        // One room's trouble does not stop the others; the next tick tries again.
        this.deps.onError(error, `waiting room ${room.concertId}`);
      }
    }
  }

  async #discover(): Promise<void> {
    for (;;) {
      const page = await this.deps.store.readAll({ after: this.#position, maxCount: DISCOVERY_PAGE, filter: { streamPrefixes: ['queue-'], eventTypes: roomChanges.types } });
      for (const recorded of page.events) {
        const event = decode(recorded, roomChanges);
        const concertId = event.data.concert_id;
        if (event.type === 'QueueSoldOut') {
          // A room this keeper looks after stays until its passes still out have expired (lookAfter closes it).
          if (!this.#rooms.has(concertId)) this.#done.add(concertId);
        } else if (!this.#done.has(concertId) && !this.#rooms.has(concertId)) {
          this.#rooms.set(concertId, { concertId, window: this.#initial, samples: [], entrants: -1, entrantsGrewAtMs: Number.NEGATIVE_INFINITY });
        }
      }
      this.#position = Math.max(this.#position, page.position);
      if (page.events.length < DISCOVERY_PAGE) return;
    }
  }

  async #lookAfter(room: Room): Promise<void> {
    const { queues, concerts, load, queueLimit } = this.deps;
    const id = room.concertId;
    const now = this.deps.now();
    const at = now.toISOString();
    const nowMs = now.getTime();
    const context: CommandContext = { correlationId: `waiting-room-${id}`, causationId: 'waiting-room-keeper', actorId: null, occurredAt: at };
    const submit = (command: QueueCommand) => queues.submit(id, command, context);

    // Also brings this instance's state of the queue up to what the store holds (the writer
    // checks the stream's revision when a batch decides nothing).
    await submit({ type: 'ExpirePasses', now: at });
    let queue = await queues.read(id, (state) => queueFigures(state));
    // Sold out: nobody more is let in; the passes still out are recorded expired in their time, then the room is closed.
    if (queue.soldOut) return queue.outstanding === 0 ? this.#close(id) : undefined;
    // Current, not this instance's memory: the seats may have gone through another instance.
    const sale = await concerts.readCurrent(id, (state) => saleOf(state, nowMs));
    if (sale.over) {
      await submit({ type: 'MarkSoldOut', now: at });
      return;
    }
    if (!queue.drawn) {
      const grace = this.deps.drawGraceMs ?? DRAW_GRACE_MS;
      // Growth seen between two ticks; a keeper that meets the room already grown (started late) waits for none.
      if (room.entrants >= 0 && queue.entrants > room.entrants) room.entrantsGrewAtMs = nowMs;
      room.entrants = queue.entrants;
      if (nowMs < queue.opensAtMs + grace) return;
      // Joins received before the opening may still be in the lanes, this instance's or another's:
      // drawn once they stop coming and none is reported waiting (or at the latest).
      if (nowMs < queue.opensAtMs + DRAW_WAIT_MAX_MS && (nowMs - room.entrantsGrewAtMs < grace || await load.entering(id))) return;
      await submit({ type: 'DrawLottery', seed: (this.deps.newSeed ?? (() => randomBytes(32).toString('hex')))(), now: at });
      queue = await queues.read(id, (state) => queueFigures(state));
    }
    room.samples.push({ ms: nowMs, admitted: queue.admitted });
    while (room.samples.length > 1 && room.samples[1]!.ms <= nowMs - 60_000) room.samples.shift();
    if (!sale.selling) return;

    const own = concerts.queueDepth(id);
    await load.publish(id, own);
    const depth = Math.max(own, await load.deepest(id));
    room.window = nextWindow(room.window, { depth, outstanding: queue.outstanding, available: sale.available, limit: queueLimit, grow: this.#grow });
    const count = Math.min(room.window - queue.outstanding, queue.inOrder);
    if (count <= 0) return;
    const newId = this.deps.newId ?? randomUUID;
    const written = await submit({
      type: 'AdmitVisitors',
      pass_ids: Array.from({ length: count }, () => newId()),
      pass_ttl_seconds: this.deps.passTtlSeconds,
      max_outstanding: room.window,
      now: at,
    });
    const admitted = written.events.reduce((sum, event) => sum + (event.type === 'VisitorsAdmitted' ? event.data.admissions.length : 0), 0);
    if (admitted > 0) this.deps.onAdmitted?.(id, admitted);
  }

  #close(concertId: string): void {
    this.#rooms.delete(concertId);
    this.#done.add(concertId);
  }

  /** Each open room's figures (one read per room, shared by the gauges of one scrape). */
  figures(): Promise<KeptRoomFigures[]> {
    this.#figures ??= this.#measure().finally(() => {
      this.#figures = undefined;
    });
    return this.#figures;
  }

  async #measure(): Promise<KeptRoomFigures[]> {
    return Promise.all([...this.#rooms.values()].map(async (room) => {
      const counts = await this.deps.queues.read(room.concertId, (state) => {
        let used = 0;
        let expired = 0;
        for (const place of state.places.values()) {
          if (place.spent?.as === 'used') used++;
          else if (place.spent?.as === 'expired') expired++;
        }
        return { waiting: state.soldOutAt === null ? waitingCount(state) : 0, admitted: state.admitted, used, expired };
      });
      // The ticks keep the first sample the last one at or before a minute ago (or the first ever).
      const lastMinute = Math.max(0, counts.admitted - (room.samples[0]?.admitted ?? counts.admitted));
      return {
        concert_id: room.concertId,
        waiting: counts.waiting,
        admitted: counts.admitted,
        admitted_last_minute: lastMinute,
        passes_used: counts.used,
        passes_expired: counts.expired,
        estimated_wait_seconds: counts.waiting === 0 ? 0 : lastMinute > 0 ? (counts.waiting * 60) / lastMinute : null,
      };
    }));
  }
}

function queueFigures(state: QueueState) {
  return {
    drawn: state.lottery !== null,
    entrants: state.entrants.length,
    soldOut: state.soldOutAt !== null,
    opensAtMs: state.opensAtMs,
    outstanding: state.outstanding.size,
    admitted: state.admitted,
    /** Waiting places already ordered (everyone, once the lottery is drawn). */
    inOrder: state.order.length - state.admitted,
  };
}
