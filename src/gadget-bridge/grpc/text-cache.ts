import { grownArray } from '../../util/grown-array.js';

/**
 * Decoded strings of one field, remembered by their bytes. IG rows repeat most of their text
 * (node, pod, container and image names, the same stacks fetch after fetch); decoding each copy
 * costs a native call and a fresh string (~100 ns, more for a stack, plus its garbage), and
 * downstream the aggregator hashes every fresh string again when it interns stacks. A hit costs
 * a cheap hash (whole words of short texts, samples of long ones), a probe of a small table and a
 * byte comparison, and returns the same string object, whose hash V8 has already computed.
 *
 * The remembered bytes sit back to back in one arena per cache and the table is a typed array, so
 * a lookup touches a few adjacent cache lines instead of a Map entry, an entry object, a typed array
 * and its buffer: with ~17 text fields per profile_cpu row, memory latency was most of the cost.
 *
 * Correctness never depends on the hash: a hit is only taken after comparing every byte.
 */

/**
 * Default memory budget shared by all text caches of one row decoder (one datasource), counting
 * each text twice (the string and the arena copy compared against) plus an overhead. Past it all
 * of them start over. 16 MiB (at most ~8 MiB of strings on the exporter's ~192 MB heap, often
 * the same strings the aggregator keeps anyway) holds a few thousand distinct kilobyte stacks.
 */
export const DEFAULT_TEXT_BUDGET_BYTES = 16 * 1024 * 1024;
/** Approximate bytes per entry beyond its text: table slot, index arrays, string header. */
const ENTRY_OVERHEAD_BYTES = 64;
/** Longer texts are decoded but not remembered: rare, and comparing them costs about as much. */
const MAX_CACHED_LENGTH = 16 * 1024;
/** Up to this length texts are hashed whole and compared in JS (faster than a native call). */
const SHORT_MAX = 64;
/** FNV-style multiplier and a golden-ratio seed for the length. */
const HASH_PRIME = 0x01000193;
const LENGTH_SEED = 0x9e3779b1;
/** Initial sizes: table slots (a power of two), entries and arena bytes; all double as needed. */
const INITIAL_SLOTS = 64;
const INITIAL_ENTRIES = 32;
const INITIAL_ARENA_BYTES = 4096;

/** Node's native slicing/comparison on Buffer (utf8Slice is untyped in @types/node). */
export type NativeText = Buffer & { utf8Slice(start: number, end: number): string };

export interface TextSource {
  readonly bytes: Uint8Array;
  /** A DataView over the same bytes as `bytes`. */
  readonly view: DataView;
  readonly text: NativeText;
}

/** Short texts: every byte, four at a time. Long ones: 8 bytes at each end and in the middle. */
function hashOf(src: TextSource, start: number, end: number): number {
  const { view } = src;
  const length = end - start;
  let h = Math.imul(length, LENGTH_SEED);
  if (length <= SHORT_MAX) {
    let i = start;
    for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getUint32(i, true), HASH_PRIME);
    for (; i < end; i++) h = Math.imul(h ^ src.bytes[i]!, HASH_PRIME);
    return h;
  }
  const mid = start + ((length - 8) >> 1);
  h = Math.imul(h ^ view.getUint32(start, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(start + 4, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(mid, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(mid + 4, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(end - 8, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(end - 4, true), HASH_PRIME);
  return h;
}

/** Whether `a`'s bytes [at, at + end - start) equal `src.bytes[start, end)`. */
export function sameBytes(a: TextSource, at: number, src: TextSource, start: number, end: number): boolean {
  const length = end - start;
  if (length > SHORT_MAX) return src.text.compare(a.text, at, at + length, start, end) === 0;
  const av = a.view;
  const { view } = src;
  let i = 0;
  for (; i + 4 <= length; i += 4)
    if (av.getUint32(at + i, true) !== view.getUint32(start + i, true)) return false;
  for (; i < length; i++) if (a.bytes[at + i] !== src.bytes[start + i]) return false;
  return true;
}

/** A byte budget several caches share; when it runs out, all of them start over. */
export class TextBudget {
  held = 0;
  /** Bumped on every start-over; a cache whose generation differs drops its entries. */
  generation = 0;

  constructor(readonly maxBytes = DEFAULT_TEXT_BUDGET_BYTES) {}
}

/** The remembered bytes, back to back (a TextSource, so sameBytes compares against it directly). */
class Arena implements TextSource {
  bytes: Uint8Array;
  view: DataView;
  text: NativeText;
  used = 0;

  constructor(capacity: number) {
    this.text = Buffer.allocUnsafeSlow(capacity) as NativeText;
    this.bytes = new Uint8Array(this.text.buffer, this.text.byteOffset, capacity);
    this.view = new DataView(this.text.buffer, this.text.byteOffset, capacity);
  }

  /** An arena of `capacity` bytes holding this one's texts at the same offsets. */
  grownTo(capacity: number): Arena {
    const grown = new Arena(capacity);
    grown.bytes.set(this.bytes.subarray(0, this.used));
    grown.used = this.used;
    return grown;
  }

  /** Copies `src.bytes[start, end)` in (the caller made room); returns where it starts. */
  append(src: TextSource, start: number, end: number): number {
    const at = this.used;
    this.bytes.set(src.bytes.subarray(start, end), at);
    this.used += end - start;
    return at;
  }
}

export class TextCache {
  private _arena = new Arena(INITIAL_ARENA_BYTES);
  /** Open addressing, linear probing: entry index + 1 per slot, 0 = empty; at most half full. */
  private _slots = new Int32Array(INITIAL_SLOTS);
  /** Per entry: full hash, arena offset, length, string. */
  private _hashes = new Int32Array(INITIAL_ENTRIES);
  private _offsets = new Int32Array(INITIAL_ENTRIES);
  private _lengths = new Int32Array(INITIAL_ENTRIES);
  private _values: string[] = [];
  private _count = 0;
  private _generation: number;

  constructor(private readonly budget = new TextBudget()) {
    this._generation = budget.generation;
  }

  /** Texts remembered. */
  get size(): number {
    return this._generation === this.budget.generation ? this._count : 0;
  }

  /** The UTF-8 text of `src.bytes[start, end)`. */
  decode(src: TextSource, start: number, end: number): string {
    const length = end - start;
    if (length === 0) return '';
    if (length > MAX_CACHED_LENGTH) return src.text.utf8Slice(start, end);
    const { budget } = this;
    if (this._generation !== budget.generation) this._startOver();
    const hash = hashOf(src, start, end);
    const slots = this._slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let e = slots[slot]!; e !== 0; e = slots[slot]!) {
      const entry = e - 1;
      if (
        this._hashes[entry] === hash &&
        this._lengths[entry] === length &&
        sameBytes(this._arena, this._offsets[entry]!, src, start, end)
      )
        return this._values[entry]!;
      slot = (slot + 1) & mask;
    }
    const value = src.text.utf8Slice(start, end);
    const cost = 2 * length + ENTRY_OVERHEAD_BYTES;
    if (budget.held + cost > budget.maxBytes) {
      // Out of budget: every cache sharing it starts over (this one at once, the others on next use).
      budget.generation++;
      budget.held = 0;
      this._startOver();
      slot = hash & (this._slots.length - 1);
    }
    budget.held += cost;
    this._add(slot, hash, src, start, end, value);
    return value;
  }

  /** Adds an entry at `slot` (empty, found by the probe), then grows the table past half full. */
  private _add(slot: number, hash: number, src: TextSource, start: number, end: number, value: string): void {
    const entry = this._count++;
    if (entry === this._hashes.length) this._growEntries();
    this._hashes[entry] = hash;
    const needed = this._arena.used + end - start;
    if (needed > this._arena.bytes.length) {
      let capacity = this._arena.bytes.length * 2;
      while (capacity < needed) capacity *= 2;
      this._arena = this._arena.grownTo(capacity);
    }
    this._offsets[entry] = this._arena.append(src, start, end);
    this._lengths[entry] = end - start;
    this._values[entry] = value;
    this._slots[slot] = entry + 1;
    if (2 * this._count > this._slots.length) this._rehash(this._slots.length * 2);
  }

  private _growEntries(): void {
    this._hashes = grownArray(this._hashes);
    this._offsets = grownArray(this._offsets);
    this._lengths = grownArray(this._lengths);
  }

  private _rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let entry = 0; entry < this._count; entry++) {
      let slot = this._hashes[entry]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this._slots = slots;
  }

  /** Forgets every text; keeps the arena's and the arrays' memory for the texts to come. */
  private _startOver(): void {
    this._generation = this.budget.generation;
    this._slots.fill(0);
    this._values = [];
    this._count = 0;
    this._arena.used = 0;
  }
}
