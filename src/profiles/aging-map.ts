/**
 * A cache that forgets entries no flush has used for a while. Every entry remembers the last
 * generation (flush) that used it; `advance()`, called at each drain, starts a new generation and
 * drops entries unused in the last `generations` ones. Entries that keep recurring (popular stacks,
 * their strings) therefore survive every flush instead of being rebuilt, while memory stays bounded
 * by what `generations` consecutive flushes used.
 */

interface Aged<V> {
  readonly value: V;
  used: number;
}

export class AgingMap<K, V> {
  private readonly _entries = new Map<K, Aged<V>>();
  private _generation = 0;

  /**
   * @param _generations how many flushes (this one included) an unused entry survives; ≥ 1.
   * @param _onRevive called the first time in a generation that an entry of an earlier one is used,
   *   so owners can mark whatever the value depends on as used too.
   */
  constructor(
    private readonly _generations: number,
    private readonly _onRevive?: (value: V) => void,
  ) {
    if (!(_generations >= 1)) throw new RangeError('an AgingMap keeps at least one generation');
  }

  get(key: K): V | undefined {
    const entry = this._entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.used !== this._generation) {
      entry.used = this._generation;
      this._onRevive?.(entry.value);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this._entries.set(key, { value, used: this._generation });
  }

  get size(): number {
    return this._entries.size;
  }

  /** Starts the next generation and forgets what the last `generations` ones did not use. */
  advance(): void {
    this._generation++;
    const oldest = this._generation - this._generations + 1;
    // forEach, not for-of: no [key, entry] pair is allocated per entry.
    this._entries.forEach((entry, key) => {
      if (entry.used < oldest) this._entries.delete(key);
    });
  }

  clear(): void {
    this._entries.clear();
  }
}
