/**
 * A gadget row as IG's JSON formatter shows it: dotted field names become nested objects
 * (`proc.comm` → `{proc: {comm}}`). Integers beyond 2^53 are bigint, all others number, so
 * rows decoded from `-o json` and from IG's binary gRPC payloads are identical values. Rows from
 * the JSON input may hold such integers rounded until read: the readers here (`fieldAccessor`,
 * `getField`, ...) make them exact first (`rounded-integers.ts`).
 *
 * So a row is opaque to the type checker: `GadgetRow` has no fields to read, a row source makes
 * one from plain fields with `gadgetRow`, and everything else reads it through the readers below.
 * A direct `row.kernel_ip` would return the rounded number; it does not compile. Both are types
 * only: at run time a row is the plain object it was built as.
 */
import { makeExact, mayBeRounded } from './rounded-integers.js';

/** A nested object of a row, as a reader returns it (exact: the reader made its row exact). */
export interface FieldRecord {
  readonly [field: string]: FieldValue;
}

export type FieldValue = string | number | bigint | boolean | null | FieldValue[] | FieldRecord;

declare const GADGET_ROW: unique symbol;

/** One row; read it through `fieldAccessor`/`getField`/`getString`/`getInteger`/`readFields`. */
export interface GadgetRow {
  /** Type-only brand: no such property exists. */
  readonly [GADGET_ROW]: true;
}

/** A row made of `fields` (no copy: the same object, from now on read only through the readers). */
export function gadgetRow(fields: FieldRecord): GadgetRow {
  return fields as unknown as GadgetRow;
}

/** Rows made of `records` (no copy: the same array, see gadgetRow). */
export function gadgetRows(records: FieldRecord[]): GadgetRow[] {
  return records as unknown as GadgetRow[];
}

/** A whole row as plain fields, exact (for whole-row views: tests, diagnostics); fields are read by the readers. */
export function rowFields(row: GadgetRow): FieldRecord {
  makeExact(row);
  return fieldsOf(row);
}

/** The fields of a row, for the readers of this file only. */
function fieldsOf(row: GadgetRow): FieldRecord {
  return row as unknown as FieldRecord;
}

/** Reads one dotted field of a row; undefined when absent. */
export type FieldAccessor = (row: GadgetRow) => FieldValue | undefined;

/** Compiled accessors, by dotted name: getField runs several times per row on the ingest hot path. */
const accessors = new Map<string, FieldAccessor>();
/** Field names are a few dozen (specs, resource fields); past this many the cache starts over (~1 KB each). */
const ACCESSOR_CACHE_LIMIT = 1_000;
/** Walk steps: the value so far must be a non-array object to step into. */
const STEP = 'if (c === null || typeof c !== "object" || Array.isArray(c)) return undefined;';
/** Beyond ±this a number read from a JSON.parse'd row may be rounded (see rounded-integers.ts). */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Compiles the reader of a dotted name into the plain property loads it amounts to
 * (`row["user_stack_raw"]["symbols"]` with the checks of the generic walk), generated once per
 * name: a generic walk indexes with a different name at the same site for every field, which V8
 * handles on its slow megamorphic path, while each generated function keeps its own inline caches.
 * Generated source contains only fixed text and names written with JSON.stringify (a JSON string is
 * a valid JS string literal, so no name can break out of it).
 */
function compileAccessor(dottedName: string): FieldAccessor {
  const name = JSON.stringify(dottedName);
  const steps = dottedName
    .split('.')
    .map((part) => `${STEP} c = c[${JSON.stringify(part)}];`)
    .join('\n');
  // A field literally named with dots (flat rows) wins over the nested path, as it always has;
  // `in` (an inline-cached check) spares the common row, which has no such field, the hasOwn call.
  // The last line is `mayNeedExactness` inlined: a rounded integer, or an object that may hold one.
  const source = `'use strict';
const read = (row) => {
let c;
if (${name} in row && Object.prototype.hasOwnProperty.call(row, ${name})) c = row[${name}];
else {
c = row;
${steps}
}
return (typeof c === "number" ? c > ${MAX_EXACT} || c < -${MAX_EXACT} : typeof c === "object" && c !== null) && makeExact(row) ? read(row) : c;
};
return read;`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above: names are JSON-quoted, nothing else is input
    const factory = new Function('makeExact', source) as (exact: typeof makeExact) => FieldAccessor;
    return factory(makeExact);
  } catch {
    // Code generation disallowed (--disallow-code-generation-from-strings): the same walk, generic.
    return walkingAccessor(dottedName);
  }
}

/** True for a value a JSON.parse'd row may hold rounded: a big number, or an object holding one. */
function mayNeedExactness(v: FieldValue | undefined): boolean {
  return typeof v === 'object' ? v !== null : mayBeRounded(v);
}

/** The generic reader: the same checks as the compiled one, over the split name. */
function walkingAccessor(dottedName: string): FieldAccessor {
  const parts = dottedName.split('.');
  const walk = (row: GadgetRow): FieldValue | undefined => {
    const fields = fieldsOf(row);
    if (Object.prototype.hasOwnProperty.call(fields, dottedName)) return fields[dottedName];
    let current: FieldValue | undefined = fields;
    for (const part of parts) {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      current = current[part];
    }
    return current;
  };
  return (row) => {
    const v = walk(row);
    return mayNeedExactness(v) && makeExact(row) ? walk(row) : v;
  };
}

/** The compiled reader of a dotted field (`user_stack_raw.symbols`), for callers that read it per row. */
export function fieldAccessor(dottedName: string): FieldAccessor {
  let accessor = accessors.get(dottedName);
  if (accessor === undefined) {
    accessor = compileAccessor(dottedName);
    if (accessors.size >= ACCESSOR_CACHE_LIMIT) accessors.clear();
    accessors.set(dottedName, accessor);
  }
  return accessor;
}

/** Fills `into` with the values `fields` read from `row` (a reused array: nothing allocated). */
export function readFields(into: unknown[], fields: readonly FieldAccessor[], row: GadgetRow): unknown[] {
  into.length = fields.length;
  for (let i = 0; i < fields.length; i++) into[i] = fields[i]!(row);
  return into;
}

/** Reads a dotted field (`user_stack_raw.symbols`) from a nested row; undefined when absent. */
export function getField(row: GadgetRow, dottedName: string): FieldValue | undefined {
  return fieldAccessor(dottedName)(row);
}

/** Field value as a string ('' when absent or null); numbers and bigints in decimal. */
export function getString(row: GadgetRow, dottedName: string): string {
  return fieldString(getField(row, dottedName));
}

/** A field value as getString shows it. */
export function fieldString(v: FieldValue | undefined): string {
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
