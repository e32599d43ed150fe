/**
 * The waiting room's status board: what `GET /api/v1/queue/:token` needs, and nothing else.
 * Written by the queue projection, read by the query API's hot path: one poll is one round trip
 * (a Lua script reads the place's hash and its concert's), never the event store or MySQL.
 *
 * Redis (`${REDIS_KEY_PREFIX}:queue:…`), or memory in the embedded default with no REDIS_URL:
 *   queue:place:<placeId>     c concert id, u user id, i index in lottery-then-arrival order (-1: none yet),
 *                             p pass id, x its expiry (epoch ms), xs the same as text ('' without a pass),
 *                             s what became of the pass ('' | 'used' | 'expired'), _pos
 *   queue:concert:<concertId> a admitted count, so sold out ('1'/'0'), o opens_at (epoch ms, '' unknown),
 *                             r recent admissions per second ('0': unknown), _pos
 * Every write carries the position of the batch it came from and applies only above the key's
 * `_pos`: a replay (at-least-once) changes nothing, and a key never goes back in time. A key's
 * fields are always the whole of its state at `_pos`, so a write never half-updates one.
 */
import type { Redis } from 'ioredis';

export interface BoardPlace {
  readonly placeId: string;
  readonly concertId: string;
  readonly userId: string;
  /** 0-based index in lottery-then-arrival order; -1 before the lottery. */
  readonly index: number;
  readonly pass: { readonly passId: string; readonly expiresAtMs: number; readonly expiresAt: string } | null;
  readonly spent: '' | 'used' | 'expired';
}

export interface BoardConcert {
  readonly concertId: string;
  readonly admitted: number;
  readonly soldOut: boolean;
  /** Epoch ms; NaN when unknown. */
  readonly opensAtMs: number;
  /** Recent admissions per second; 0 when not known yet. */
  readonly admissionRate: number;
}

/** One poll's answer: the place and its concert as the board holds them. */
export interface BoardReading {
  readonly concertId: string;
  readonly userId: string;
  readonly index: number;
  /** '' without a pass. */
  readonly passId: string;
  readonly expiresAtMs: number;
  readonly expiresAt: string;
  readonly spent: string;
  readonly admitted: number;
  readonly soldOut: boolean;
  readonly opensAtMs: number;
  readonly admissionRate: number;
}

export interface BoardWrites {
  /** The position of the batch these states are true at. */
  readonly position: number;
  readonly places: readonly BoardPlace[];
  readonly concerts: readonly BoardConcert[];
}

export interface QueueBoard {
  write(writes: BoardWrites): Promise<void>;
  /** The place and its concert, or undefined when the board holds no such place. */
  read(placeId: string): Promise<BoardReading | undefined>;
}

function placeFields(place: BoardPlace): string[] {
  const pass = place.pass;
  return [
    'c', place.concertId, 'u', place.userId, 'i', String(place.index),
    'p', pass === null ? '' : pass.passId, 'x', pass === null ? '' : String(pass.expiresAtMs), 'xs', pass === null ? '' : pass.expiresAt,
    's', place.spent,
  ];
}

function concertFields(concert: BoardConcert): string[] {
  return [
    'a', String(concert.admitted), 'so', concert.soldOut ? '1' : '0',
    'o', Number.isFinite(concert.opensAtMs) ? String(concert.opensAtMs) : '', 'r', String(concert.admissionRate),
  ];
}

// KEYS: the hash. ARGV: position, then field/value pairs: the key's whole state at that position.
const WRITE = `
local current = tonumber(redis.call('HGET', KEYS[1], '_pos') or '0')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], '_pos', unpack(ARGV))
return 1
`;

// KEYS: the places' hashes. ARGV: the concert keys' prefix. Every place asked for, each with its
// concert, in one trip: polls that arrive together share one call (and each concert is read once).
const READ = `
local rows = {}
local concerts = {}
for k = 1, #KEYS do
  local place = redis.call('HMGET', KEYS[k], 'c', 'u', 'i', 'p', 'x', 'xs', 's')
  if not place[1] then
    rows[k] = false
  else
    local concert = concerts[place[1]]
    if not concert then
      concert = redis.call('HMGET', ARGV[1] .. place[1], 'a', 'so', 'o', 'r')
      concerts[place[1]] = concert
    end
    rows[k] = { place[1], place[2], place[3], place[4], place[5], place[6], place[7], concert[1] or '0', concert[2] or '0', concert[3] or '', concert[4] or '0' }
  end
end
return rows
`;

/** Polls read in one call at most. */
const READ_BATCH = 256;

/** Commands per pipeline: a lottery of 100,000 places goes out in chunks, not one 100,000-command write. */
const CHUNK = 1_000;

type Written = Redis & {
  boxofficeQueueWrite(key: string, ...args: string[]): Promise<number>;
  boxofficeQueueRead(keyCount: number, ...keysThenPrefix: string[]): Promise<(string[] | null)[]>;
};

function numberOr(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  return Number.isFinite(value) ? value : fallback;
}

function reading(row: readonly string[]): BoardReading {
  return {
    concertId: row[0]!,
    userId: row[1]!,
    index: numberOr(row[2], -1),
    passId: row[3]!,
    expiresAtMs: numberOr(row[4], Number.NaN),
    expiresAt: row[5]!,
    spent: row[6]!,
    admitted: numberOr(row[7], 0),
    soldOut: row[8] === '1',
    opensAtMs: numberOr(row[9], Number.NaN),
    admissionRate: numberOr(row[10], 0),
  };
}

export class RedisQueueBoard implements QueueBoard {
  readonly #redis: Written;
  readonly #placePrefix: string;
  readonly #concertPrefix: string;
  /** Polls waiting for the next call (sent on the next tick, together). */
  #waiting: { readonly key: string; readonly resolve: (reading: BoardReading | undefined) => void; readonly reject: (error: unknown) => void }[] = [];
  readonly #send = (): void => this.#readWaiting();

  /** `prefix`: REDIS_KEY_PREFIX (the keys are `${prefix}:queue:…`). */
  constructor(redis: Redis, prefix = 'boxoffice') {
    const client = redis as Redis & Record<string, unknown>;
    if (typeof client.boxofficeQueueWrite !== 'function') redis.defineCommand('boxofficeQueueWrite', { lua: WRITE, numberOfKeys: 1 });
    if (typeof client.boxofficeQueueRead !== 'function') redis.defineCommand('boxofficeQueueRead', { lua: READ });
    this.#redis = redis as Written;
    this.#placePrefix = `${prefix}:queue:place:`;
    this.#concertPrefix = `${prefix}:queue:concert:`;
  }

  placeKey(placeId: string): string {
    return this.#placePrefix + placeId;
  }

  concertKey(concertId: string): string {
    return this.#concertPrefix + concertId;
  }

  async write({ position, places, concerts }: BoardWrites): Promise<void> {
    const writes: [string, string[]][] = [
      ...places.map((place): [string, string[]] => [this.placeKey(place.placeId), placeFields(place)]),
      ...concerts.map((concert): [string, string[]] => [this.concertKey(concert.concertId), concertFields(concert)]),
    ];
    const at = String(position);
    for (let start = 0; start < writes.length; start += CHUNK) {
      const pipeline = this.#redis.pipeline() as unknown as { boxofficeQueueWrite(key: string, ...args: string[]): void; exec(): Promise<[Error | null, unknown][] | null> };
      for (const [key, fields] of writes.slice(start, start + CHUNK)) pipeline.boxofficeQueueWrite(key, at, ...fields);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('the queue board pipeline was not run');
    }
  }

  read(placeId: string): Promise<BoardReading | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ key: this.#placePrefix + placeId, resolve, reject }) === 1) process.nextTick(this.#send);
    });
  }

  #readWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let start = 0; start < waiting.length; start += READ_BATCH) {
      const batch = waiting.slice(start, start + READ_BATCH);
      this.#redis.boxofficeQueueRead(batch.length, ...batch.map((poll) => poll.key), this.#concertPrefix).then(
        (rows) => {
          for (let k = 0; k < batch.length; k++) {
            const row = rows[k];
            batch[k]!.resolve(row === null || row === undefined ? undefined : reading(row));
          }
        },
        (error: unknown) => {
          for (const poll of batch) poll.reject(error);
        },
      );
    }
  }
}

/** The board of the embedded default: the same rules, in this process's memory. */
export class MemoryQueueBoard implements QueueBoard {
  readonly #places = new Map<string, { readonly position: number; readonly place: BoardPlace }>();
  readonly #concerts = new Map<string, { readonly position: number; readonly concert: BoardConcert }>();

  async write({ position, places, concerts }: BoardWrites): Promise<void> {
    for (const place of places) {
      if ((this.#places.get(place.placeId)?.position ?? 0) < position) this.#places.set(place.placeId, { position, place });
    }
    for (const concert of concerts) {
      if ((this.#concerts.get(concert.concertId)?.position ?? 0) < position) this.#concerts.set(concert.concertId, { position, concert });
    }
  }

  async read(placeId: string): Promise<BoardReading | undefined> {
    const place = this.#places.get(placeId)?.place;
    if (place === undefined) return undefined;
    const concert = this.#concerts.get(place.concertId)?.concert;
    return {
      concertId: place.concertId,
      userId: place.userId,
      index: place.index,
      passId: place.pass?.passId ?? '',
      expiresAtMs: place.pass?.expiresAtMs ?? Number.NaN,
      expiresAt: place.pass?.expiresAt ?? '',
      spent: place.spent,
      admitted: concert?.admitted ?? 0,
      soldOut: concert?.soldOut ?? false,
      opensAtMs: concert?.opensAtMs ?? Number.NaN,
      admissionRate: concert?.admissionRate ?? 0,
    };
  }
}
