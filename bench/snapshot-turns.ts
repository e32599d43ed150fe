/**
 * How long a concert snapshot keeps the command role's event loop from other requests. A sale's
 * snapshot holds every pending hold (booking, user, seats, KTP fingerprints, sealed holders): the
 * state is copied (toSnapshot, at once: it must be one instant's), then written as JSON. Ours
 * writes the JSON a slice of holds at a time (lib/json-slices.ts), letting the loop go between
 * slices; the baseline is one JSON.stringify of the same copy, as the writer did before. Both
 * write the same text (checked). No database: the text's gzip and its write run off the loop; the
 * gzip and base64 the stores do (eventstore/snapshot-text.ts) are timed on their own, for what a snapshot
 * costs the sale per event at the writer's spacing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { concertDecider, toSnapshot, type ConcertState } from '../domain/concert/index.ts';
import type { Owned } from '../domain/index.ts';
import { packSnapshot } from '../eventstore/snapshot-text.ts';
import { stringifyInSlices } from '../lib/json-slices.ts';
import { holdByClass, REGULAR, scheduleConcert } from '../test/support/concert-fixtures.ts';
import { randomSealed } from '../test/support/sealed.ts';

export interface SnapshotTurnFigures {
  readonly holds: number;
  readonly megabytes: number;
  /** Copying the state (toSnapshot), ms, each round. */
  readonly copyMs: readonly number[];
  /** The copy and one JSON.stringify of it, ms, each round: the loop was held that long. */
  readonly wholeMs: readonly number[];
  /** The longest turn of the loop while ours copied and wrote, ms, each round. */
  readonly longestTurnMs: readonly number[];
  /** Ours from start to end, ms, each round (other work runs in between). */
  readonly slicedMs: readonly number[];
  /** The text gzipped (on the libuv pool) and put in base64, as the store keeps it, ms, each round. */
  readonly gzipMs?: readonly number[];
  /** The text as stored, MB. */
  readonly storedMegabytes?: number;
}

/** A concert of `seats` seats on sale with `holds` one-seat holds waiting for their payment. */
function saleWithHolds(seats: number, holds: number): Owned<ConcertState> {
  let state = concertDecider.initialState();
  const fold = (events: ReturnType<typeof concertDecider.decide>) => {
    for (const event of events) state = concertDecider.evolve(state, event);
  };
  fold(concertDecider.decide(scheduleConcert({ ticket_classes: [{ ticket_class_id: REGULAR, name: 'Festival', price: 750_000, seat_count: seats }] }), state));
  for (let i = 0; i < holds; i++) {
    fold(concertDecider.decide(holdByClass(randomUUID(), randomUUID(), [{ ticket_class_id: REGULAR, quantity: 1 }], {
      ktp_fingerprints: [randomBytes(32).toString('base64url')],
      personal_data: { buyer: randomSealed(), ticket_holders: [randomSealed()], buyer_email_digest: randomBytes(32).toString('hex') },
    }), state));
  }
  return state;
}

/** The longest gap between turns of the loop while `work` runs. */
async function longestTurn(work: () => Promise<unknown>): Promise<{ longestMs: number; totalMs: number }> {
  let longestMs = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longestMs = Math.max(longestMs, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  await work();
  const totalMs = performance.now() - started;
  running = false;
  return { longestMs, totalMs };
}

export async function benchSnapshotTurns(options: { seats: number; holds: number; rounds: number }): Promise<SnapshotTurnFigures> {
  const state = saleWithHolds(options.seats, options.holds);
  const copyMs: number[] = [];
  const wholeMs: number[] = [];
  const longestTurnMs: number[] = [];
  const slicedMs: number[] = [];
  const gzipMs: number[] = [];
  let megabytes = 0;
  let storedMegabytes = 0;
  for (let round = 0; round < options.rounds; round++) {
    // The baseline and ours alternate, each on its own copy, as the writer makes one per save.
    // The writer before: the copy and its JSON in one turn of the loop.
    const started = performance.now();
    const copy = { position: round, concert: toSnapshot(state) };
    copyMs.push(performance.now() - started);
    const whole = JSON.stringify(copy);
    wholeMs.push(performance.now() - started);
    megabytes = whole.length / 1e6;
    let text = '';
    const ours = await longestTurn(async () => {
      text = await stringifyInSlices({ position: round, concert: toSnapshot(state) });
    });
    if (text !== whole) throw new Error('the text written in slices is not JSON.stringify\'s');
    longestTurnMs.push(ours.longestMs);
    slicedMs.push(ours.totalMs);
    const gzipStarted = performance.now();
    storedMegabytes = (await packSnapshot(text)).length / 1e6;
    gzipMs.push(performance.now() - gzipStarted);
  }
  return { holds: options.holds, megabytes, copyMs, wholeMs, longestTurnMs, slicedMs, gzipMs, storedMegabytes };
}
