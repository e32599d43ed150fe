/**
 * The Redis seat caches: per concert, the available seats of each ticket class, and the status
 * of every seat that is not available. Written by the concerts projection after each committed
 * batch, read by the query API's hot path.
 *
 * Every write is guarded by positions inside a Lua script: a concert's keys record the position
 * of the last event folded into them (`_pos`). A change applies only on top of exactly the
 * position it follows; an older or repeated write is ignored; a gap (a lost write, a Redis that
 * restarted empty) drops the keys, so readers fall back to MySQL until they are refilled from it.
 *
 * Keys carry the generation of the tables they mirror: a rebuild fills the next generation's keys
 * beside the live ones, and readers follow the generation pointer once the tables have swapped.
 */
import type { Redis } from 'ioredis';

export type SeatCacheStatus = 'reserved' | 'booked';

export interface ConcertCacheChange {
  readonly concertId: string;
  /** The position the keys must be at for this change to apply (0: the concert is new). */
  readonly previous: number;
  readonly position: number;
  /** Available seats per ticket class, absolute, in the concert's class order. */
  readonly available: ReadonlyMap<string, number>;
  /** Seats whose status changed; null: available again. */
  readonly seats: ReadonlyMap<string, SeatCacheStatus | null>;
}

export interface ConcertCacheImage {
  readonly concertId: string;
  readonly position: number;
  readonly available: ReadonlyMap<string, number>;
  /** Every seat that is not available. */
  readonly seats: ReadonlyMap<string, SeatCacheStatus>;
}

export interface CachedAvailability {
  /**
   * The position these counts are true at: the concerts projection's position when the cache
   * knows it is complete up to there, else the last change of this concert (a lower bound).
   */
  readonly position: number;
  /** Available seats per ticket class, in the concert's class order. */
  readonly classes: ReadonlyMap<string, number>;
}

/** The field that keeps the class order (a hash has none of its own). */
const ORDER_FIELD = '_order';

const STATUS_CODE: Record<SeatCacheStatus, string> = { reserved: 'r', booked: 'b' };

// KEYS: avail, seats. ARGV: mode, previous, position, class count, class id/count pairs…, seat
// id/code pairs… ('' = available). Mode 'apply' adds a change on top of exactly `previous`
// (a gap drops both keys: -1); mode 'replace' writes a whole image. Neither goes back in time.
const WRITE = `
local current = tonumber(redis.call('HGET', KEYS[1], '_pos') or '0')
local position = tonumber(ARGV[3])
if current >= position then return 0 end
if ARGV[1] == 'replace' then
  redis.call('DEL', KEYS[1], KEYS[2])
elseif current ~= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  return -1
end
local classes = tonumber(ARGV[4])
local i = 5
for _ = 1, classes do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[2], ARGV[i]) else redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
  i = i + 2
end
redis.call('HSET', KEYS[1], '_pos', position)
redis.call('HSET', KEYS[2], '_pos', position)
return 1
`;

// KEYS: the generation pointer. ARGV: key prefix, concert id. One round trip for the hot path:
// the concert's hash and the position the whole cache is complete to.
const READ_AVAILABILITY = `
local generation = redis.call('GET', KEYS[1]) or '1'
local base = ARGV[1] .. ':g' .. generation
return { redis.call('HGETALL', base .. ':avail:' .. ARGV[2]), redis.call('GET', base .. ':position') or '0' }
`;

// KEYS: the position key. ARGV: position. Only ever moves forward.
const ADVANCE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
`;

function writeArguments(
  mode: 'apply' | 'replace',
  previous: number,
  position: number,
  available: ReadonlyMap<string, number>,
  seats: ReadonlyMap<string, SeatCacheStatus | null>,
): (string | number)[] {
  const args: (string | number)[] = [mode, previous, position, available.size + 1, ORDER_FIELD, [...available.keys()].join(',')];
  for (const [classId, count] of available) args.push(classId, count);
  for (const [seatId, status] of seats) args.push(seatId, status === null ? '' : STATUS_CODE[status]);
  return args;
}

type ScriptCall = (keys: string[], args: (string | number)[]) => Promise<unknown>;

export class SeatCache {
  readonly #write: ScriptCall;
  readonly #read: ScriptCall;
  readonly #advance: ScriptCall;

  constructor(private readonly redis: Redis, private readonly prefix = 'boxoffice:seats') {
    this.#write = this.#script('boxofficeSeatsWrite', WRITE, 2);
    this.#read = this.#script('boxofficeSeatsRead', READ_AVAILABILITY, 1);
    this.#advance = this.#script('boxofficeSeatsAdvance', ADVANCE, 1);
  }

  /** ioredis runs a defined command by EVALSHA, loading the script once per connection. */
  #script(name: string, lua: string, numberOfKeys: number): ScriptCall {
    const client = this.redis as Redis & Record<string, unknown>;
    if (typeof client[name] !== 'function') this.redis.defineCommand(name, { lua, numberOfKeys });
    return async (keys, args) => {
      const command = client[name] as (...all: (string | number)[]) => Promise<unknown>;
      return command.call(this.redis, ...keys, ...args);
    };
  }

  #keys(generation: number, concertId: string): [string, string] {
    return [`${this.prefix}:g${generation}:avail:${concertId}`, `${this.prefix}:g${generation}:seats:${concertId}`];
  }

  get generationKey(): string {
    return `${this.prefix}:generation`;
  }

  /** Applies changes; answers the concerts whose keys had a gap and were dropped (refill them). */
  async apply(generation: number, changes: readonly ConcertCacheChange[]): Promise<string[]> {
    const gaps: string[] = [];
    await Promise.all(changes.map(async (change) => {
      const args = writeArguments('apply', change.previous, change.position, change.available, change.seats);
      const result = await this.#write(this.#keys(generation, change.concertId), args);
      if (Number(result) === -1) gaps.push(change.concertId);
    }));
    return gaps;
  }

  /** Writes a concert's whole image, unless the keys already hold that position or a newer one. */
  async replace(generation: number, image: ConcertCacheImage): Promise<void> {
    await this.#write(this.#keys(generation, image.concertId), writeArguments('replace', 0, image.position, image.available, image.seats));
  }

  /**
   * Records that every concert key of a generation is true at `position` (or was dropped):
   * readers answer with it. Never moves back.
   */
  async advance(generation: number, position: number): Promise<void> {
    await this.#advance([`${this.prefix}:g${generation}:position`], [position]);
  }

  /** Points readers at a generation's keys and drops the older generations'. */
  async activate(generation: number): Promise<void> {
    await this.redis.set(this.generationKey, generation);
    for (let old = generation - 1; old >= Math.max(1, generation - 3); old--) await this.#dropGeneration(old);
  }

  async #dropGeneration(generation: number): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:g${generation}:*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** The live availability of a concert, or undefined when the cache does not hold it. */
  async availability(concertId: string): Promise<CachedAvailability | undefined> {
    const [flat, complete] = await this.#read([this.generationKey], [this.prefix, concertId]) as [string[], string];
    if (flat.length === 0) return undefined;
    const fields = new Map<string, string>();
    for (let i = 0; i < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
    const order = fields.get(ORDER_FIELD);
    const changed = Number(fields.get('_pos'));
    if (order === undefined || !Number.isSafeInteger(changed)) return undefined;
    const position = Math.max(changed, Number(complete) || 0);
    const classes = new Map<string, number>();
    for (const classId of order.split(',')) {
      const count = Number(fields.get(classId));
      if (!Number.isSafeInteger(count)) return undefined;
      classes.set(classId, count);
    }
    return { position, classes };
  }

  /** The cached status of every seat that is not available, or undefined when not cached. */
  async seatStatuses(generation: number, concertId: string): Promise<Map<string, SeatCacheStatus> | undefined> {
    const all = await this.redis.hgetall(this.#keys(generation, concertId)[1]);
    if (Object.keys(all).length === 0) return undefined;
    const statuses = new Map<string, SeatCacheStatus>();
    for (const [seatId, code] of Object.entries(all)) {
      if (seatId !== '_pos') statuses.set(seatId, code === 'b' ? 'booked' : 'reserved');
    }
    return statuses;
  }
}
