/**
 * A small hand-written protobuf reader for the OTLP profiles hot path (the counterpart of ProtobufWriter).
 *
 * Design: one cursor (`pos`) over the input and the end of the message being read (`limit`); every read is
 * bounds-checked against `limit`, so a field can never read into its parent's bytes. Nothing is allocated
 * per field except the values themselves (strings, bigints, copied bytes). Errors are ProtobufDecodeError
 * with the byte offset; the message decoders add the field path while the error unwinds.
 *
 * The wire rules follow protobufjs 8 (the decoder this one replaced) wherever a valid input is concerned:
 * tags of at most 5 bytes below 2^32, lengths of at most 5 bytes below 2^31, field number 0 rejected,
 * varints of at most 10 bytes (bits beyond 64 ignored), groups skipped with their end tag checked, strings
 * strict UTF-8 (WHATWG, a BOM kept). It is stricter on broken input: see ProtobufDecodeError's callers.
 */

/** Wire types. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** Deepest message (or group) nesting accepted: protobufjs' and protoc's default recursion limit. */
export const MAX_DEPTH = 100;

/**
 * ASCII strings up to this many bytes are interned: a request repeats the same attribute keys and values
 * (k8s.pod.name, container ids, service names) in every resource, thousands of times; returning the
 * string decoded before saves the allocation (and its GC) and the copy. Longer strings are rarely repeated.
 */
const INTERNED_STRING_BYTES = 80;
/** Slots of the interning cache (direct-mapped by a hash of the bytes; a collision just decodes again). */
const INTERN_SLOTS = 4096;

/** The interning cache, shared by every decode: strings are immutable, so sharing them is invisible. */
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

const TWO_32 = 0x1_0000_0000;
/** A 64-bit varint whose high half is below this is < 2^53: exact as a JS number. */
const SAFE_HIGH = 0x20_0000;
/** A negative int64 whose high half is at least this is ≥ -2^53: exact as a JS number. */
const SAFE_NEGATIVE_HIGH = 0xffe0_0000;

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

/** Name of a wire type for error messages. */
export function wireTypeName(wireType: number): string {
  return `${WIRE_NAMES[wireType] ?? 'undefined'} (wire type ${wireType})`;
}

/** A decode failure at a byte offset; `path` grows (innermost first) as the message decoders unwind. */
export class ProtobufDecodeError extends Error {
  readonly reason: string;
  /** Byte offset of the problem in the input; undefined for a problem of the decoded content as a whole. */
  readonly offset: number | undefined;
  private readonly _path: string[] = [];

  constructor(reason: string, offset?: number) {
    super(offset === undefined ? reason : `${reason} (at byte ${offset})`);
    this.name = 'ProtobufDecodeError';
    this.reason = reason;
    this.offset = offset;
  }

  /** Adds the enclosing field (`samples[3]`, `dictionary`) and returns this error for rethrowing. */
  within(segment: string): this {
    this._path.push(segment);
    this.message = `${this.path}: ${this.reason}${this.offset === undefined ? '' : ` (at byte ${this.offset})`}`;
    return this;
  }

  /** The field path, outermost first (`dictionary.stack_table[4].location_indices`). */
  get path(): string {
    let out = '';
    for (let i = this._path.length - 1; i >= 0; i--) {
      const s = this._path[i]!;
      out += out === '' || s.startsWith('[') ? s : `.${s}`;
    }
    return out;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Cursor over protobuf bytes. Construct one per decode; not reusable across inputs. */
export class ProtobufReader {
  /** Byte offset of the next read. */
  pos = 0;
  /** End (exclusive) of the message being read; reads never cross it. */
  limit: number;
  private readonly _buf: Uint8Array;
  private readonly _text: Buffer;
  private readonly _view: DataView;

  constructor(bytes: Uint8Array) {
    // A plain Uint8Array view for indexing and copies (a Buffer's slice would share memory and carry
    // Buffer's prototype into the model), a Buffer view for native latin1 slicing; neither copies.
    this._buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this._text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this._view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.limit = bytes.byteLength;
  }

  /** An error at the current offset. */
  fail(reason: string, offset = this.pos): ProtobufDecodeError {
    return new ProtobufDecodeError(reason, offset);
  }

  /** Reads a field tag (field number << 3 | wire type): at most 5 bytes, below 2^32, field number ≥ 1. */
  tag(): number {
    const buf = this._buf;
    const pos = this.pos;
    if (pos < this.limit) {
      const b = buf[pos]!;
      if (b < 0x80) {
        if (b < 8) throw this.fail(`illegal tag ${b}: field number 0`);
        this.pos = pos + 1;
        return b;
      }
    }
    return this._tagSlow();
  }

  private _tagSlow(): number {
    const start = this.pos;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.limit) throw this.fail('truncated tag', start);
      const b = this._buf[this.pos++]!;
      if (i === 4 && b > 0x0f) throw this.fail('tag longer than 32 bits', start);
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) {
        if (value < 8) throw this.fail(`illegal tag ${value}: field number 0`, start);
        return value;
      }
    }
    throw this.fail('tag longer than 5 bytes', start);
  }

  /** Reads a varint and returns its low 32 bits as an unsigned number (uint32). */
  uint32(): number {
    const pos = this.pos;
    if (pos < this.limit) {
      const b = this._buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this._varint32Slow();
  }

  /** Reads a varint and returns its low 32 bits as a signed number (int32, as protobuf truncates). */
  int32(): number {
    return this.uint32() | 0;
  }

  private _varint32Slow(): number {
    const buf = this._buf;
    const limit = this.limit;
    const start = this.pos;
    let pos = start;
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= limit) throw this.fail('truncated varint', start);
      const b = buf[pos++]!;
      if (i < 5) value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw this.fail('varint longer than 10 bytes', start);
  }

  /** Reads a varint as a boolean: true when any of its bits is set (as protobufjs). */
  bool(): boolean {
    const buf = this._buf;
    const start = this.pos;
    let pos = start;
    let any = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.limit) throw this.fail('truncated varint', start);
      const b = buf[pos++]!;
      any |= b & 0x7f;
      if (b < 0x80) {
        this.pos = pos;
        return any !== 0;
      }
    }
    throw this.fail('varint longer than 10 bytes', start);
  }

  /** Reads a varint as a uint64 (`signed` false) or an int64 (two's complement) bigint, exactly. */
  varint64(signed: boolean): bigint {
    const buf = this._buf;
    const limit = this.limit;
    const start = this.pos;
    let pos = start;
    if (pos < limit && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return BigInt(buf[pos]!);
    }
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= limit) throw this.fail('truncated varint', start);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        return toBigInt64(lo >>> 0, hi >>> 0, signed);
      }
    }
    throw this.fail('varint longer than 10 bytes', start);
  }

  /** Reads 8 little-endian bytes as an unsigned bigint (fixed64). */
  fixed64(): bigint {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw this.fail(`truncated fixed64: 8 bytes needed, ${this.limit - pos} left`);
    this.pos = pos + 8;
    return this._view.getBigUint64(pos, true);
  }

  /** Reads an IEEE-754 double, little endian. */
  double(): number {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw this.fail(`truncated double: 8 bytes needed, ${this.limit - pos} left`);
    this.pos = pos + 8;
    return this._view.getFloat64(pos, true);
  }

  /**
   * Reads a length prefix (at most 5 bytes, below 2^31) and checks that many bytes remain in the message;
   * returns the end offset of the length-delimited content, leaving `pos` at its start.
   */
  lengthEnd(): number {
    const buf = this._buf;
    const start = this.pos;
    let pos = start;
    let len: number;
    if (pos < this.limit && buf[pos]! < 0x80) {
      len = buf[pos]!;
      pos++;
    } else {
      len = 0;
      for (let i = 0; ; i++) {
        if (pos >= this.limit) throw this.fail('truncated length', start);
        const b = buf[pos++]!;
        if (i === 4 && b > 0x07) throw this.fail('length prefix of 2 GiB or more', start);
        len += (b & 0x7f) * 2 ** (7 * i);
        if (b < 0x80) break;
      }
    }
    const end = pos + len;
    if (end > this.limit) {
      throw this.fail(
        `length ${len} runs past the end of its message (${this.limit - pos} bytes left)`,
        start,
      );
    }
    this.pos = pos;
    return end;
  }

  /** Reads a length-delimited string; strict UTF-8 as protobufjs' proto3 strings (a leading BOM is kept). */
  string(): string {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    const n = end - start;
    if (n === 0) return '';
    const buf = this._buf;
    if (n > INTERNED_STRING_BYTES) {
      for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return this._utf8(start, end);
      return this._text.latin1Slice(start, end);
    }
    let hash = 0x811c9dc5;
    let high = 0;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      high |= c;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    if (high >= 0x80) return this._utf8(start, end);
    const slot = hash & (INTERN_SLOTS - 1);
    const cached = interned[slot]!;
    if (cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return cached;
    }
    const s = this._text.latin1Slice(start, end);
    interned[slot] = s;
    return s;
  }

  private _utf8(start: number, end: number): string {
    try {
      return STRICT_UTF8.decode(this._buf.subarray(start, end));
    } catch {
      throw this.fail('string is not valid UTF-8', start);
    }
  }

  /**
   * Starts reading an embedded message: reads its length and makes its end the read limit. Returns the
   * enclosing message's limit, to give back to `leave` once the embedded message is read.
   */
  enter(): number {
    const outer = this.limit;
    this.limit = this.lengthEnd();
    return outer;
  }

  /** Ends an embedded message started with `enter` (its content was read up to its end). */
  leave(outer: number): void {
    this.limit = outer;
  }

  /** Appends a packed run of int32 varints (a length-delimited field) to `into`. */
  packedInt32(into: number[]): void {
    const end = this.lengthEnd();
    const buf = this._buf;
    while (this.pos < end) {
      const b = buf[this.pos]!;
      if (b < 0x80) {
        this.pos++;
        into.push(b);
      } else into.push(this._varint32Slow() | 0);
    }
    if (this.pos !== end) throw this.fail('the last varint of a packed field runs past its length', end);
  }

  /** Appends a packed run of int64 (`signed`) or uint64 varints to `into`. */
  packedVarint64(into: bigint[], signed: boolean): void {
    const end = this.lengthEnd();
    while (this.pos < end) into.push(this.varint64(signed));
    if (this.pos !== end) throw this.fail('the last varint of a packed field runs past its length', end);
  }

  /** Appends a packed run of fixed64 values to `into`; the length must be a multiple of 8. */
  packedFixed64(into: bigint[]): void {
    const start = this.pos;
    const end = this.lengthEnd();
    let pos = this.pos;
    if ((end - pos) % 8 !== 0) {
      throw this.fail(`packed fixed64 field of ${end - pos} bytes, not a multiple of 8`, start);
    }
    const view = this._view;
    for (; pos < end; pos += 8) into.push(view.getBigUint64(pos, true));
    this.pos = end;
  }

  /** Reads length-delimited bytes into a new plain Uint8Array (the model never aliases the input). */
  bytes(): Uint8Array {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    return this._buf.slice(start, end);
  }

  /**
   * Skips a field of the given wire type (unknown fields), groups included, as protobufjs does; `depth` is
   * the nesting of the message holding the field (each level of group adds one).
   */
  skip(wireType: number, fieldNumber: number, depth: number): void {
    if (depth > MAX_DEPTH) throw this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    switch (wireType) {
      case WIRE_VARINT:
        this._skipVarint();
        return;
      case WIRE_FIXED64:
        this._skipBytes(8);
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd();
        return;
      case WIRE_START_GROUP:
        this._skipGroup(fieldNumber, depth);
        return;
      case WIRE_FIXED32:
        this._skipBytes(4);
        return;
      case WIRE_END_GROUP:
        throw this.fail(`end-group tag of field ${fieldNumber} without a start-group`);
      default:
        throw this.fail(`invalid wire type ${wireType} (field ${fieldNumber})`);
    }
  }

  private _skipVarint(): void {
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) throw this.fail('truncated varint', start);
      if (this._buf[this.pos++]! < 0x80) return;
    }
    throw this.fail('varint longer than 10 bytes', start);
  }

  private _skipBytes(n: number): void {
    if (this.pos + n > this.limit) {
      throw this.fail(`truncated field: ${n} bytes needed, ${this.limit - this.pos} left`);
    }
    this.pos += n;
  }

  private _skipGroup(fieldNumber: number, depth: number): void {
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.limit)
        throw this.fail(`group of field ${fieldNumber} has no end-group tag`, start);
      const t = this.tag();
      const field = t >>> 3;
      const wireType = t & 7;
      if (wireType === WIRE_END_GROUP) {
        if (field !== fieldNumber) {
          throw this.fail(`group of field ${fieldNumber} closed by the end-group tag of field ${field}`);
        }
        return;
      }
      this.skip(wireType, field, depth + 1);
    }
  }
}

/** A 64-bit value from its halves; a JS number on the way whenever it is exact (the common case). */
function toBigInt64(lo: number, hi: number, signed: boolean): bigint {
  if (hi < SAFE_HIGH) return BigInt(hi * TWO_32 + lo);
  if (signed && hi >= SAFE_NEGATIVE_HIGH) return BigInt((hi - TWO_32) * TWO_32 + lo);
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, v) : v;
}

declare global {
  interface Buffer {
    /** Node's native latin1 slice (what `toString('latin1', start, end)` calls, without the dispatch). */
    latin1Slice(start: number, end: number): string;
  }
}
