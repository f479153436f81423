import type { FieldValue, GadgetRow } from '../../src/rows/gadget-row.js';
import { getField } from '../../src/rows/gadget-row.js';
import type { DataElement, DataSource, Field } from '../../src/gadget-bridge/grpc/gadget-messages.js';
import {
  DATASOURCE_FLAG_BIG_ENDIAN,
  FIELD_FLAG_EMPTY,
  FIELD_FLAG_UNREFERENCED,
  Kind,
  KIND_FLAG_ARRAY,
} from '../../src/gadget-bridge/grpc/gadget-messages.js';

/**
 * The inverse of the field decoder, written independently for the test double: lays a row (as
 * `-o json` shows it) into payload slots following the datasource's field descriptors.
 * Fields the JSON view does not show (json.skip) take their value from `extra(fullName)`.
 * Unreferenced fields get junk bytes, so a decoder that shows them fails the comparison.
 */

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

const JUNK = new TextEncoder().encode('stale-unreferenced');

function writeScalar(view: DataView, at: number, kind: number, value: FieldValue, le: boolean): void {
  const num = (): number => (typeof value === 'boolean' ? (value ? 1 : 0) : Number(value ?? 0));
  const big = (): bigint => (typeof value === 'bigint' ? value : BigInt(Math.trunc(num())));
  switch (kind) {
    case Kind.Bool:
      view.setUint8(at, value ? 1 : 0);
      break;
    case Kind.Int8:
      view.setInt8(at, num());
      break;
    case Kind.Uint8:
      view.setUint8(at, num());
      break;
    case Kind.Int16:
      view.setInt16(at, num(), le);
      break;
    case Kind.Uint16:
      view.setUint16(at, num(), le);
      break;
    case Kind.Int32:
      view.setInt32(at, num(), le);
      break;
    case Kind.Uint32:
      view.setUint32(at, num(), le);
      break;
    case Kind.Int64:
      view.setBigInt64(at, big(), le);
      break;
    case Kind.Uint64:
      view.setBigUint64(at, big(), le);
      break;
    case Kind.Float32:
      view.setFloat32(at, num(), le);
      break;
    case Kind.Float64:
      view.setFloat64(at, num(), le);
      break;
    default:
      throw new Error(`writeScalar: kind ${kind} is not a scalar`);
  }
}

/** Bytes of one field value; `size` is the fixed size (0 = own slot, any length). */
export function encodeFieldValue(
  field: Field,
  value: FieldValue | undefined,
  bigEndian: boolean,
): Uint8Array {
  const le = !bigEndian;
  const isArray = (field.kind & KIND_FLAG_ARRAY) !== 0;
  const kind = field.kind & ~KIND_FLAG_ARRAY;
  const width = WIDTH[kind];
  if (isArray) {
    const items = Array.isArray(value) ? value : [];
    if (width === undefined) throw new Error(`${field.fullName}: arrays of kind ${kind} are not encodable`);
    const out = new Uint8Array(field.size || items.length * width);
    const view = new DataView(out.buffer);
    items.forEach((item, i) => {
      if ((i + 1) * width <= out.length) writeScalar(view, i * width, kind, item, le);
    });
    return out;
  }
  if (width !== undefined) {
    const out = new Uint8Array(field.size || width);
    writeScalar(new DataView(out.buffer), 0, kind, value ?? 0, le);
    return out;
  }
  if (kind === Kind.Bytes) return Buffer.from(typeof value === 'string' ? value : '', 'hex');
  const text = new TextEncoder().encode(typeof value === 'string' ? value : '');
  if (kind === Kind.CString && field.size > 0) {
    const out = new Uint8Array(field.size); // NUL padded, at least one NUL
    out.set(text.subarray(0, field.size - 1));
    return out;
  }
  return text;
}

/** Encodes one row into a DataElement for `ds`. */
export function encodeRow(
  ds: DataSource,
  row: GadgetRow,
  extra: (fullName: string) => FieldValue | undefined = () => undefined,
): DataElement {
  const bigEndian = (ds.flags & DATASOURCE_FLAG_BIG_ENDIAN) !== 0;
  const hasChildren = new Set(
    ds.fields.map((f) => f.fullName.slice(0, Math.max(0, f.fullName.lastIndexOf('.')))).filter(Boolean),
  );
  const slots: Uint8Array[] = [];
  const slotCount = Math.max(0, ...ds.fields.map((f) => f.payloadIndex + 1));
  const fixedSize = new Array<number>(slotCount).fill(0);
  for (const f of ds.fields) {
    if (f.size > 0 && !(f.flags & FIELD_FLAG_EMPTY)) {
      fixedSize[f.payloadIndex] = Math.max(fixedSize[f.payloadIndex]!, f.offs + f.size);
    }
  }
  for (let i = 0; i < slotCount; i++) slots.push(new Uint8Array(fixedSize[i]!));
  for (const f of ds.fields) {
    if (f.flags & FIELD_FLAG_EMPTY) continue;
    if (f.flags & FIELD_FLAG_UNREFERENCED) {
      if (f.size === 0) slots[f.payloadIndex] = JUNK;
      continue;
    }
    if (f.kind === Kind.Invalid && hasChildren.has(f.fullName)) continue; // struct: its members carry the bytes
    const value = getField(row, f.fullName) ?? extra(f.fullName);
    const bytes = encodeFieldValue(f, value, bigEndian);
    if (f.size === 0) slots[f.payloadIndex] = bytes;
    else slots[f.payloadIndex]!.set(bytes.subarray(0, f.size), f.offs);
  }
  return { payload: slots };
}
