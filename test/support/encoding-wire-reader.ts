/**
 * A minimal raw protobuf reader for tests: splits a message into (field, wireType, value) records
 * without any schema, so tests can assert field numbers and wire types on the bytes themselves.
 * Independent of src/ (and of protobufjs).
 */
export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Varint (wire type 0) as bigint. */
  readonly varint?: bigint;
  /** Fixed64 (wire type 1) as 8 raw bytes; length-delimited (wire type 2) body. */
  readonly bytes?: Uint8Array;
}

export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
}

export function readFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ field, wireType, varint: v });
    } else if (wireType === 1) {
      out.push({ field, wireType, bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wireType === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new Error(`length ${len} past end at ${p2}`);
      out.push({ field, wireType, bytes: buf.subarray(p2, end) });
      pos = end;
    } else if (wireType === 5) {
      out.push({ field, wireType, bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wireType} at ${pos}`);
    }
  }
  return out;
}

/** All occurrences of `field` in a message. */
export function fieldsNamed(buf: Uint8Array, field: number): WireField[] {
  return readFields(buf).filter((f) => f.field === field);
}

/** The single length-delimited occurrence of `field`; throws when absent or repeated. */
export function only(buf: Uint8Array, field: number): Uint8Array {
  const fs = fieldsNamed(buf, field);
  if (fs.length !== 1 || !fs[0]!.bytes)
    throw new Error(`expected exactly one field ${field}, found ${fs.length}`);
  return fs[0]!.bytes;
}

/** Decodes a packed varint body. */
export function packedVarints(body: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < body.length) {
    const [v, p] = readVarint(body, pos);
    out.push(v);
    pos = p;
  }
  return out;
}

/** Decodes a packed fixed64 body (little endian). */
export function packedFixed64(body: Uint8Array): bigint[] {
  if (body.length % 8 !== 0) throw new Error(`packed fixed64 length ${body.length} is not a multiple of 8`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < body.length; i += 8) out.push(view.getBigUint64(i, true));
  return out;
}
