/**
 * The exact parse of one array element (one IG row) from what the array splitter noted in it
 * (array-line-splitter.ts): integers of 16+ digits are wrapped in big-integer markers, and long
 * member-value strings (stacks, container ids) are replaced by `"\u0001<index>"` and taken from a
 * LongStringCache by their raw text. JSON.parse then reads only the row's short rest, and the
 * markers are put back. Measured on the bench capture (~3.1 KB rows, ~2 KB of it in ~4 long
 * strings): the row source's parse (framing included) takes ~30 % less time, and the rows share
 * their long strings, so little of a fetch's text survives a young-generation collection (the
 * exporter process at 3,000 rows/s: ~58 instead of ~65 µs of CPU per row). What is left is
 * mostly JSON.parse of the row's ~45 short members.
 *
 * An element whose strings have a control-character escape (`\u0000`–`\u001f`, which could pass for
 * a marker) takes the plain exact path (lossless-json.ts). So does one that does not parse, so
 * that the error carries the element's own position.
 */
import type { ElementSpans } from './array-line-splitter.js';
import type { LongStringCache } from './long-string-cache.js';
import type { JsonValue } from './lossless-json.js';
import { parseJsonWithKnownBigIntegers, parseWithMarkers } from './lossless-json.js';

/** Parses one element's text exactly, taking its long strings from `strings`. */
export function parseJsonElement(text: string, spans: ElementSpans, strings: LongStringCache): JsonValue {
  const { bigIntegers, longStrings } = spans;
  if (spans.controlEscape || (longStrings === undefined && bigIntegers === undefined))
    return parseJsonWithKnownBigIntegers(text, bigIntegers);
  // Undefined: a bad long string or bad syntax; the plain path throws the positioned error.
  return (
    parseWithMarkers(text, bigIntegers, longStrings, strings) ??
    parseJsonWithKnownBigIntegers(text, bigIntegers)
  );
}
