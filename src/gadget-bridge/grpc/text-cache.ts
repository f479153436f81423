/**
 * Decoded strings of one field, remembered by their bytes. IG rows repeat most of their text
 * (node, pod, container and image names, the same stacks fetch after fetch); decoding each copy
 * costs a native call and a fresh string (~100 ns, more for a stack, plus its garbage), and
 * downstream the aggregator hashes every fresh string again when it interns stacks. A hit costs
 * a cheap hash (whole words of short texts, samples of long ones), one Map lookup and a byte
 * comparison, and returns the same string object, whose hash V8 has already computed.
 *
 * Correctness never depends on the hash: a hit is only taken after comparing every byte.
 */

/**
 * Default memory budget shared by all text caches of one row decoder (one datasource), counting
 * each text twice (the string and the byte copy compared against) plus an overhead. Past it all
 * of them start over. 16 MiB (at most ~8 MiB of strings on the exporter's ~192 MB heap, often
 * the same strings the aggregator keeps anyway) holds a few thousand distinct kilobyte stacks.
 */
export const DEFAULT_TEXT_BUDGET_BYTES = 16 * 1024 * 1024;
/** Approximate bytes per entry beyond its text: Map slot, entry, DataView and Uint8Array objects. */
const ENTRY_OVERHEAD_BYTES = 200;
/** Longer texts are decoded but not remembered: rare, and comparing them costs about as much. */
const MAX_CACHED_LENGTH = 16 * 1024;
/** Up to this length texts are hashed whole and compared in JS (faster than a native call). */
const SHORT_MAX = 64;
/** Map keys stay small integers (31-bit Smis on pointer-compressed V8); larger would be boxed. */
const SMI_MASK = 0x3fffffff;
/** FNV-style multiplier and a golden-ratio seed for the length. */
const HASH_PRIME = 0x01000193;
const LENGTH_SEED = 0x9e3779b1;

/** Node's native slicing/comparison on Buffer (utf8Slice is untyped in @types/node). */
export interface TextSource {
  readonly bytes: Uint8Array;
  /** A DataView over the same bytes as `bytes`. */
  readonly view: DataView;
  readonly text: Buffer & { utf8Slice(start: number, end: number): string };
}

export interface Entry {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly value: string;
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
    return h & SMI_MASK;
  }
  const mid = start + ((length - 8) >> 1);
  h = Math.imul(h ^ view.getUint32(start, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(start + 4, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(mid, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(mid + 4, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(end - 8, true), HASH_PRIME);
  h = Math.imul(h ^ view.getUint32(end - 4, true), HASH_PRIME);
  return h & SMI_MASK;
}

/** Whether `entry` holds exactly the bytes `src.bytes[start, end)`. */
export function sameBytes(entry: Entry, src: TextSource, start: number, end: number): boolean {
  const length = end - start;
  if (entry.bytes.length !== length) return false;
  if (length > SHORT_MAX) return src.text.compare(entry.bytes, 0, length, start, end) === 0;
  const { view } = src;
  let i = 0;
  for (; i + 4 <= length; i += 4)
    if (entry.view.getUint32(i, true) !== view.getUint32(start + i, true)) return false;
  for (; i < length; i++) if (entry.bytes[i] !== src.bytes[start + i]) return false;
  return true;
}

/** A byte budget several caches share; when it runs out, all of them start over. */
export class TextBudget {
  held = 0;
  /** Bumped on every start-over; a cache whose generation differs drops its entries. */
  generation = 0;

  constructor(readonly maxBytes = DEFAULT_TEXT_BUDGET_BYTES) {}
}

export class TextCache {
  private entries = new Map<number, Entry>();
  private generation: number;

  constructor(private readonly budget = new TextBudget()) {
    this.generation = budget.generation;
  }

  /** The UTF-8 text of `src.bytes[start, end)`. */
  decode(src: TextSource, start: number, end: number): string {
    const length = end - start;
    if (length === 0) return '';
    if (length > MAX_CACHED_LENGTH) return src.text.utf8Slice(start, end);
    const { budget } = this;
    if (this.generation !== budget.generation) {
      this.entries = new Map();
      this.generation = budget.generation;
    }
    const key = hashOf(src, start, end);
    const hit = this.entries.get(key);
    if (hit !== undefined && sameBytes(hit, src, start, end)) return hit.value;
    const value = src.text.utf8Slice(start, end);
    const cost = 2 * length + ENTRY_OVERHEAD_BYTES;
    if (budget.held + cost > budget.maxBytes) {
      budget.generation++;
      budget.held = 0;
      this.entries = new Map();
      this.generation = budget.generation;
    } else if (hit !== undefined) {
      // A colliding entry is replaced: the newest text wins its key.
      budget.held -= 2 * hit.bytes.length + ENTRY_OVERHEAD_BYTES;
    }
    const bytes = src.bytes.slice(start, end);
    this.entries.set(key, { bytes, view: new DataView(bytes.buffer), value });
    budget.held += cost;
    return value;
  }
}
