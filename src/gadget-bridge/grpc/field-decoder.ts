import type { FieldValue, GadgetRow } from '../gadget-row.js';
import type { DataElement, DataSource, Field } from './gadget-api.js';
import {
  DATASOURCE_FLAG_BIG_ENDIAN,
  FIELD_FLAG_EMPTY,
  FIELD_FLAG_UNREFERENCED,
  Kind,
  KIND_FLAG_ARRAY,
} from './gadget-api.js';

/**
 * Turns IG's binary, schema-described rows (`DataElement.payload[]` slots laid out by the
 * datasource's `fields`) into the same nested objects IG's JSON formatter prints:
 *
 * - dotted `fullName`s become nested objects; keys at every level sorted by byte order;
 * - every field is shown (hidden ones too, as `-o json` does), except Unreferenced fields,
 *   fields annotated `json.skip: "true"` (and their sub-fields) and Empty fields (pure parents);
 * - a field with sub-fields is an object (its own bytes, e.g. a whole eBPF struct, are not shown);
 * - integers are numbers, 64-bit ones beyond ±(2^53-1) bigint (as the JSON path parses them);
 *   Float32/64 numbers; Bool true when any byte is non-zero (like IG's formatter);
 *   String = all bytes as UTF-8; CString and unknown kinds = UTF-8 up to the first NUL;
 * - Bytes: lowercase hex. IG's JSON prints Bytes through its C-string fallback, which loses data;
 *   hex is lossless and is what `ProfileSpec.traceIdField`/`spanIdField` expect for W3C ids;
 * - arrays (`kind | 0x10000000`): JSON arrays of the packed base-kind elements (Bool and numeric
 *   kinds); arrays of other kinds are shown like Bytes.
 *
 * Short or missing slots decode to the kind's zero value ('' / 0 / false), never throw: IG's
 * accessors do the same, and one odd field must not cost the whole emission.
 */

/** Decodes one element of a datasource into a row. */
export type RowDecoder = (element: DataElement) => GadgetRow;

type Reader = (payloads: readonly Uint8Array[], views: DataView[]) => FieldValue;

interface Node {
  readonly key: string;
  readonly read?: Reader;
  readonly children?: readonly Node[];
}

const MAX_SAFE_HIGH_WORD = 0x1fffff; // high 32 bits of Number.MAX_SAFE_INTEGER
const TWO_32 = 0x1_0000_0000;
const utf8 = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);

const WIDTH: Readonly<Record<number, number>> = {
  [Kind.Bool]: 1,
  [Kind.Int8]: 1,
  [Kind.Int16]: 2,
  [Kind.Int32]: 4,
  [Kind.Int64]: 8,
  [Kind.Uint8]: 1,
  [Kind.Uint16]: 2,
  [Kind.Uint32]: 4,
  [Kind.Uint64]: 8,
  [Kind.Float32]: 4,
  [Kind.Float64]: 8,
};

/** Byte-order comparison as IG sorts field names (ASCII field names: code units = bytes). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** 64-bit value from two 32-bit words: number when exactly representable, else bigint. */
function u64(hi: number, lo: number): number | bigint {
  return hi <= MAX_SAFE_HIGH_WORD ? hi * TWO_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function i64(hi: number, lo: number): number | bigint {
  // hi is signed here; safe range is [-(2^53-1), 2^53-1].
  if (hi >= -MAX_SAFE_HIGH_WORD - 1 && hi <= MAX_SAFE_HIGH_WORD) {
    const v = hi * TWO_32 + lo;
    if (Number.isSafeInteger(v)) return v;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Reads one scalar of `kind` at byte `at` of `view` (caller checked the width). */
function scalarReader(
  kind: number,
  bigEndian: boolean,
): ((view: DataView, at: number) => FieldValue) | undefined {
  const le = !bigEndian;
  switch (kind) {
    case Kind.Bool:
      return (v, at) => v.getUint8(at) !== 0;
    case Kind.Int8:
      return (v, at) => v.getInt8(at);
    case Kind.Int16:
      return (v, at) => v.getInt16(at, le);
    case Kind.Int32:
      return (v, at) => v.getInt32(at, le);
    case Kind.Uint8:
      return (v, at) => v.getUint8(at);
    case Kind.Uint16:
      return (v, at) => v.getUint16(at, le);
    case Kind.Uint32:
      return (v, at) => v.getUint32(at, le);
    case Kind.Float32:
      return (v, at) => v.getFloat32(at, le);
    case Kind.Float64:
      return (v, at) => v.getFloat64(at, le);
    case Kind.Uint64:
      return le
        ? (v, at) => u64(v.getUint32(at + 4, true), v.getUint32(at, true))
        : (v, at) => u64(v.getUint32(at, false), v.getUint32(at + 4, false));
    case Kind.Int64:
      return le
        ? (v, at) => i64(v.getInt32(at + 4, true), v.getUint32(at, true))
        : (v, at) => i64(v.getInt32(at, false), v.getUint32(at + 4, false));
    default:
      return undefined;
  }
}

function zeroValue(kind: number): FieldValue {
  if (kind & KIND_FLAG_ARRAY) return [];
  if (kind === Kind.Bool) return false;
  return WIDTH[kind] !== undefined ? 0 : '';
}

function viewOf(payloads: readonly Uint8Array[], views: DataView[], index: number): DataView | undefined {
  let view = views[index];
  if (view === undefined) {
    const slot = payloads[index];
    if (slot === undefined) return undefined;
    view = new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
    views[index] = view;
  }
  return view;
}

function fieldReader(field: Field, bigEndian: boolean): Reader {
  const { payloadIndex, offs, size } = field;
  const isArray = (field.kind & KIND_FLAG_ARRAY) !== 0;
  const kind = field.kind & ~KIND_FLAG_ARRAY;
  const zero = zeroValue(field.kind);
  const bytesOf = (payloads: readonly Uint8Array[]): Uint8Array => {
    const slot = payloads[payloadIndex];
    if (slot === undefined) return EMPTY;
    // size 0: the field owns the whole slot (operator-added strings and numbers).
    return size === 0 ? slot : slot.subarray(offs, offs + size);
  };
  const width = WIDTH[kind];
  const scalar = scalarReader(kind, bigEndian);

  if (isArray && width !== undefined && scalar) {
    return (payloads) => {
      const bytes = bytesOf(payloads);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out: FieldValue[] = [];
      for (let at = 0; at + width <= bytes.byteLength; at += width) out.push(scalar(view, at));
      return out;
    };
  }
  if (!isArray && width !== undefined && scalar) {
    if (kind === Kind.Bool) {
      return (payloads) => bytesOf(payloads).some((b) => b !== 0);
    }
    const start = size === 0 ? 0 : offs;
    return (payloads, views) => {
      const view = viewOf(payloads, views, payloadIndex);
      if (view === undefined || start + width > view.byteLength || (size !== 0 && size < width)) return zero;
      return scalar(view, start);
    };
  }
  if (!isArray && kind === Kind.String) return (payloads) => utf8.decode(bytesOf(payloads));
  if (isArray || kind === Kind.Bytes) return (payloads) => toHex(bytesOf(payloads));
  // CString, and IG's fallback for any other kind: text up to the first NUL.
  return (payloads) => {
    const bytes = bytesOf(payloads);
    const nul = bytes.indexOf(0);
    return utf8.decode(nul === -1 ? bytes : bytes.subarray(0, nul));
  };
}

interface TreeNode {
  field?: Field;
  readonly children: Map<string, TreeNode>;
}

function isSkipped(field: Field): boolean {
  return (field.flags & FIELD_FLAG_UNREFERENCED) !== 0 || field.annotations['json.skip'] === 'true';
}

function pathOf(field: Field): string[] {
  return (field.fullName || field.name).split('.');
}

/** The fields as IG's JSON formatter would print them, as a sorted tree. */
function buildTree(ds: DataSource): TreeNode {
  const skippedPrefixes = new Set(ds.fields.filter(isSkipped).map((f) => f.fullName || f.name));
  const underSkipped = (path: string[]): boolean => {
    for (let i = 1; i <= path.length; i++) if (skippedPrefixes.has(path.slice(0, i).join('.'))) return true;
    return false;
  };
  const root: TreeNode = { children: new Map() };
  for (const field of ds.fields) {
    const path = pathOf(field);
    if (underSkipped(path)) continue;
    let node = root;
    for (const part of path) {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
    node.field = field;
  }
  return root;
}

function compileNodes(tree: TreeNode, bigEndian: boolean): Node[] {
  const out: Node[] = [];
  for (const key of [...tree.children.keys()].sort(byteOrder)) {
    const child = tree.children.get(key)!;
    if (child.children.size > 0) {
      const children = compileNodes(child, bigEndian);
      if (children.length > 0) out.push({ key, children });
    } else if (child.field && (child.field.flags & FIELD_FLAG_EMPTY) === 0) {
      out.push({ key, read: fieldReader(child.field, bigEndian) });
    }
  }
  return out;
}

function build(nodes: readonly Node[], payloads: readonly Uint8Array[], views: DataView[]): GadgetRow {
  const row: Record<string, FieldValue> = {};
  for (const node of nodes) {
    row[node.key] = node.children ? build(node.children, payloads, views) : node.read!(payloads, views);
  }
  return row;
}

/**
 * Compiles a datasource's field layout into a row decoder. Payload indices, offsets and sizes
 * come from the descriptors only (IG's operators place their fields in version-dependent slots).
 */
export function compileRowDecoder(ds: DataSource): RowDecoder {
  const bigEndian = (ds.flags & DATASOURCE_FLAG_BIG_ENDIAN) !== 0;
  const nodes = compileNodes(buildTree(ds), bigEndian);
  return (element) => build(nodes, element.payload, []);
}

/** The dotted names of the fields a decoded row contains (for messages and tests). */
export function decodedFieldNames(ds: DataSource): string[] {
  const names: string[] = [];
  const walk = (tree: TreeNode, prefix: string): void => {
    for (const [key, child] of tree.children) {
      const name = prefix + key;
      if (child.children.size > 0) walk(child, `${name}.`);
      else if (child.field && (child.field.flags & FIELD_FLAG_EMPTY) === 0) names.push(name);
    }
  };
  walk(buildTree(ds), '');
  return names.sort(byteOrder);
}
