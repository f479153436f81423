import type { DataElement, GadgetData, GadgetDataArray } from './gadget-messages.js';
import { PackedDataElement, PackedPayloads } from './packed-data-element.js';

/**
 * A minimal protobuf reader for the two messages on the data hot path, `GadgetDataArray` and
 * `GadgetData` (`proto/gadget/api.proto`):
 *
 *   message DataElement     { repeated bytes payload = 1; }
 *   message GadgetData      { string node = 1; uint32 seq = 2; DataElement data = 3; }
 *   message GadgetDataArray { string node = 1; uint32 seq = 2; repeated DataElement dataArray = 3; }
 *
 * protobufjs' reflection decoder builds a message object per element and a Buffer per payload
 * slot; here elements are `PackedDataElement`s: their slots are offsets into the event's bytes
 * (no copy, no view per slot), which the field decoder reads directly. Protobuf semantics kept: last `node`/`seq` wins,
 * a repeated singular `data` merges (its payloads concatenate), unknown fields are skipped.
 * `gadget-api.ts` keeps the protobufjs decoder as the reference the tests compare against.
 */

/** Protobuf wire types. */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** Field numbers shared by GadgetData and GadgetDataArray (and DataElement.payload = 1). */
const FIELD_NODE = 1;
const FIELD_SEQ = 2;
const FIELD_DATA = 3;
const FIELD_PAYLOAD = 1;

/** Headroom over the estimate (first element's slots x elements that would fit): rows vary in size. */
const SPAN_RESERVE_MARGIN = 1.25;
/** Upper bound of that up-front reservation, in slots (8 bytes each). */
const MAX_SPAN_RESERVE = 1 << 20;
/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const MAX_VARINT_BYTES = 10;
/** Groups nest; bound the skip recursion so hostile input cannot blow the stack. */
const MAX_GROUP_DEPTH = 64;

class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Low 32 bits of a varint, unsigned (what protobuf's uint32/tag decoding keeps). */
  uint32(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (pos >= end) throw this.error('truncated varint');
      const b = buf[pos++]!;
      // Bits beyond 32 (bytes 5..9) are dropped, as protobuf does for 32-bit fields.
      if (i < 5) value = (value | ((b & 0x7f) << (7 * i))) >>> 0;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    throw this.error('varint longer than 10 bytes');
  }

  /** Start of a length-delimited field's contents; advances past it. */
  lengthDelimited(): number {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) throw this.error('length-delimited field runs past the end');
    this.pos = start + length;
    return start;
  }

  skip(wireType: number, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      case WIRE_START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw this.error('groups nested too deep');
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === WIRE_END_GROUP) return;
          this.skip(tag & 7, depth + 1);
        }
      }
      default:
        throw this.error(`invalid wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw this.error('truncated fixed-width field');
    this.pos += n;
  }

  private error(what: string): Error {
    return new Error(`malformed IG data message: ${what} at byte ${this.pos}`);
  }
}

/** `DataElement.payload`'s tag byte (field 1, length-delimited): the fast path below. */
const PAYLOAD_TAG = (FIELD_PAYLOAD << 3) | WIRE_LENGTH_DELIMITED;
/** Continuation bit of a varint byte; lengths beyond 4 varint bytes take the general reader. */
const VARINT_MORE = 0x80;

/**
 * Appends the [start, end) of every payload slot of the DataElement at `[start, end)` to
 * `packed`'s spans; returns their number. Runs once per slot of every row, so the common shape
 * (one-byte tag, length below 2^28) is read inline; anything else goes through WireReader.
 */
function readPayloadSpans(packed: PackedPayloads, start: number, end: number): number {
  const buf = packed.bytes;
  let pos = start;
  let count = 0;
  while (pos < end) {
    if (buf[pos] === PAYLOAD_TAG) {
      let p = pos + 1;
      let length = 0;
      let b = VARINT_MORE;
      for (let shift = 0; shift < 28 && b & VARINT_MORE && p < end; shift += 7) {
        b = buf[p++]!;
        length |= (b & 0x7f) << shift;
      }
      if ((b & VARINT_MORE) === 0 && length <= end - p) {
        packed.addSpan(p, p + length);
        pos = p + length;
        count++;
        continue;
      }
    }
    // Anything else (other fields, long or truncated lengths, bad input): the general reader.
    const r = new WireReader(buf, pos, end);
    const tag = r.uint32();
    if (tag >>> 3 === FIELD_PAYLOAD && (tag & 7) === WIRE_LENGTH_DELIMITED) {
      const at = r.lengthDelimited();
      packed.addSpan(at, r.pos);
      count++;
    } else r.skip(tag & 7);
    pos = r.pos;
  }
  return count;
}

/** A plain Uint8Array over the same memory, so materialised slots are not Buffers. */
function plainView(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface Visitor {
  node: string;
  seq: number;
  element(start: number, end: number): void;
}

const utf8 = new TextDecoder('utf-8');

function readMessage(buf: Uint8Array, visitor: Visitor): void {
  const r = new WireReader(buf, 0, buf.length);
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === FIELD_DATA && wireType === WIRE_LENGTH_DELIMITED) {
      const at = r.lengthDelimited();
      visitor.element(at, r.pos);
    } else if (field === FIELD_NODE && wireType === WIRE_LENGTH_DELIMITED) {
      const at = r.lengthDelimited();
      visitor.node = utf8.decode(buf.subarray(at, r.pos));
    } else if (field === FIELD_SEQ && wireType === WIRE_VARINT) {
      visitor.seq = r.uint32();
    } else r.skip(wireType);
  }
}

/** Decodes a `GadgetDataArray` (an array datasource's event payload). */
export function readGadgetDataArray(bytes: Uint8Array): GadgetDataArray {
  const packed = new PackedPayloads(plainView(bytes));
  const dataArray: DataElement[] = [];
  const visitor: Visitor = {
    node: '',
    seq: 0,
    element(start, end) {
      const first = packed.spanCount;
      const count = readPayloadSpans(packed, start, end);
      dataArray.push(new PackedDataElement(packed, first, count));
      // Size the offsets for the whole message from its first element (rows are alike).
      if (dataArray.length === 1) {
        const estimate = SPAN_RESERVE_MARGIN * count * (packed.bytes.length / Math.max(1, end - start));
        // Never more than the rest of the message could hold (a slot takes >= 2 bytes), nor a
        // large allocation on the word of one odd first element: past the cap, doubling goes on.
        packed.reserve(Math.min(estimate, (packed.bytes.length - end) / 2, MAX_SPAN_RESERVE));
      }
    },
  };
  readMessage(packed.bytes, visitor);
  return { node: visitor.node, seq: visitor.seq, dataArray };
}

/** Decodes a `GadgetData` (a single datasource's event payload). */
export function readGadgetData(bytes: Uint8Array): GadgetData {
  const packed = new PackedPayloads(plainView(bytes));
  const data = new PackedDataElement(packed, 0, 0);
  const visitor: Visitor = {
    node: '',
    seq: 0,
    element(start, end) {
      // A singular message field seen twice merges: its payloads concatenate (spans stay contiguous).
      data.count += readPayloadSpans(packed, start, end);
    },
  };
  readMessage(packed.bytes, visitor);
  return { node: visitor.node, seq: visitor.seq, data };
}
