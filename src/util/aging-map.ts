/**
 * A cache that forgets entries no flush has used for a while. Every entry remembers the last
 * generation (flush) that used it; `advance()`, called at each drain, starts a new generation and
 * drops entries unused in the last `generations` ones. Entries that keep recurring (popular stacks,
 * their strings) therefore survive every flush instead of being rebuilt, while memory stays bounded
 * by what `generations` consecutive flushes used.
 *
 * With a retention budget, entries older than that are not dropped at once: whole older
 * generations are kept, newest first, while their summed weight stays within the budget. Stacks
 * that recur every few flushes (the long tail of a Zipf-like workload) then stay cached too, and
 * the extra memory is bounded by the budget.
 */

interface Aged<V> {
  readonly value: V;
  used: number;
}

export interface AgingRetention<V> {
  /** Summed weight of the entries kept beyond the last `generations` generations; ≥ 0. */
  readonly budget: number;
  /** Weight of one entry (e.g. the bytes it holds). */
  readonly weigh: (value: V) => number;
}

export interface AgingMapOptions<V> {
  /**
   * Called the first time in a generation that an entry of an earlier one is used, so owners can
   * mark whatever the value depends on as used too.
   */
  readonly onRevive?: (value: V) => void;
  readonly retention?: AgingRetention<V>;
}

export class AgingMap<K, V> {
  private readonly _entries = new Map<K, Aged<V>>();
  private readonly _onRevive: ((value: V) => void) | undefined;
  private readonly _retention: AgingRetention<V> | undefined;
  private _generation = 0;

  /** @param _generations how many flushes (this one included) an unused entry survives at least; ≥ 1. */
  constructor(
    private readonly _generations: number,
    options: AgingMapOptions<V> = {},
  ) {
    if (!(_generations >= 1)) throw new RangeError('an AgingMap keeps at least one generation');
    this._onRevive = options.onRevive;
    this._retention = options.retention;
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

  /**
   * Starts the next generation and forgets entries last used before the oldest generation kept,
   * which it returns: the last `generations` ones, plus older ones the retention budget holds.
   * Owners age what the kept entries depend on with the same cutoff.
   */
  advance(): number {
    this._generation++;
    const oldest = this._oldestKept(this._generation - this._generations + 1);
    // forEach, not for-of: no [key, entry] pair is allocated per entry.
    this._entries.forEach((entry, key) => {
      if (entry.used < oldest) this._entries.delete(key);
    });
    return oldest;
  }

  clear(): void {
    this._entries.clear();
  }

  /** The oldest generation kept: `floor`, or older while the older generations fit the budget. */
  private _oldestKept(floor: number): number {
    const retention = this._retention;
    if (retention === undefined) return floor;
    const weights = new Map<number, number>();
    this._entries.forEach((entry) => {
      if (entry.used < floor)
        weights.set(entry.used, (weights.get(entry.used) ?? 0) + retention.weigh(entry.value));
    });
    let oldest = floor;
    let held = 0;
    // Newest first: the oldest generations are the ones given up.
    for (const generation of [...weights.keys()].sort((a, b) => b - a)) {
      held += weights.get(generation) ?? 0;
      if (held > retention.budget) break;
      oldest = generation;
    }
    return oldest;
  }
}
