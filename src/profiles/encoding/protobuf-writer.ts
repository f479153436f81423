/**
 * A small hand-written protobuf writer for the OTLP profiles hot path.
 *
 * Design (single pass, no per-field allocation):
 * - One growable `Uint8Array` (doubling) plus a `DataView` over it for fixed64 and doubles.
 * - Length-delimited submessages use *reserve-and-patch*: `fork(tag)` writes the tag, reserves ONE byte
 *   for the length and pushes the body start on an int stack; `join()` computes the body length and, in
 *   the rare case it needs more than one varint byte (body ≥ 128 bytes), moves the body right with
 *   `copyWithin` (a memmove) to make room. Almost every table entry (Line, Function, Location, Sample,
 *   KeyValueAndUnit, …) is < 128 bytes and never moves; only a handful of big containers per request
 *   (dictionary, tables' parents, profiles) pay one memmove each. This keeps the output canonical
 *   (minimal varint lengths, byte-identical to protobufjs) without a separate sizing pass.
 * - Tags are passed pre-computed (`(field << 3) | wireType`); every tag we use fits in one byte but
 *   larger ones are written as varints too.
 */

/** Initial buffer size; the writer doubles as needed and can be reused across requests via `reset()`. */
const INITIAL_CAPACITY = 64 * 1024;

/** Wire types. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

/** Computes a field tag. */
export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

const TWO_32 = 0x1_0000_0000;
const U32_MASK = 0xffff_ffffn;
const U64_MASK = 0xffff_ffff_ffff_ffffn;

/** Growable protobuf writer. Not thread-safe; reuse one instance per encoder call or via `reset()`. */
export class ProtobufWriter {
  private _buf: Uint8Array;
  private _view: DataView;
  private _pos = 0;
  /** Body start offsets of the open length-delimited fields (`fork` … `join`). */
  private _stack: number[] = [];
  private _utf8 = new TextEncoder();

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this._buf = new Uint8Array(Math.max(16, initialCapacity));
    this._view = new DataView(this._buf.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this._pos;
  }

  /** Size of the internal buffer in bytes. */
  get capacity(): number {
    return this._buf.length;
  }

  /** Forgets the content (keeps the buffer). */
  reset(): void {
    this._pos = 0;
    this._stack.length = 0;
  }

  /** Returns a copy of the written bytes (the internal buffer stays reusable). */
  finish(): Uint8Array {
    if (this._stack.length !== 0)
      throw new Error(`ProtobufWriter.finish: ${this._stack.length} unclosed fork(s)`);
    return this._buf.slice(0, this._pos);
  }

  private _ensure(extra: number): void {
    const need = this._pos + extra;
    if (need <= this._buf.length) return;
    let cap = this._buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this._buf.subarray(0, this._pos));
    this._buf = next;
    this._view = new DataView(next.buffer);
  }

  /** Writes an unsigned varint of a non-negative safe integer, or a negative int32 sign-extended to 10 bytes. */
  uint(value: number): void {
    if (value < 0) {
      this._negative32(value);
      return;
    }
    this._ensure(10);
    const buf = this._buf;
    let pos = this._pos;
    if (value < 0x80) {
      buf[pos++] = value;
    } else if (value < TWO_32) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      pos = this._varint64At(pos, (value % TWO_32) >>> 0, Math.floor(value / TWO_32) >>> 0);
    }
    this._pos = pos;
  }

  /** A negative int32/int64 given as a JS number: two's complement on 64 bits, always 10 bytes. */
  private _negative32(value: number): void {
    this._ensure(10);
    const lo = value >>> 0; // low 32 bits of the two's complement
    const hi = Math.floor(value / TWO_32) >>> 0;
    this._pos = this._varint64At(this._pos, lo, hi);
  }

  /** Writes a varint from two 32-bit halves (as protobufjs' LongBits does). */
  private _varint64At(pos: number, lo: number, hi: number): number {
    const buf = this._buf;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    return pos;
  }

  /** Writes a 64-bit varint (uint64 or int64: negatives become their 64-bit two's complement). */
  bigVarint(value: bigint): void {
    if (value >= 0n && value < 0x1_0000_0000n) {
      this.uint(Number(value));
      return;
    }
    const v = value & U64_MASK;
    this._ensure(10);
    this._pos = this._varint64At(this._pos, Number(v & U32_MASK), Number(v >> 32n));
  }

  /** Writes 8 little-endian bytes (fixed64; negative values wrap to their two's complement). */
  fixed64(value: bigint): void {
    this._ensure(8);
    this._view.setBigUint64(this._pos, value, true);
    this._pos += 8;
  }

  /** Writes an IEEE-754 double, little endian. */
  double(value: number): void {
    this._ensure(8);
    this._view.setFloat64(this._pos, value, true);
    this._pos += 8;
  }

  /** Writes a length-prefixed UTF-8 string (no tag). */
  string(value: string): void {
    const n = value.length;
    // Worst case 3 bytes per UTF-16 unit, plus up to 5 bytes of length.
    this._ensure(n * 3 + 5);
    const buf = this._buf;
    const start = this._pos + 1;
    let pos = start;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      buf[pos++] = c;
    }
    if (!ascii) {
      // Non-ASCII: let the platform do UTF-8 (handles surrogates and lone surrogates like protobufjs/Go: U+FFFD).
      pos = start + this._utf8.encodeInto(value, buf.subarray(start)).written;
    }
    this._patchLength(start - 1, pos);
  }

  /** Writes length-prefixed raw bytes (no tag). */
  bytes(value: Uint8Array): void {
    this.uint(value.length);
    this._ensure(value.length);
    this._buf.set(value, this._pos);
    this._pos += value.length;
  }

  /** Starts a length-delimited field: writes `tagValue` and reserves one length byte. */
  fork(tagValue: number): void {
    this.uint(tagValue);
    this._ensure(1);
    this._stack.push(++this._pos);
  }

  /** Starts a length-delimited body without a tag (for packed arrays whose tag was written). */
  forkNoTag(): void {
    this._ensure(1);
    this._stack.push(++this._pos);
  }

  /** Closes the innermost `fork`: writes the body length, moving the body when the length needs > 1 byte. */
  join(): void {
    const start = this._stack.pop();
    if (start === undefined) throw new Error('ProtobufWriter.join without fork');
    this._patchLength(start - 1, this._pos);
  }

  /**
   * The body occupies [lenAt + 1, end) and one byte at lenAt was reserved for its length. Writes the
   * length, shifting the body right if the varint is longer than one byte.
   */
  private _patchLength(lenAt: number, end: number): void {
    const len = end - lenAt - 1;
    if (len < 0x80) {
      this._buf[lenAt] = len;
      this._pos = end;
      return;
    }
    const size = varintSize(len);
    this._ensure(size - 1 + (end - this._pos));
    const buf = this._buf;
    buf.copyWithin(lenAt + size, lenAt + 1, end);
    let v = len;
    let p = lenAt;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    this._pos = end + size - 1;
  }

  // --- Field helpers (tag + value), skipping proto3 defaults where the name says so. -----------------

  /** Writes a varint field when `value !== 0` (int32/uint32/enum/bool semantics). */
  uintField(tagValue: number, value: number): void {
    if (value === 0) return;
    this.uint(tagValue);
    this.uint(value);
  }

  /** Writes a 64-bit varint field when `value !== 0n`. */
  bigVarintField(tagValue: number, value: bigint): void {
    if (value === 0n) return;
    this.uint(tagValue);
    this.bigVarint(value);
  }

  /** Writes a fixed64 field when `value !== 0n`. */
  fixed64Field(tagValue: number, value: bigint): void {
    if (value === 0n) return;
    this.uint(tagValue);
    this.fixed64(value);
  }

  /** Writes a string field when non-empty. */
  stringField(tagValue: number, value: string | undefined): void {
    if (value === undefined || value.length === 0) return;
    this.uint(tagValue);
    this.string(value);
  }

  /** Writes a bytes field when non-empty. */
  bytesField(tagValue: number, value: Uint8Array | undefined): void {
    if (value === undefined || value.length === 0) return;
    this.uint(tagValue);
    this.bytes(value);
  }

  /** Writes a packed repeated int32 field (omitted when empty). */
  packedInt32(tagValue: number, values: readonly number[]): void {
    const n = values.length;
    if (n === 0) return;
    this.uint(tagValue);
    this.forkNoTag();
    for (let i = 0; i < n; i++) this.uint(values[i]!);
    this.join();
  }

  /** Writes a packed repeated int64/uint64 field (omitted when empty). */
  packedBigVarint(tagValue: number, values: readonly bigint[]): void {
    const n = values.length;
    if (n === 0) return;
    this.uint(tagValue);
    this.forkNoTag();
    for (let i = 0; i < n; i++) this.bigVarint(values[i]!);
    this.join();
  }

  /** Writes a packed repeated fixed64 field: exact length 8·n known up front, so no patching. */
  packedFixed64(tagValue: number, values: readonly bigint[]): void {
    const n = values.length;
    if (n === 0) return;
    this.uint(tagValue);
    this.uint(n * 8);
    this._ensure(n * 8);
    const view = this._view;
    let pos = this._pos;
    for (let i = 0; i < n; i++) {
      view.setBigUint64(pos, values[i]!, true);
      pos += 8;
    }
    this._pos = pos;
  }
}

/** Number of bytes of the varint encoding of a non-negative 32-bit length. */
function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x20_0000) return 3;
  if (v < 0x1000_0000) return 4;
  return 5;
}
