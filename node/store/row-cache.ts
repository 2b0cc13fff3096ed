/**
 * The bounded read-through cache the repositories keep of their own rows
 * (key states, credential DIDs, opened custody rows, agents' hosts): the
 * oldest entry goes first when it is full. Each owner writes it through or
 * drops entries where its table changes, and clears it on any rollback (the
 * store's transaction runner). Bounds are listed in node/cache-bounds.ts.
 */
export class RowCache<V> {
  readonly #map = new Map<string, V>()

  constructor(private readonly max: number) {}

  /** The kept value of `key`, else `load()`, kept unless it is undefined. */
  read(key: string, load: () => V | undefined): V | undefined {
    const hit = this.#map.get(key)
    if (hit !== undefined) return hit
    const value = load()
    if (value !== undefined) this.set(key, value)
    return value
  }

  /** Keep `value` for `key` (as the newest entry). */
  set(key: string, value: V): void {
    this.#map.delete(key)
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!)
    this.#map.set(key, value)
  }

  /** True when a value is kept for `key`. */
  has(key: string): boolean {
    return this.#map.has(key)
  }

  /** Drop the value kept for `key`. */
  delete(key: string): void {
    this.#map.delete(key)
  }

  /** Every kept entry. */
  entries(): IterableIterator<[string, V]> {
    return this.#map.entries()
  }

  /** Drop everything (a rollback may have undone a write). */
  clear(): void {
    this.#map.clear()
  }
}
