/**
 * Sets `key` as the newest entry of an insertion-ordered Map that keeps at most `max` entries:
 * the oldest go. For the caches a sale fills with one entry per buyer or concert, which must not
 * grow with every one ever seen.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
