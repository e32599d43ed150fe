/**
 * The unwrapped data keys a process seals with, kept in fixed 32-byte slots of a few large
 * zero-filled Buffers, at most `capacity` of them, the oldest evicted first:
 * - not a Buffer of its own per key: that is an ArrayBuffer with memory outside the heap that V8
 *   accounts, sweeps and collects apart, and a sale caches a different user's key for every
 *   booking (in 8 alternating pairs of flash-sale rounds, 2026-12-07: 3,007 bookings/s with a
 *   Buffer each, 3,243 with these slots, means);
 * - not a slice of Node's shared pool: a kept slice keeps its whole 8 KiB block alive;
 * - not a string: a string can never be wiped, and a heap snapshot shows its characters.
 * A slot is zeroed as soon as its key is evicted or forgotten. A key handed out is a copy (a slice
 * of Node's pool, dropped young), so a slot can be reused while a caller still seals with it.
 */
import type { DataKey } from './seal.ts';

const KEY_BYTES = 32;
/** Slots per slab: 128 KiB each, allocated as the cache grows. */
const SLAB_SLOTS = 4_096;

export class KeySlots {
  readonly #slabs: Buffer[] = [];
  readonly #free: number[] = [];
  #allocated = 0;
  /** Insertion-ordered: the first entry is the oldest. */
  readonly #byUser = new Map<string, { readonly keyId: string; readonly slot: number }>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('a key cache holds at least one key');
  }

  get size(): number {
    return this.#byUser.size;
  }

  /** A copy of the user's key, or undefined. */
  get(userId: string): DataKey | undefined {
    const entry = this.#byUser.get(userId);
    return entry && { keyId: entry.keyId, key: Buffer.from(this.#bytes(entry.slot)) };
  }

  /** Keeps the user's key as the newest; past capacity the oldest is evicted. */
  set(userId: string, key: DataKey): void {
    if (key.key.length !== KEY_BYTES) throw new Error(`a data key is ${KEY_BYTES} bytes`);
    this.delete(userId);
    // Evicted before a slot is taken, so a full cache reuses the evicted key's slot (zeroed) and
    // never holds more than `capacity`: why this is not lib/bounded-map.ts's setNewest.
    for (const oldest of this.#byUser.keys()) {
      if (this.#byUser.size < this.capacity) break;
      this.delete(oldest);
    }
    const slot = this.#free.pop() ?? this.#newSlot();
    key.key.copy(this.#bytes(slot));
    this.#byUser.set(userId, { keyId: key.keyId, slot });
  }

  /** Forgets the user's key: its slot is zeroed before it can be reused. */
  delete(userId: string): void {
    const entry = this.#byUser.get(userId);
    if (entry === undefined) return;
    this.#byUser.delete(userId);
    this.#bytes(entry.slot).fill(0);
    this.#free.push(entry.slot);
  }

  /** Whether any slot holds these bytes: false for every key evicted or forgotten. */
  holds(bytes: Buffer): boolean {
    for (let slot = 0; slot < this.#allocated; slot++) if (this.#bytes(slot).equals(bytes)) return true;
    return false;
  }

  #newSlot(): number {
    const slot = this.#allocated++;
    if (slot % SLAB_SLOTS === 0) this.#slabs.push(Buffer.alloc(SLAB_SLOTS * KEY_BYTES));
    return slot;
  }

  #bytes(slot: number): Buffer {
    const slab = this.#slabs[Math.floor(slot / SLAB_SLOTS)] as Buffer;
    const start = (slot % SLAB_SLOTS) * KEY_BYTES;
    return slab.subarray(start, start + KEY_BYTES);
  }
}
