/**
 * The identity of an OTLP AnyValue as a string: two values get the same key exactly when an OTLP
 * consumer sees the same value. The dictionary builder dedups attribute entries by it and the
 * conformance validator finds duplicate entries by it, so both must agree on what "the same" is.
 *
 * - The type is part of the value: string "1", int 1, double 1 and bool true are four values (a
 *   consumer reads the proto oneof, and pprof/JSON renderings differ).
 * - Doubles compare by their bits as far as JS can see them: -0 differs from 0 (the wire carries the
 *   sign and OTLP/JSON writes "-0"; merging them would rewrite one sample's value with the other's),
 *   and every NaN is one value (JS does not keep NaN payloads, so no encoder of ours can either).
 * - Ints are int64, a bigint in the model: their decimal text.
 * - Arrays and kvlists are ordered lists on the wire and compare element by element, in order.
 * - A string_table reference (`stringValueStrindex`) is the string it points at when the table is
 *   known; without it (or out of range) it is its own kind, by index.
 *
 * The key is prefix-free: strings and kvlist keys carry their length, and no other part holds the
 * `,` `]` `}` `=` that delimit lists, so no text inside a value can imitate a separator.
 */
import type { AnyValue } from './otlp-model.js';

/** The key of a value; `undefined` (a KeyValue without value) is its own key. */
export function anyValueKey(value: AnyValue | undefined, stringTable?: readonly string[]): string {
  if (value === undefined) return '-';
  if ('stringValue' in value) return stringKey('s', value.stringValue);
  if ('intValue' in value) return `i${value.intValue}`;
  if ('boolValue' in value) return value.boolValue ? 'b1' : 'b0';
  if ('doubleValue' in value)
    return `d${Object.is(value.doubleValue, -0) ? '-0' : String(value.doubleValue)}`;
  if ('bytesValue' in value) return `y${bytesHex(value.bytesValue)}`;
  if ('stringValueStrindex' in value) {
    const s = stringTable?.[value.stringValueStrindex];
    return s !== undefined ? stringKey('s', s) : `r${value.stringValueStrindex}`;
  }
  if ('arrayValue' in value) {
    return `a[${value.arrayValue.values.map((v) => anyValueKey(v, stringTable)).join(',')}]`;
  }
  return `k{${value.kvlistValue.values.map((kv) => keyValueKey(kv.key, kv.value, stringTable)).join(',')}}`;
}

/** The key of one `key = value` pair (a kvlist entry, a resource attribute). */
export function keyValueKey(
  key: string,
  value: AnyValue | undefined,
  stringTable?: readonly string[],
): string {
  return `${stringKey('', key)}=${anyValueKey(value, stringTable)}`;
}

function stringKey(tag: string, s: string): string {
  return `${tag}${s.length}:${s}`;
}

function bytesHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
