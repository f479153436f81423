import type { FieldValue } from '../../rows/gadget-row.js';
import type { Field } from './gadget-messages.js';
import { Kind, KIND_FLAG_ARRAY } from './gadget-messages.js';
import type { PackedDataElement } from './packed-data-element.js';
import type { TextSource } from './text-cache.js';
import { TextBudget, TextCache } from './text-cache.js';

/**
 * Readers of single field values out of a packed element (see packed-data-element.ts), with the
 * value rules documented in field-decoder.ts. A reader reads through a `SlotCursor` positioned on
 * one element: absolute [start, end) offsets of every slot in the message's bytes, so no reader
 * allocates anything but the value it returns.
 */

/** High 32 bits of Number.MAX_SAFE_INTEGER: a u64 whose high word is at most this is a number. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const TWO_32 = 0x1_0000_0000;

export const WIDTH: Readonly<Record<number, number>> = {
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

/** Node's native slicers (untyped in @types/node, present since Node 0.x; protobufjs uses them too). */
type NativeSlices = TextSource['text'] & { hexSlice(start: number, end: number): string };

/** One element's slots as offsets into its message's bytes; a missing slot is empty (0, 0). */
export class SlotCursor implements TextSource {
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);
  text: NativeSlices = Buffer.alloc(0) as unknown as NativeSlices;
  readonly start: number[];
  readonly end: number[];

  constructor(readonly slotCount: number) {
    this.start = new Array<number>(slotCount).fill(0);
    this.end = new Array<number>(slotCount).fill(0);
  }

  moveTo(element: PackedDataElement): void {
    const { packed, first, count } = element;
    const { spans } = packed;
    this.bytes = packed.bytes;
    this.view = packed.view;
    this.text = packed.text as unknown as NativeSlices;
    for (let p = 0; p < this.slotCount; p++) {
      if (p < count) {
        this.start[p] = spans[first + 2 * p]!;
        this.end[p] = spans[first + 2 * p + 1]!;
      } else {
        this.start[p] = 0;
        this.end[p] = 0;
      }
    }
  }
}

export type FieldReader = (c: SlotCursor) => FieldValue;

type ScalarRead = (view: DataView, at: number) => FieldValue;

/** Reads one scalar of `kind` at byte `at` of `view` (the caller checked the width). */
function scalarRead(kind: number, bigEndian: boolean): ScalarRead | undefined {
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
    case Kind.Uint64: {
      const hiAt = le ? 4 : 0;
      const loAt = le ? 0 : 4;
      return (v, at) => {
        const hi = v.getUint32(at + hiAt, le);
        return hi <= MAX_SAFE_HIGH_WORD ? hi * TWO_32 + v.getUint32(at + loAt, le) : v.getBigUint64(at, le);
      };
    }
    case Kind.Int64: {
      const hiAt = le ? 4 : 0;
      const loAt = le ? 0 : 4;
      return (v, at) => {
        // Signed high word in [-2^21, 2^21) keeps the value within ±2^53; the ends need a check.
        const hi = v.getInt32(at + hiAt, le);
        if (hi >= -MAX_SAFE_HIGH_WORD - 1 && hi <= MAX_SAFE_HIGH_WORD) {
          const n = hi * TWO_32 + v.getUint32(at + loAt, le);
          if (Number.isSafeInteger(n)) return n;
        }
        return v.getBigInt64(at, le);
      };
    }
    default:
      return undefined;
  }
}

function zeroValue(kind: number): FieldValue {
  if (kind & KIND_FLAG_ARRAY) return [];
  if (kind === Kind.Bool) return false;
  return WIDTH[kind] !== undefined ? 0 : '';
}

/**
 * Compiles the reader of one field (payload index, offset, size and kind from its descriptor);
 * text fields remember decoded texts within `texts` (shared by a decoder's fields).
 */
export function fieldReader(field: Field, bigEndian: boolean, texts = new TextBudget()): FieldReader {
  const { payloadIndex: p, offs, size } = field;
  const isArray = (field.kind & KIND_FLAG_ARRAY) !== 0;
  const kind = field.kind & ~KIND_FLAG_ARRAY;
  const zero = zeroValue(field.kind);
  const width = WIDTH[kind];
  const scalar = scalarRead(kind, bigEndian);
  // The field's bytes: size 0 owns the whole slot (operator-added fields); otherwise
  // [offs, offs + size) of the slot, clamped to the slot like subarray() clamps.
  const from = (c: SlotCursor): number =>
    size === 0 ? c.start[p]! : Math.min(c.start[p]! + offs, c.end[p]!);
  const to = (c: SlotCursor): number =>
    size === 0 ? c.end[p]! : Math.min(c.start[p]! + offs + size, c.end[p]!);

  if (isArray && width !== undefined && scalar) {
    return (c) => {
      const out: FieldValue[] = [];
      const end = to(c);
      for (let at = from(c); at + width <= end; at += width) out.push(scalar(c.view, at));
      return out;
    };
  }
  if (!isArray && kind === Kind.Bool) {
    return (c) => {
      const { bytes } = c;
      for (let i = from(c), end = to(c); i < end; i++) if (bytes[i] !== 0) return true;
      return false;
    };
  }
  if (!isArray && width !== undefined && scalar) {
    if (size !== 0 && size < width) return () => zero;
    return (c) => {
      const at = size === 0 ? c.start[p]! : c.start[p]! + offs;
      return at + width > c.end[p]! ? zero : scalar(c.view, at);
    };
  }
  if (!isArray && kind === Kind.String) {
    const cache = new TextCache(texts);
    return (c) => cache.decode(c, from(c), to(c));
  }
  if (isArray || kind === Kind.Bytes) return (c) => c.text.hexSlice(from(c), to(c));
  // CString, and IG's fallback for any other kind: text up to the first NUL.
  const cache = new TextCache(texts);
  return (c) => {
    const { bytes } = c;
    const start = from(c);
    const end = to(c);
    let nul = start;
    while (nul < end && bytes[nul] !== 0) nul++;
    return cache.decode(c, start, nul);
  };
}
