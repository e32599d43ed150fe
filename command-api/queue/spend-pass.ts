/**
 * Spending a waiting room's booking pass on the booking whose seats it held: UsePass in the
 * queue's stream. The booking request does it right after the hold; the bookings reactor does it
 * again from the SeatsHeld event that names the pass (a no-op when the request did), so a
 * request that died in between leaves no booking without its PassUsed. When the queue refuses the
 * pass for this booking (it was recorded expired before the repair came, or it was never issued:
 * signed by whoever holds the deployment's secret), the booking is cancelled the normal way: its
 * seats released, then the booking. That it bought no other booking the concert decided already.
 */
import { bookingDecider, bookingStream } from '../../domain/booking/index.ts';
import type { CommandContext } from '../../domain/index.ts';
import { isRefusal } from '../../lib/errors.ts';
import type { CommandHandler } from '../command-handler.ts';
import type { ConcertWriter } from '../concerts/concert-writer.ts';
import type { QueueWriter } from './queue-writer.ts';

export interface PassSpending {
  readonly queues: QueueWriter;
  readonly writer: ConcertWriter;
  readonly commands: CommandHandler;
}

export interface SpentOn {
  readonly concertId: string;
  readonly passId: string;
  readonly userId: string;
  readonly bookingId: string;
  /** When the pass was spent: the hold's instant (a repair comes later, the pass was good then). */
  readonly at: string;
}

/**
 * UsePass; on INVALID_PASS the booking is cancelled and the refusal thrown. Any other failure
 * (a full queue, the store) is thrown as it is, the booking left for a retry or the repair.
 */
export async function spendPass(deps: PassSpending, spent: SpentOn, context: CommandContext): Promise<void> {
  const { concertId, passId, userId, bookingId, at } = spent;
  try {
    await deps.queues.submit(concertId, { type: 'UsePass', pass_id: passId, user_id: userId, booking_id: bookingId, now: at }, context);
  } catch (error) {
    if (!isRefusal(error, 'INVALID_PASS')) throw error;
    await cancelUnpassed(deps, concertId, bookingId, context);
    throw error;
  }
}

/** A booking whose pass could not be spent on it: its seats released, then the booking cancelled (a sold one stands). */
async function cancelUnpassed(deps: PassSpending, concertId: string, bookingId: string, context: CommandContext): Promise<void> {
  try {
    await deps.writer.submit(concertId, { type: 'ReleaseHold', booking_id: bookingId, reason: 'cancelled', now: context.occurredAt }, context);
    await deps.commands.execute(bookingStream(bookingId), bookingDecider, { type: 'CancelBooking', cancelled_by: 'owner', now: context.occurredAt }, context);
  } catch (cancelling) {
    // Paid already (a retry after a crash): the booking stands.
    if (!isRefusal(cancelling, 'HOLD_ALREADY_SOLD', 'BOOKING_NOT_CANCELLABLE')) throw cancelling;
  }
}
