/**
 * Writes booking streams in groups. During a rush every booking needs a new stream of its own;
 * appended one by one they would take turns on the event store's position lock. The placer
 * queues them while an append is out and writes the next group in one appendMany.
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../domain/index.ts';
import type { SeatsHeld } from '../../domain/concert/index.ts';
import { WrongExpectedRevision, type EventStore, type StreamWrite } from '../../eventstore/port.ts';
import { Batcher } from '../../lib/batcher.ts';
import type { CommandHandler } from '../command-handler.ts';
import { bookingStreamOf, ensureBookingPlaced } from './placement.ts';

interface Waiting {
  readonly held: SeatsHeld['data'];
  readonly context: CommandContext;
  readonly resolve: (position: number) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

export class BookingPlacer {
  readonly #batcher = new Batcher<Waiting>(MAX_BATCH, (batch) => this.#write(batch));
  /** A booking asked for again while its placement is out joins it instead of racing it. */
  readonly #placing = new Map<string, Promise<number>>();

  constructor(private readonly store: EventStore, private readonly commands: CommandHandler, private readonly newId: () => string = randomUUID) {}

  /** Writes the booking stream of a hold unless it exists; the position of its BookingPlaced. */
  place(held: SeatsHeld['data'], context: CommandContext): Promise<number> {
    const placing = this.#placing.get(held.booking_id);
    if (placing !== undefined) return placing;
    const placed = new Promise<number>((resolve, reject) => this.#batcher.push({ held, context, resolve, reject }));
    this.#placing.set(held.booking_id, placed);
    void placed.finally(() => this.#placing.delete(held.booking_id)).catch(() => undefined);
    return placed;
  }

  async #write(batch: readonly Waiting[]): Promise<void> {
    const ready: { waiting: Waiting; write: StreamWrite }[] = [];
    for (const waiting of batch) {
      try {
        ready.push({ waiting, write: bookingStreamOf(waiting.held, waiting.context, this.newId) });
      } catch (error) {
        waiting.reject(error);
      }
    }
    if (ready.length === 0) return;
    let outcomes: PromiseSettledResult<{ position: number }>[];
    try {
      outcomes = await this.store.appendMany(ready.map((r) => r.write));
    } catch (error) {
      for (const { waiting } of ready) waiting.reject(error);
      return;
    }
    await Promise.all(ready.map(async ({ waiting }, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'fulfilled') return waiting.resolve(outcome.value.position);
      if (outcome?.reason instanceof WrongExpectedRevision) {
        // It exists already (the request and the repair reactor both tried): read its position.
        return ensureBookingPlaced(this.store, this.commands, waiting.held, waiting.context).then(waiting.resolve, waiting.reject);
      }
      waiting.reject(outcome?.reason ?? new Error('no outcome for a booking placement'));
    }));
  }
}
