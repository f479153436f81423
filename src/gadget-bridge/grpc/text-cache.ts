/**
 * Decoded strings of one field, remembered by their bytes. IG rows repeat most of their text
 * (node, pod, container and image names, the same stacks fetch after fetch); decoding each copy
 * costs a native call and a fresh string (~130 ns for a stack, plus its garbage), and downstream
 * the aggregator hashes every fresh string again when it interns stacks. A hit costs a cheap
 * sampled hash, one Map lookup and a byte comparison, and returns the same string object, whose
 * hash V8 has already computed.
 *
 * Correctness never depends on the hash: a hit is only taken after comparing every byte.
 */

/** Entries per field before the cache starts over (bounds memory for high-cardinality fields). */
const MAX_ENTRIES = 4096;
/** Bytes of remembered text per field before the cache starts over. */
const MAX_BYTES = 4 * 1024 * 1024;
/** Longer texts are decoded but not remembered: rare, and comparing them costs about as much. */
const MAX_CACHED_LENGTH = 16 * 1024;
/** Up to this length a JS loop compares faster than a native call. */
const JS_COMPARE_MAX = 64;
/** Bytes hashed at each end (and around the middle) of a text. */
const HASH_EDGE = 8;

/** Node's native slicing/comparison on Buffer (utf8Slice is untyped in @types/node). */
export interface TextSource {
  readonly bytes: Uint8Array;
  readonly text: Buffer & { utf8Slice(start: number, end: number): string };
}

interface Entry {
  readonly bytes: Buffer;
  readonly value: string;
}

/** A hash of the length, both ends and the middle; cheap even for kilobyte stacks. */
function sampledHash(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let h = Math.imul(length, 0x9e3779b1);
  if (length <= 3 * HASH_EDGE) {
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    return h;
  }
  const mid = start + ((length - HASH_EDGE) >> 1);
  for (let i = 0; i < HASH_EDGE; i++) {
    h = Math.imul(h ^ bytes[start + i]!, 0x01000193);
    h = Math.imul(h ^ bytes[mid + i]!, 0x01000193);
    h = Math.imul(h ^ bytes[end - 1 - i]!, 0x01000193);
  }
  return h;
}

export class TextCache {
  private entries = new Map<number, Entry>();
  private bytesHeld = 0;

  /** The UTF-8 text of `src.bytes[start, end)`. */
  decode(src: TextSource, start: number, end: number): string {
    const length = end - start;
    if (length === 0) return '';
    if (length > MAX_CACHED_LENGTH) return src.text.utf8Slice(start, end);
    const { bytes } = src;
    const key = sampledHash(bytes, start, end);
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.bytes.length === length) {
      if (length <= JS_COMPARE_MAX) {
        let i = 0;
        while (i < length && hit.bytes[i] === bytes[start + i]) i++;
        if (i === length) return hit.value;
      } else if (src.text.compare(hit.bytes, 0, length, start, end) === 0) return hit.value;
    }
    const value = src.text.utf8Slice(start, end);
    if (this.entries.size >= MAX_ENTRIES || this.bytesHeld + length > MAX_BYTES) {
      this.entries = new Map();
      this.bytesHeld = 0;
    }
    // A colliding entry is replaced: the newest text wins its slot.
    if (hit !== undefined) this.bytesHeld -= hit.bytes.length;
    this.entries.set(key, { bytes: Buffer.from(bytes.subarray(start, end)), value });
    this.bytesHeld += length;
    return value;
  }
}
