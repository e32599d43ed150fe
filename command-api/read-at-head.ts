/**
 * Read-your-writes for the reads the command API answers from the event store itself (a profile,
 * a stream, the reactors' status, the door's keys): what they read is the store, so the reader's
 * position (`min_position`, `X-Min-Position` or the cookie: lib/http/min-position.ts) is met once
 * the store's head has reached it. That is at once for any position a command answered; a
 * position beyond the head is waited for (READ_WAIT_TIMEOUT_MS) and then answered 503
 * PROJECTION_LAGGING, as the query API answers it. `X-Projection-Position` is the head the read saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventStore } from '../eventstore/port.ts';
import { AppError } from '../lib/errors.ts';
import { minimumOf } from '../lib/http/min-position.ts';

/** How often the head is asked again while a reader waits for a position beyond it. */
const POLL_MS = 50;

export type ReadAtHead = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function readAtHead(store: Pick<EventStore, 'headPosition'>, timeoutMs: number): ReadAtHead {
  return async (request, reply) => {
    const minimum = minimumOf(request);
    const deadline = Date.now() + timeoutMs;
    let head = await store.headPosition();
    while (minimum !== undefined && head < minimum) {
      const left = deadline - Date.now();
      if (left <= 0) throw new AppError('PROJECTION_LAGGING', `the event store has not reached position ${minimum} yet; retry shortly`);
      await sleep(Math.min(left, POLL_MS));
      head = await store.headPosition();
    }
    void reply.header('X-Projection-Position', String(head));
  };
}
