import protobuf from 'protobufjs';
import type { SeededRandom } from './seeded-random.js';

/**
 * Re-encodes protobuf bytes into other, equally valid encodings of the same message, driven by the
 * protobufjs reflection schema (for field kinds only; the bytes are read and written here, independent
 * of src/): repeated scalars unpacked or split into several packed runs, fields of different numbers
 * interleaved, singular embedded messages split into two occurrences (which a decoder must merge),
 * unknown fields of every wire type (groups nested in groups too) inserted anywhere, and tags, lengths
 * and varints padded to longer (non-canonical) encodings. A proto3 decoder must read every variant to
 * the same message.
 */

interface Scalar {
  readonly kind: 'scalar';
  readonly field: number;
  readonly wireType: number;
  /** Varint value, or the raw bytes of a fixed/length-delimited value. */
  readonly varint?: bigint;
  readonly raw?: Uint8Array;
}

interface Packed {
  readonly kind: 'packed';
  readonly field: number;
  readonly elementWireType: number;
  readonly elements: (bigint | Uint8Array)[];
}

interface Message {
  readonly kind: 'message';
  readonly field: number;
  readonly type: protobuf.Type;
  readonly repeated: boolean;
  readonly children: Node[];
}

interface Unknown {
  readonly kind: 'unknown';
  readonly bytes: number[];
}

type Node = Scalar | Packed | Message | Unknown;

/** Field numbers no message of the schema uses (a proto file may add them later: readers skip them). */
const UNKNOWN_FIELDS = [12, 15, 16, 99, 2047, 536_870_911];

function readVarint(buf: Uint8Array, at: { pos: number }): bigint {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const b = buf[at.pos++];
    if (b === undefined) throw new Error('wire-rewriter: truncated varint');
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
}

function parse(buf: Uint8Array, type: protobuf.Type): Node[] {
  const at = { pos: 0 };
  const out: Node[] = [];
  while (at.pos < buf.length) {
    const tag = Number(readVarint(buf, at));
    const field = tag >>> 3;
    const wireType = tag & 7;
    const f = type.fieldsById[field];
    if (wireType === 0) {
      out.push({ kind: 'scalar', field, wireType, varint: readVarint(buf, at) });
    } else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      out.push({ kind: 'scalar', field, wireType, raw: buf.slice(at.pos, at.pos + n) });
      at.pos += n;
    } else if (wireType === 2) {
      const len = Number(readVarint(buf, at));
      const body = buf.slice(at.pos, at.pos + len);
      at.pos += len;
      f?.resolve();
      if (f?.resolvedType instanceof protobuf.Type) {
        out.push({
          kind: 'message',
          field,
          type: f.resolvedType,
          repeated: f.repeated,
          children: parse(body, f.resolvedType),
        });
      } else if (f?.repeated && protobuf.types.packed[f.type as 'int32'] !== undefined) {
        const elementWireType = protobuf.types.basic[f.type as 'int32'];
        const elements: (bigint | Uint8Array)[] = [];
        const inner = { pos: 0 };
        while (inner.pos < body.length) {
          if (elementWireType === 0) elements.push(readVarint(body, inner));
          else {
            const n = elementWireType === 1 ? 8 : 4;
            elements.push(body.slice(inner.pos, inner.pos + n));
            inner.pos += n;
          }
        }
        out.push({ kind: 'packed', field, elementWireType, elements });
      } else out.push({ kind: 'scalar', field, wireType, raw: body });
    } else throw new Error(`wire-rewriter: unexpected wire type ${wireType}`);
  }
  return out;
}

export interface RewriteOptions {
  /** Percent chance per decision (pad, split, unpack, insert) of taking the non-canonical way. */
  readonly percent: number;
}

class Writer {
  readonly out: number[] = [];
  constructor(
    private readonly rnd: SeededRandom,
    readonly percent: number,
  ) {}

  chance(): boolean {
    return this.rnd.int(100) < this.percent;
  }

  /** A varint, padded with zero groups up to `maxBytes` now and then. */
  varint(v: bigint, maxBytes = 10): void {
    const groups: number[] = [];
    let x = BigInt.asUintN(64, v);
    do {
      groups.push(Number(x & 0x7fn));
      x >>= 7n;
    } while (x > 0n);
    if (this.chance()) {
      const pad = this.rnd.int(maxBytes - groups.length + 1);
      for (let i = 0; i < pad; i++) groups.push(0);
    }
    groups.forEach((g, i) => this.out.push(i < groups.length - 1 ? g | 0x80 : g));
  }

  tag(field: number, wireType: number): void {
    this.varint(BigInt(field * 8 + wireType), 5);
  }

  lengthDelimited(field: number, body: number[] | Uint8Array): void {
    this.tag(field, 2);
    this.varint(BigInt(body.length), 5);
    for (const b of body) this.out.push(b);
  }
}

function unknownField(rnd: SeededRandom, depth: number): number[] {
  const w = new Writer(rnd, 30);
  const field = UNKNOWN_FIELDS[rnd.int(UNKNOWN_FIELDS.length)]!;
  const wireType = [0, 1, 2, 3, 5][rnd.int(depth < 3 ? 5 : 4)]!;
  if (wireType === 0) {
    w.tag(field, 0);
    w.varint(BigInt(rnd.int(1 << 30)) << BigInt(rnd.int(34)));
  } else if (wireType === 1 || wireType === 5) {
    w.tag(field, wireType);
    for (let i = 0; i < (wireType === 1 ? 8 : 4); i++) w.out.push(rnd.int(256));
  } else if (wireType === 2) {
    w.lengthDelimited(
      field,
      Array.from({ length: rnd.int(12) }, () => rnd.int(256)),
    );
  } else {
    w.tag(field, 3);
    const n = rnd.int(3);
    for (let i = 0; i < n; i++) w.out.push(...unknownField(rnd, depth + 1));
    w.tag(field, 4);
  }
  return w.out;
}

/** Fields of different numbers interleaved at random; fields of one number keep their order. */
function interleave(rnd: SeededRandom, nodes: Node[]): Node[] {
  const queues = new Map<number, Node[]>();
  nodes.forEach((n, i) => {
    const key = n.kind === 'unknown' ? -1 - i : n.field;
    queues.set(key, [...(queues.get(key) ?? []), n]);
  });
  const out: Node[] = [];
  const lists = [...queues.values()];
  while (lists.length > 0) {
    const i = rnd.int(lists.length);
    out.push(lists[i]!.shift()!);
    if (lists[i]!.length === 0) lists.splice(i, 1);
  }
  return out;
}

function emit(w: Writer, rnd: SeededRandom, nodes: Node[], depth: number): void {
  let list = nodes.slice();
  if (w.chance()) list = interleave(rnd, list);
  for (let i = 0; i <= list.length; i++) {
    if (w.chance() && rnd.int(3) === 0)
      list.splice(i++, 0, { kind: 'unknown', bytes: unknownField(rnd, depth) });
  }
  for (const n of list) {
    if (n.kind === 'unknown') w.out.push(...n.bytes);
    else if (n.kind === 'scalar') {
      w.tag(n.field, n.wireType);
      if (n.wireType === 0) w.varint(n.varint!);
      else if (n.wireType === 2) {
        w.varint(BigInt(n.raw!.length), 5);
        w.out.push(...n.raw!);
      } else w.out.push(...n.raw!);
    } else if (n.kind === 'packed') emitPacked(w, rnd, n);
    else {
      // A singular embedded message may come in two parts: a decoder merges them into one.
      const parts =
        !n.repeated && n.children.length > 0 && w.chance()
          ? ((k) => [n.children.slice(0, k), n.children.slice(k)])(rnd.int(n.children.length + 1))
          : [n.children];
      for (const part of parts) {
        const inner = new Writer(rnd, w.percent);
        emit(inner, rnd, part, depth + 1);
        w.lengthDelimited(n.field, inner.out);
      }
    }
  }
}

function emitPacked(w: Writer, rnd: SeededRandom, n: Packed): void {
  const writeElement = (into: Writer, e: bigint | Uint8Array): void => {
    if (typeof e === 'bigint') into.varint(e);
    else into.out.push(...e);
  };
  if (w.chance()) {
    // Unpacked: each element with its own tag (what a proto2 or older encoder sends).
    for (const e of n.elements) {
      w.tag(n.field, n.elementWireType);
      writeElement(w, e);
    }
    return;
  }
  // Packed, in one run or cut into several (a decoder appends them all).
  const cuts = w.chance() ? [0, rnd.int(n.elements.length + 1), n.elements.length] : [0, n.elements.length];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const run = new Writer(rnd, 0);
    for (const e of n.elements.slice(cuts[c], cuts[c + 1])) writeElement(run, e);
    w.lengthDelimited(n.field, run.out);
  }
}

/** Another valid encoding of `bytes`, a message of `type`, chosen by `rnd`. */
export function rewriteWire(
  bytes: Uint8Array,
  type: protobuf.Type,
  rnd: SeededRandom,
  options: RewriteOptions,
): Uint8Array {
  const w = new Writer(rnd, options.percent);
  emit(w, rnd, parse(bytes, type), 0);
  return Uint8Array.from(w.out);
}
