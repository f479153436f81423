/**
 * JSON.parse now, exact integers beyond 2^53 only when a reader needs them: for texts the row
 * source parses whole (pretty arrays, envelope lines it does not split). profile_cpu's mapping
 * never reads a field beyond 2^53, so such a text costs one JSON.parse; the exact parse
 * (`parseLosslessJson`) runs, once per text, only when a reader meets a possibly rounded value.
 * How readers notice and how the rows are tagged: `rounded-integers.ts`.
 */
import { deferExactness } from '../../rows/rounded-integers.js';
import type { ExactnessSource } from '../../rows/rounded-integers.js';
import { parseJsonExact, parseLosslessJson } from './lossless-json.js';
import type { JsonValue } from './lossless-json.js';

/** Sixteen digits in a row: the text may hold an integer beyond 2^53 (or a long fraction, harmless). */
const MAY_HOLD_BIG_INTEGER = /[0-9]{16}/;

/**
 * Parses JSON text at JSON.parse's speed. When the text may hold integers beyond 2^53, the rows
 * it hands out (the value itself, the elements of a top-level array, and a `logs` envelope's
 * `data` or its elements) are tagged for deferred exactness: the first reader that meets a
 * possibly rounded value in one of them (`fieldAccessor`, `readEnvelope`) has that object patched
 * with the exact integers of `parseLosslessJson`, which runs once per text. Reading such values
 * any other way sees them rounded.
 * Throws SyntaxError, with the position, on bad JSON.
 */
export function parseJsonDeferringExactness(text: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return parseJsonExact(text); // throws the positioned error
  }
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isSafeInteger(value) ? parseJsonExact(text) : value;
  }
  if (MAY_HOLD_BIG_INTEGER.test(text)) deferExactness(handedOutObjects(value), new ExactText(text));
  return value;
}

/** The objects of a parsed IG value that readers receive: the value, its rows, an envelope's rows. */
function handedOutObjects(root: JsonValue[] | { [key: string]: JsonValue }): (object | undefined)[] {
  const out: (object | undefined)[] = [root];
  const rows = Array.isArray(root) ? root : root.data;
  if (Array.isArray(rows)) {
    for (const row of rows) out.push(row !== null && typeof row === 'object' ? row : undefined);
  } else if (rows !== null && typeof rows === 'object') {
    out.push(rows);
  }
  return out;
}

/** The exact parse of one text, run once, on the first read that needs it. */
class ExactText implements ExactnessSource {
  private handedOut: (object | undefined)[] | undefined;
  constructor(private readonly text: string) {}

  makeExact(index: number, lossy: object): void {
    this.handedOut ??= handedOutObjects(parseLosslessJson(this.text) as JsonValue[]);
    const exact = this.handedOut[index];
    if (exact !== undefined) restoreExactIntegers(lossy as JsonValue[], exact as JsonValue);
  }
}

/** Copies the exact integers of `exact` into `lossy`, the same document parsed by JSON.parse. */
function restoreExactIntegers(lossy: JsonValue[] | { [key: string]: JsonValue }, exact: JsonValue): void {
  if (exact === null || typeof exact !== 'object') return;
  if (Array.isArray(lossy)) {
    if (!Array.isArray(exact)) return;
    for (let i = 0; i < lossy.length; i++) {
      const e = exact[i] as JsonValue;
      const v = lossy[i];
      if (typeof e === 'bigint') lossy[i] = e;
      else if (v !== null && typeof v === 'object') restoreExactIntegers(v, e);
    }
    return;
  }
  if (Array.isArray(exact)) return;
  for (const key in lossy) {
    const e = exact[key] as JsonValue;
    const v = lossy[key] as JsonValue;
    if (typeof e === 'bigint') lossy[key] = e;
    else if (v !== null && typeof v === 'object') restoreExactIntegers(v, e);
  }
}
