/**
 * Read-your-writes for the reads the command API answers from the event store itself (a profile,
 * a stream, the reactors' status, the door's keys): what they read is the store, so the reader's
 * position (`min_position`, `X-Min-Position` or the cookie: lib/http/min-position.ts) is met once
 * the store's head has reached it. `X-Projection-Position` is the head the read saw.
 *
 * A command answers its position once it is committed, so every position a client was given is
 * at or below the head from then on, on every instance (they share the store): a position beyond
 * the head was never answered, and waiting would not bring it. It is answered 503
 * PROJECTION_LAGGING at once, as the query API answers a position its read models did not reach.
 *
 * The head is asked by one query at a time (lib/batcher.ts): the reads that arrive while one is
 * out share the next, which starts after they arrived and so sees every command answered before
 * them. A crowd of reads (the door's keys need no sign-in) costs the store one query in flight.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventStore } from '../eventstore/port.ts';
import { Batcher } from '../lib/batcher.ts';
import { AppError } from '../lib/errors.ts';
import { minimumOf } from '../lib/http/min-position.ts';

export type ReadAtHead = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

interface Asking {
  readonly resolve: (head: number) => void;
  readonly reject: (error: unknown) => void;
}

export function readAtHead(store: Pick<EventStore, 'headPosition'>): ReadAtHead {
  const heads = new Batcher<Asking>(Number.MAX_SAFE_INTEGER, async (batch) => {
    try {
      const head = await store.headPosition();
      for (const asking of batch) asking.resolve(head);
    } catch (error) {
      for (const asking of batch) asking.reject(error);
    }
  });
  return async (request, reply) => {
    const minimum = minimumOf(request);
    const head = await new Promise<number>((resolve, reject) => heads.push({ resolve, reject }));
    if (minimum !== undefined && head < minimum) throw new AppError('PROJECTION_LAGGING', `the event store has not reached position ${minimum}: no command answered it; retry shortly`);
    void reply.header('X-Projection-Position', String(head));
  };
}
