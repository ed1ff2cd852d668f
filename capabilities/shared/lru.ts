/**
 * A Map that holds at most `capacity` entries and forgets the least recently used one
 * first: for state kept per key seen (Event aggregation, rate limits) where the keys
 * come from the cluster and their number has no bound of its own.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  /** `onEvict` hears of each entry dropped to make room (not of delete()). */
  constructor(
    readonly capacity: number,
    private readonly onEvict: (key: K, value: V) => void = () => {},
  ) {
    if (!(capacity >= 1)) throw new Error(`Lru capacity must be at least 1, got ${capacity}`);
  }

  /** The value, now marked most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting moves the key to the young end.
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size <= this.capacity) return;
    const [oldKey, oldValue] = this.map.entries().next().value as [K, V];
    this.map.delete(oldKey);
    this.onEvict(oldKey, oldValue);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
