/**
 * Decoded long JSON strings, remembered by their raw text (the literal's contents, escapes as
 * written). IG's `-o json` rows repeat the same stacks and container ids fetch after fetch; a
 * stack is kilobytes, and JSON.parse would copy it into a fresh string on every row, which then
 * survives young-generation collections for as long as the fetch's rows are held. A hit costs a
 * sampled hash and one comparison, and returns the same string object every time, so downstream
 * interning (string-interner.ts) finds it by identity.
 *
 * Correctness never depends on the hash: a hit is only taken when the raw texts are equal.
 */
import { sampledHash, SAMPLE_MIN_LENGTH } from '../../util/string-interner.js';

/**
 * Default budget of remembered characters (raw and decoded texts are usually one string). Past
 * it the cache starts over. 8 Mi characters hold a few thousand kilobyte stacks; most of them
 * are the strings the aggregator keeps for its stack cache anyway.
 */
export const DEFAULT_LONG_STRING_BUDGET_CHARS = 8 * 1024 * 1024;
/** Characters counted per entry beyond its text: Map slot, entry object, bucket array. */
const ENTRY_OVERHEAD_CHARS = 100;
/** Entries per sampled hash; a further one replaces the oldest (texts that differ only where no character is sampled). */
const BUCKET_LIMIT = 4;
/** Longer texts are decoded but not remembered: rare, and a comparison costs about as much. */
const MAX_CACHED_CHARS = 64 * 1024;

interface Entry {
  readonly raw: string;
  readonly value: string;
}

export class LongStringCache {
  private _buckets = new Map<number, Entry[]>();
  private _held = 0;

  constructor(private readonly _budgetChars = DEFAULT_LONG_STRING_BUDGET_CHARS) {}

  /** Characters held (for tests and memory accounting). */
  get heldChars(): number {
    return this._held;
  }

  /**
   * The string whose JSON literal has the contents `text[start, end)` (at least SAMPLE_MIN_LENGTH
   * characters, quotes excluded), or undefined when they are not a valid JSON string.
   */
  decode(text: string, start: number, end: number): string | undefined {
    const raw = text.slice(start, end);
    if (raw.length < SAMPLE_MIN_LENGTH || raw.length > MAX_CACHED_CHARS) return decodeLiteral(raw);
    const hash = sampledHash(raw);
    const bucket = this._buckets.get(hash);
    if (bucket !== undefined) {
      for (let i = 0; i < bucket.length; i++) {
        const entry = bucket[i] as Entry;
        if (entry.raw === raw) return entry.value;
      }
    }
    const value = decodeLiteral(raw);
    if (value === undefined) return undefined;
    // Without escapes the decoded string is the raw text, as a fresh flat string. With them, the
    // raw key is copied: `raw` is a slice that would keep the whole chunk it was cut from alive.
    const entry: Entry = { raw: value.length === raw.length ? value : flatCopy(raw), value };
    const cost = costOf(entry);
    if (this._held + cost > this._budgetChars) {
      this._buckets = new Map();
      this._held = 0;
      this._buckets.set(hash, [entry]);
    } else if (bucket === undefined) {
      this._buckets.set(hash, [entry]);
    } else {
      if (bucket.length >= BUCKET_LIMIT) {
        this._held -= costOf(bucket.shift() as Entry);
      }
      bucket.push(entry);
    }
    this._held += cost;
    return value;
  }
}

/** Characters an entry holds: its raw text, its decoded text when that is another string, overhead. */
function costOf(entry: Entry): number {
  return entry.raw.length + (entry.raw === entry.value ? 0 : entry.value.length) + ENTRY_OVERHEAD_CHARS;
}

/** JSON.parse of one string literal's contents; undefined when they are not valid. */
function decodeLiteral(raw: string): string | undefined {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

/** A copy of `s` that shares no memory with the string it was sliced from. */
function flatCopy(s: string): string {
  // Concatenating makes a cons string; slicing it flattens it into a new sequential string.
  return ` ${s}`.slice(1);
}
