import type { Owned } from '../shared/decider.ts';
import type { QueueEvent } from './events.ts';
import type { QueueState } from './state.ts';

/**
 * Takes events back out of a state they were just folded into, newest first: what a batching
 * writer does when its append lost a race, so it can fold the winner's events onto the state
 * instead of folding the whole stream again. Only the events of the on-sale rush are taken back
 * (joins, passes used or expired); for any other the answer is false and the state is untouched
 * (the writer then loads afresh). `events` must be the last ones folded into `state`, in order.
 */
export function undoQueueEvents(state: Owned<QueueState>, events: readonly QueueEvent[]): boolean {
  if (!events.every((event) => event.type === 'QueueJoined' || event.type === 'PassUsed' || event.type === 'PassExpired')) return false;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    switch (event.type) {
      case 'QueueJoined': {
        const { place_id, user_id } = event.data;
        const place = state.places.get(place_id);
        // A join always went to the end of one of these lists (evolve): it comes off the same end.
        const list = place === undefined ? undefined : place.index >= 0 ? state.order : place.entry === 'lottery' ? state.entrants : state.earlyArrivals;
        if (list === undefined || list[list.length - 1] !== place_id) throw new Error(`a join undone out of order: ${place_id}`);
        list.pop();
        state.places.delete(place_id);
        state.placeByUser.delete(user_id);
        break;
      }
      case 'PassUsed':
      case 'PassExpired': {
        const place = state.places.get(event.data.place_id);
        if (place !== undefined) place.spent = null;
        state.outstanding.add(event.data.place_id);
        break;
      }
      default:
        break;
    }
  }
  return true;
}
