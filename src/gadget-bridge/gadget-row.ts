/**
 * A gadget row as IG's JSON formatter shows it: dotted field names become nested objects
 * (`proc.comm` → `{proc: {comm}}`). Integers beyond 2^53 are bigint, all others number, so
 * rows decoded from `-o json` and from IG's binary gRPC payloads are identical values.
 */
export type FieldValue = string | number | bigint | boolean | null | FieldValue[] | GadgetRow;

export interface GadgetRow {
  readonly [field: string]: FieldValue;
}

/** Split dotted names, cached: getField runs several times per row on the ingest hot path. */
const pathCache = new Map<string, readonly string[]>();
const PATH_CACHE_LIMIT = 10_000;

function pathOf(dottedName: string): readonly string[] {
  let parts = pathCache.get(dottedName);
  if (!parts) {
    parts = dottedName.split('.');
    if (pathCache.size >= PATH_CACHE_LIMIT) pathCache.clear();
    pathCache.set(dottedName, parts);
  }
  return parts;
}

/** Reads a dotted field (`user_stack_raw.symbols`) from a nested row; undefined when absent. */
export function getField(row: GadgetRow, dottedName: string): FieldValue | undefined {
  if (Object.prototype.hasOwnProperty.call(row, dottedName)) return row[dottedName];
  const parts = pathOf(dottedName);
  let current: FieldValue | undefined = row;
  for (const part of parts) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** Field value as a string ('' when absent or null); numbers and bigints in decimal. */
export function getString(row: GadgetRow, dottedName: string): string {
  const v = getField(row, dottedName);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/** Field value as a bigint, or undefined when absent or not an integer. */
export function getInteger(row: GadgetRow, dottedName: string): bigint | undefined {
  const v = getField(row, dottedName);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}
