/**
 * Stack strings (often kilobytes, fresh objects on every row) → small stable ids. A Map keyed by
 * the string would hash every character of every row's stack strings; here only a sample of
 * characters is hashed and the (rare) candidates with the same sample are compared with `===`,
 * which for a hit is a plain memory compare. Entries age like AgingMap's: unused for `generations`
 * flushes, they are forgotten, and ids are never reused.
 */

/** Characters hashed at each end of a string: stacks differ most often at the leaf (start). */
const EDGE_CHARS = 16;
/** Characters hashed in between, evenly spread (the spacing is not a whole number, so fixed-width fields do not alias). */
const SPREAD_CHARS = 32;
/** Shorter strings go to a plain Map: hashing them in full is as cheap as sampling. */
export const SAMPLE_MIN_LENGTH = 2 * EDGE_CHARS + SPREAD_CHARS;
/**
 * Entries per sampled hash; further strings with that hash go to a plain Map, so strings that differ
 * only where no character is sampled cost at most this many compares more than a Map lookup.
 */
const BUCKET_LIMIT = 4;

interface Interned {
  readonly value: string;
  readonly id: number;
  /** Generation (flush) that last used the string. */
  used: number;
}

/** FNV-1a-like mix of one UTF-16 unit into a 32-bit hash. */
function mix(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, 0x01000193);
}

/**
 * Hash of the length, both ends and an even spread of a long string's characters (for strings of
 * SAMPLE_MIN_LENGTH or more: shorter ones are better hashed in full).
 */
export function sampledHash(s: string): number {
  const n = s.length;
  let h = mix(0x811c9dc5, n);
  for (let i = 0; i < EDGE_CHARS; i++) h = mix(h, s.charCodeAt(i));
  for (let i = n - EDGE_CHARS; i < n; i++) h = mix(h, s.charCodeAt(i));
  const step = (n - 2 * EDGE_CHARS) / (SPREAD_CHARS + 1);
  for (let k = 1; k <= SPREAD_CHARS; k++) h = mix(h, s.charCodeAt(EDGE_CHARS + Math.floor(k * step)));
  return h;
}

export class StringInterner {
  private readonly _buckets = new Map<number, Interned[]>();
  /** Short strings, and long ones whose bucket is full. */
  private readonly _exact = new Map<string, Interned>();
  private _lastId = 0;
  private _generation = 0;
  private _size = 0;

  /** @param _generations flushes (the current one included) an unused string survives; ≥ 1. */
  constructor(private readonly _generations: number) {}

  /** The id of a string (≥ 1); equal strings get equal ids while the string stays remembered. */
  idOf(value: string): number {
    if (value.length < SAMPLE_MIN_LENGTH) return this._exactId(value);
    const hash = sampledHash(value);
    const bucket = this._buckets.get(hash);
    if (bucket !== undefined) {
      for (let i = 0; i < bucket.length; i++) {
        const entry = bucket[i] as Interned;
        if (entry.value === value) {
          entry.used = this._generation;
          return entry.id;
        }
      }
    }
    // A miss may still be a string that overflowed into the exact map while its bucket was full
    // (since emptied by advance()); it must keep its id, so look there before adding.
    const overflowed = this._exact.get(value);
    if (overflowed !== undefined) {
      overflowed.used = this._generation;
      return overflowed.id;
    }
    if (bucket === undefined) this._buckets.set(hash, [this._new(value)]);
    else if (bucket.length < BUCKET_LIMIT) bucket.push(this._new(value));
    else this._exact.set(value, this._new(value));
    return this._lastId;
  }

  /** Strings remembered. */
  get size(): number {
    return this._size;
  }

  /**
   * Starts the next generation (at each flush) and forgets strings the last ones did not use, or,
   * given `keepFrom`, strings last used before that generation when it is older (see FrameTable).
   */
  advance(keepFrom?: number): void {
    this._generation++;
    const oldest = Math.min(this._generation - this._generations + 1, keepFrom ?? Infinity);
    // forEach, not for-of: no [key, entry] pair is allocated per entry.
    this._buckets.forEach((bucket, hash) => {
      if (bucket.every((e) => e.used >= oldest)) return;
      const kept = bucket.filter((e) => e.used >= oldest);
      this._size -= bucket.length - kept.length;
      if (kept.length === 0) this._buckets.delete(hash);
      else this._buckets.set(hash, kept);
    });
    this._exact.forEach((entry, value) => {
      if (entry.used < oldest) {
        this._exact.delete(value);
        this._size--;
      }
    });
  }

  private _exactId(value: string): number {
    const entry = this._exact.get(value);
    if (entry !== undefined) {
      entry.used = this._generation;
      return entry.id;
    }
    this._exact.set(value, this._new(value));
    return this._lastId;
  }

  private _new(value: string): Interned {
    this._size++;
    return { value, id: ++this._lastId, used: this._generation };
  }
}
