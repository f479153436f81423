import { grownArray } from '../util/grown-array.js';

/**
 * Remembers which prefix-tree leaf a stack (its frame ids, root first) resolved to, across requests.
 * Exporters send the same stacks in every request, each time through a new request-local dictionary;
 * resolving one by walking the tree costs a hash probe per frame (~45 per stack on the benchmark's
 * requests, mostly cache misses on large tables), while this costs one hash over the frame ids and one
 * sequential compare with the stored copy. Every hit is verified against that copy, so a hash
 * collision can never attribute a sample to another stack.
 *
 * Bounded: when the stored frames or entries reach their limit, everything is forgotten and the
 * cache refills from the next stacks (the tree walk stays the fallback, so a miss only costs time).
 */

/** Stored frame ids at most (4 bytes each): ~46k stacks of the benchmark's mean depth of 45. */
const MAX_POOL_FRAMES = 1 << 21;
/** Entries at most; the slot table is kept at most half full. */
const MAX_ENTRIES = 1 << 17;
const INITIAL_ENTRIES = 1 << 12;
const INITIAL_POOL_FRAMES = 1 << 16;
/** Slot value for "empty"; slots hold entry index + 1. */
const EMPTY = 0;

/** A hash of `length` frame ids: 32-bit multiply-xorshift per id, then a final avalanche. */
export function framesHash(frames: Int32Array, length: number): number {
  let h = length;
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ frames[i]!, 0x9e3779b1);
    h ^= h >>> 16;
  }
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class StackLeafCache {
  private slots = new Int32Array(INITIAL_ENTRIES * 2);
  private hashes = new Int32Array(INITIAL_ENTRIES);
  private leaves = new Int32Array(INITIAL_ENTRIES);
  private starts = new Int32Array(INITIAL_ENTRIES);
  private lengths = new Int32Array(INITIAL_ENTRIES);
  private pool = new Int32Array(INITIAL_POOL_FRAMES);
  private entries = 0;
  private poolUsed = 0;

  get size(): number {
    return this.entries;
  }

  /** The leaf stored for these frames, or -1. */
  get(frames: Int32Array, length: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === EMPTY) return -1;
      const e = slot - 1;
      if (this.hashes[e] === hash && this.lengths[e] === length && this.sameFrames(e, frames, length))
        return this.leaves[e]!;
    }
  }

  /** Stores `leaf` for frames not stored yet (the caller just missed with `get`). */
  set(frames: Int32Array, length: number, hash: number, leaf: number): void {
    if (length > MAX_POOL_FRAMES) return;
    if (this.entries === MAX_ENTRIES || this.poolUsed + length > MAX_POOL_FRAMES) this.clear();
    if (this.entries === this.hashes.length) this.growEntries();
    // Powers of two up to the bound: the pool never outgrows it.
    const needed = this.poolUsed + length;
    if (needed > this.pool.length) this.pool = grownArray(this.pool, 2 ** Math.ceil(Math.log2(needed)));
    const e = this.entries++;
    this.hashes[e] = hash;
    this.leaves[e] = leaf;
    this.starts[e] = this.poolUsed;
    this.lengths[e] = length;
    this.pool.set(frames.subarray(0, length), this.poolUsed);
    this.poolUsed += length;
    this.place(e);
  }

  /** Forgets every stack (the tree they point into was rolled back, or the cache is full). */
  clear(): void {
    this.slots.fill(EMPTY);
    this.entries = 0;
    this.poolUsed = 0;
  }

  private sameFrames(e: number, frames: Int32Array, length: number): boolean {
    const pool = this.pool;
    const start = this.starts[e]!;
    for (let i = 0; i < length; i++) if (pool[start + i] !== frames[i]) return false;
    return true;
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let i = this.hashes[e]! & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = e + 1;
  }

  private growEntries(): void {
    this.hashes = grownArray(this.hashes);
    this.leaves = grownArray(this.leaves);
    this.starts = grownArray(this.starts);
    this.lengths = grownArray(this.lengths);
    this.slots = new Int32Array(this.hashes.length * 2);
    for (let e = 0; e < this.entries; e++) this.place(e);
  }
}
