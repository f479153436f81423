import type { DataElement } from './gadget-messages.js';
import { grownArray } from '../../util/grown-array.js';

/**
 * DataElements that keep their payload slots as offsets into one shared message buffer instead
 * of one Uint8Array view per slot. A profile_cpu row has ~25 slots, and creating a typed-array
 * view costs about as much as decoding a short string, so the field decoder reads slots through
 * the offsets (`PackedPayloads`) and never materialises them. `payload` still works for any
 * other reader: it builds the views on first access.
 */

/**
 * Initial capacity of `spans` (slot offsets); it doubles as needed. A growing typed array:
 * pushing ~500k offsets onto a plain array cost 3x the whole wire parse.
 */
const INITIAL_SPANS = 256;

/** The bytes of one data message and the [start, end) offsets of every element's slots in it. */
export class PackedPayloads {
  /** [start0, end0, start1, end1, …] relative to `bytes`, for all elements of the message; `spanCount` used. */
  spans = new Uint32Array(INITIAL_SPANS);
  spanCount = 0;
  private viewCache: DataView | undefined;
  private textCache: Buffer | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /** Appends one slot's [start, end). */
  addSpan(start: number, end: number): void {
    if (this.spanCount + 2 > this.spans.length) this.reserve(this.spans.length / 2); // doubles
    this.spans[this.spanCount++] = start;
    this.spans[this.spanCount++] = end;
  }

  /** Makes room for at least `slots` more slots (one reallocation instead of many doublings). */
  reserve(slots: number): void {
    const needed = this.spanCount + 2 * Math.ceil(slots);
    if (needed <= this.spans.length) return;
    this.spans = grownArray(this.spans, needed, this.spanCount);
  }

  /** A DataView over `bytes` (created on first use, shared by all elements). */
  get view(): DataView {
    return (this.viewCache ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** A Buffer over `bytes`, for native string slicing (created on first use). */
  get text(): Buffer {
    return (this.textCache ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }
}

export class PackedDataElement implements DataElement {
  private payloadCache: Uint8Array[] | undefined;

  /**
   * @param packed the message's bytes and spans
   * @param first index in `packed.spans` of slot 0's start
   * @param count number of slots
   */
  constructor(
    readonly packed: PackedPayloads,
    readonly first: number,
    public count: number,
  ) {}

  get payload(): readonly Uint8Array[] {
    if (!this.payloadCache) {
      const { bytes, spans } = this.packed;
      const out: Uint8Array[] = [];
      for (let i = 0; i < this.count; i++) {
        out.push(bytes.subarray(spans[this.first + 2 * i], spans[this.first + 2 * i + 1]));
      }
      this.payloadCache = out;
    }
    return this.payloadCache;
  }
}

/** Any element as a packed one: packed elements as they are, others copied into one buffer. */
export function packElement(element: DataElement): PackedDataElement {
  if (element instanceof PackedDataElement) return element;
  let total = 0;
  for (const slot of element.payload) total += slot.byteLength;
  const packed = new PackedPayloads(new Uint8Array(total));
  let at = 0;
  for (const slot of element.payload) {
    packed.bytes.set(slot, at);
    packed.addSpan(at, at + slot.byteLength);
    at += slot.byteLength;
  }
  return new PackedDataElement(packed, 0, element.payload.length);
}
