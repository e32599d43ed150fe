import { instant } from '../shared/decider.ts';
import { DomainError, assertNever } from '../shared/errors.ts';
import { toCanonicalInstant } from '../shared/instant.ts';
import type { AdmitVisitors, DrawLottery, ExpirePasses, JoinQueue, MarkSoldOut, OpenWaitingRoom, QueueCommand, UsePass } from './commands.ts';
import type { Admission, QueueEvent } from './events.ts';
import { LOTTERY_ALGORITHM, isLotterySeed } from './lottery.ts';
import type { QueueState } from './state.ts';

export function decide(command: QueueCommand, state: QueueState): QueueEvent[] {
  switch (command.type) {
    case 'OpenWaitingRoom':
      return openWaitingRoom(command, state);
    case 'JoinQueue':
      return joinQueue(command, state);
    case 'DrawLottery':
      return drawLottery(command, state);
    case 'AdmitVisitors':
      return admitVisitors(command, state);
    case 'UsePass':
      return usePass(command, state);
    case 'ExpirePasses':
      return expirePasses(command, state);
    case 'MarkSoldOut':
      return markSoldOut(command, state);
    default:
      return assertNever(command);
  }
}

function openConcert(state: QueueState): string {
  if (state.concertId === null) throw new DomainError('NO_WAITING_ROOM', 'this concert has no waiting room');
  return state.concertId;
}

/**
 * Switching it on again decides nothing, unless the opening, still to come, has moved (the
 * sales window changed): once the sale has opened, who entered the lottery is settled.
 */
function openWaitingRoom(command: OpenWaitingRoom, state: QueueState): QueueEvent[] {
  const nowMs = instant(command.now);
  const opensAt = instant(command.opens_at) > nowMs ? toCanonicalInstant(command.opens_at) : toCanonicalInstant(command.now);
  if (state.concertId !== null) {
    if (state.concertId !== command.concert_id) throw new DomainError('WRONG_CONCERT', 'this waiting room is another concert\'s');
    if (state.lottery !== null || nowMs >= state.opensAtMs || opensAt === state.opensAt) return [];
  }
  return [{ type: 'WaitingRoomOpened', data: { concert_id: command.concert_id, opens_at: opensAt, opened_at: command.now } }];
}

/** One place per account: the same account again keeps the place it has. */
function joinQueue(command: JoinQueue, state: QueueState): QueueEvent[] {
  const concertId = openConcert(state);
  if (state.placeByUser.has(command.user_id)) return [];
  if (state.soldOutAt !== null) throw new DomainError('SOLD_OUT', 'the concert is sold out');
  if (state.places.has(command.place_id)) throw new RangeError('a place id is fresh for every join');
  // Entering the lottery is decided now, by the opening as it stands and whether the draw has happened.
  const entry = state.lottery === null && instant(command.now) < state.opensAtMs ? 'lottery' : 'arrival';
  return [{ type: 'QueueJoined', data: { concert_id: concertId, place_id: command.place_id, user_id: command.user_id, entry, joined_at: command.now } }];
}

/** Once, at or after the opening: drawing again (with any seed) decides nothing. */
function drawLottery(command: DrawLottery, state: QueueState): QueueEvent[] {
  const concertId = openConcert(state);
  if (state.lottery !== null || state.soldOutAt !== null) return [];
  if (instant(command.now) < state.opensAtMs) {
    throw new DomainError('LOTTERY_NOT_DUE', 'the lottery is drawn when the sale opens', { opens_at: state.opensAt });
  }
  if (!isLotterySeed(command.seed)) throw new RangeError('a lottery seed is 32 random bytes as 64 lower-case hex digits');
  return [{
    type: 'LotteryDrawn',
    data: { concert_id: concertId, seed: command.seed, algorithm: LOTTERY_ALGORITHM, entrants: state.entrants.length, drawn_at: command.now },
  }];
}

/**
 * The next waiting places in order, one per pass id, up to `max_outstanding` passes out at once
 * (passes past their time count until ExpirePasses records them); nothing when none wait, the
 * window is full or the concert is sold out.
 */
function admitVisitors(command: AdmitVisitors, state: QueueState): QueueEvent[] {
  const concertId = openConcert(state);
  if (state.lottery === null) throw new DomainError('LOTTERY_NOT_DRAWN', 'nobody is admitted before the opening lottery');
  if (!Number.isInteger(command.pass_ttl_seconds) || command.pass_ttl_seconds < 1) throw new RangeError('a pass lasts a whole number of seconds, at least one');
  if (!Number.isInteger(command.max_outstanding) || command.max_outstanding < 0) throw new RangeError('the window of passes out is a whole number, at least zero');
  if (state.soldOutAt !== null) return [];
  const count = Math.min(command.pass_ids.length, state.order.length - state.admitted, command.max_outstanding - state.outstanding.size);
  if (count <= 0) return [];
  const expiresAt = new Date(instant(command.now) + command.pass_ttl_seconds * 1000).toISOString();
  const admissions: Admission[] = [];
  const fresh = new Set<string>();
  for (let k = 0; k < count; k++) {
    const passId = command.pass_ids[k]!;
    if (state.placeByPass.has(passId) || fresh.has(passId)) throw new RangeError('a pass id is fresh for every pass');
    fresh.add(passId);
    const place = state.places.get(state.order[state.admitted + k]!)!;
    admissions.push({ place_id: place.placeId, user_id: place.userId, pass_id: passId, expires_at: expiresAt });
  }
  return [{ type: 'VisitorsAdmitted', data: { concert_id: concertId, admissions, admitted_at: command.now } }];
}

/**
 * A pass buys one booking, for the account it was issued to, before it expires. The same booking
 * asking again (a retried request) decides nothing; anything else is INVALID_PASS, whatever the
 * reason, so a pass's owner and state are not told to whoever holds it.
 */
function usePass(command: UsePass, state: QueueState): QueueEvent[] {
  const invalid = (): DomainError => new DomainError('INVALID_PASS', 'this booking pass is not valid for this account now');
  const placeId = state.placeByPass.get(command.pass_id);
  const place = placeId === undefined ? undefined : state.places.get(placeId);
  if (state.concertId === null || place === undefined || place.pass === null || place.userId !== command.user_id) throw invalid();
  if (place.spent?.as === 'used' && place.spent.bookingId === command.booking_id) return [];
  if (place.spent !== null || instant(command.now) >= place.pass.expiresAtMs) throw invalid();
  return [{
    type: 'PassUsed',
    data: { concert_id: state.concertId, place_id: place.placeId, pass_id: command.pass_id, user_id: place.userId, booking_id: command.booking_id, used_at: command.now },
  }];
}

function expirePasses(command: ExpirePasses, state: QueueState): QueueEvent[] {
  const concertId = openConcert(state);
  const nowMs = instant(command.now);
  const expired: QueueEvent[] = [];
  for (const placeId of state.outstanding) {
    const place = state.places.get(placeId);
    if (place?.pass == null || nowMs < place.pass.expiresAtMs) continue;
    expired.push({
      type: 'PassExpired',
      data: { concert_id: concertId, place_id: placeId, pass_id: place.pass.passId, user_id: place.userId, expires_at: place.pass.expiresAt, expired_at: command.now },
    });
  }
  return expired;
}

function markSoldOut(command: MarkSoldOut, state: QueueState): QueueEvent[] {
  const concertId = openConcert(state);
  if (state.soldOutAt !== null) return [];
  return [{ type: 'QueueSoldOut', data: { concert_id: concertId, waiting: state.places.size - state.admitted, sold_out_at: command.now } }];
}
