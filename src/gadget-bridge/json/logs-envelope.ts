/**
 * The IG daemon `logs` operator's NDJSON envelope (IG v0.51.0+):
 * `{"type":"gadget-data","seq":N,"gadget":"<image>","datasource":"samples","instanceID":"…",
 *   "timestamp":"<RFC3339Nano>","data":[…]}`; `"type":"gadget-data-empty"` has no `data`. With the
 * datasource annotation `logs.array-handling: elements` every element is its own line (`data` is
 * one row object) and the lines of one emission share `seq`.
 */
import { makeExact, mayBeRounded } from '../../rows/rounded-integers.js';
import type { JsonValue } from './lossless-json.js';

export const ENVELOPE_TYPE_DATA = 'gadget-data';
export const ENVELOPE_TYPE_EMPTY = 'gadget-data-empty';

export interface LogsEnvelope {
  readonly type: string;
  readonly seq?: number | bigint;
  readonly gadget?: string;
  readonly datasource?: string;
  readonly instanceId?: string;
  /** `timestamp` in UNIX ns; undefined when absent or unparseable (see `timestampText`). */
  readonly timestampNano?: bigint;
  readonly timestampText?: string;
  /** `data` as written: an array (whole emission), one object (element line) or absent. */
  readonly data?: JsonValue;
}

type JsonObject = { readonly [key: string]: JsonValue };

/** True for objects that carry a string `type`: the envelope shape (any type). */
export function isEnvelopeLike(value: JsonValue): value is JsonObject {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.type === 'string'
  );
}

/** Reads the envelope fields of an envelope-like object; missing or mistyped fields are undefined. */
export function readEnvelope(obj: JsonObject): LogsEnvelope {
  const str = (k: string): string | undefined => {
    const v = obj[k];
    return typeof v === 'string' ? v : undefined;
  };
  let seq = obj.seq;
  if (mayBeRounded(seq) && makeExact(obj)) seq = obj.seq; // parsed lazily exact
  const timestampText = str('timestamp');
  const timestampNano = timestampText !== undefined ? parseRfc3339Nano(timestampText) : undefined;
  const gadget = str('gadget');
  const datasource = str('datasource');
  const instanceId = str('instanceID') ?? str('instanceId');
  return {
    type: obj.type as string,
    ...(typeof seq === 'number' || typeof seq === 'bigint' ? { seq } : {}),
    ...(gadget !== undefined ? { gadget } : {}),
    ...(datasource !== undefined ? { datasource } : {}),
    ...(instanceId !== undefined ? { instanceId } : {}),
    ...(timestampText !== undefined ? { timestampText } : {}),
    ...(timestampNano !== undefined ? { timestampNano } : {}),
    ...(obj.data !== undefined ? { data: obj.data } : {}),
  };
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses RFC 3339 with up to nanosecond fractions (Go's RFC3339Nano) to UNIX ns; undefined if invalid. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(ms)) return undefined;
  let ns = BigInt(ms) * 1_000_000n;
  if (frac) ns += BigInt(frac.padEnd(9, '0'));
  if (sign) {
    const offsetNs = BigInt(Number(oh) * 60 + Number(om)) * 60_000_000_000n;
    ns = sign === '+' ? ns - offsetNs : ns + offsetNs;
  }
  return ns;
}
