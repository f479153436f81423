/**
 * A map from tuples of values to V, one level per tuple element, so a lookup builds no key
 * string. The aggregator keys rows by several fields (a resource by node, container and pid; a
 * stack by its kernel, symbol, address and build-id strings); joining them into one string costs a
 * concatenation and a hash of the whole key on every row. Both row sources hand out one string
 * object per distinct long text (the gRPC decoder's TextCache, the JSON parser's LongStringCache),
 * and V8 keeps a string's hash in the object, so a probe per element is much cheaper.
 *
 * Elements compare as Map keys do (SameValueZero: strings by content, NaN equal to NaN, 0n to 0n).
 * A level with one distinct element, the common case below the first (a user stack's addresses
 * and build ids follow from its symbols), keeps it without a Map.
 */

/**
 * Whether the elements of `tuple` from `from` on can key a TupleTrie usefully: objects and arrays
 * read from rows are fresh on every row, so they would never match (key them by content instead).
 */
export function isPrimitiveTuple(tuple: readonly unknown[], from = 0): boolean {
  for (let i = from; i < tuple.length; i++) {
    const v = tuple[i];
    if (typeof v === 'object' && v !== null) return false;
  }
  return true;
}

/** Marks a level that holds no element yet (no field value is this object). */
const EMPTY: unique symbol = Symbol('empty level');

class Level {
  /** The only element seen at this level, while there is one. */
  soleKey: unknown = EMPTY;
  sole: unknown = undefined;
  /** All elements, once there are two or more. */
  many: Map<unknown, unknown> | undefined = undefined;

  find(key: unknown): unknown {
    if (this.many !== undefined) return this.many.get(key);
    const sole = this.soleKey;
    // SameValueZero, as Map keys compare (x !== x only for NaN).
    return sole === key || (sole !== sole && key !== key) ? this.sole : undefined;
  }

  put(key: unknown, value: unknown): void {
    if (this.many !== undefined) this.many.set(key, value);
    else if (this.soleKey === EMPTY) {
      this.soleKey = key;
      this.sole = value;
    } else if (this.find(key) !== undefined) this.sole = value;
    else {
      this.many = new Map([
        [this.soleKey, this.sole],
        [key, value],
      ]);
      this.soleKey = EMPTY;
      this.sole = undefined;
    }
  }
}

/** Tuples of one length, chosen by the caller (the fields of one spec or policy). */
export class TupleTrie<V extends object> {
  private _root = new Level();
  private _size = 0;

  /** Tuples stored. */
  get size(): number {
    return this._size;
  }

  get(tuple: readonly unknown[]): V | undefined {
    let at: unknown = this._root;
    for (let i = 0; i < tuple.length; i++) {
      at = (at as Level).find(tuple[i]);
      if (at === undefined) return undefined;
    }
    return tuple.length === 0 ? (this._root.find(EMPTY) as V | undefined) : (at as V);
  }

  set(tuple: readonly unknown[], value: V): void {
    if (tuple.length === 0) {
      if (this._root.find(EMPTY) === undefined) this._size++;
      this._root.put(EMPTY, value);
      return;
    }
    let level = this._root;
    const last = tuple.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.find(tuple[i]) as Level | undefined;
      if (next === undefined) {
        next = new Level();
        level.put(tuple[i], next);
      }
      level = next;
    }
    if (level.find(tuple[last]) === undefined) this._size++;
    level.put(tuple[last], value);
  }

  clear(): void {
    this._root = new Level();
    this._size = 0;
  }
}
