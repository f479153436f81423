import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import type { GadgetData, GadgetDataArray } from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import {
  decodeGadgetData,
  decodeGadgetDataArray,
  decodeGadgetDataArrayByReflection,
  decodeGadgetDataByReflection,
  encodeGadgetData,
  encodeGadgetDataArray,
} from '../../../src/gadget-bridge/grpc/gadget-api.js';
import { readGadgetData, readGadgetDataArray } from '../../../src/gadget-bridge/grpc/gadget-data-reader.js';
import { PackedDataElement, packElement } from '../../../src/gadget-bridge/grpc/packed-data-element.js';

/** Messages as plain values: payload slots as byte arrays, whatever class holds them. */
function plainArray(m: GadgetDataArray): unknown {
  return { node: m.node, seq: m.seq, dataArray: m.dataArray.map((e) => e.payload.map((p) => [...p])) };
}
function plainSingle(m: GadgetData): unknown {
  return { node: m.node, seq: m.seq, data: m.data.payload.map((p) => [...p]) };
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
/** Slots of every size class, including empty ones and ones needing 2- and 3-byte length varints. */
const SLOTS = [
  bytes(),
  bytes(0),
  bytes(1, 2, 3),
  new Uint8Array(200).map((_, i) => i),
  new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff),
];

const ARRAYS: GadgetDataArray[] = [
  { node: '', seq: 0, dataArray: [] },
  { node: 'node-ü', seq: 1, dataArray: [{ payload: [] }] },
  {
    node: 'n',
    seq: 4294967295,
    dataArray: [{ payload: SLOTS }, { payload: [] }, { payload: SLOTS.slice(1, 3) }],
  },
  {
    node: 'aks-nodepool1-24318594-vmss000002',
    seq: 300,
    dataArray: Array.from({ length: 50 }, (_, i) => ({ payload: SLOTS.slice(i % 4, 5) })),
  },
];

/** A protobuf writer for messages the encoders above never produce (unknown fields, merges). */
function raw(build: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create();
  build(w);
  return w.finish();
}
function element(w: protobuf.Writer, slots: Uint8Array[], extra?: (w: protobuf.Writer) => void): void {
  const inner = protobuf.Writer.create();
  for (const s of slots) inner.uint32((1 << 3) | 2).bytes(s);
  extra?.(inner);
  w.uint32((3 << 3) | 2).bytes(inner.finish());
}

describe('hand-written GadgetData(Array) reader', () => {
  for (const [i, message] of ARRAYS.entries()) {
    it(`reads GadgetDataArray #${i} as protobufjs does`, () => {
      const encoded = encodeGadgetDataArray(message);
      assert.deepEqual(plainArray(decodeGadgetDataArray(encoded)), plainArray(message));
      assert.deepEqual(
        plainArray(readGadgetDataArray(encoded)),
        plainArray(decodeGadgetDataArrayByReflection(encoded)),
      );
      // From a Buffer (what grpc-js hands over), at a non-zero offset of a larger allocation.
      const inBuffer = Buffer.concat([Buffer.from('junk'), encoded]).subarray(4);
      assert.deepEqual(plainArray(readGadgetDataArray(inBuffer)), plainArray(message));
    });
  }

  it('reads GadgetData as protobufjs does, with and without data', () => {
    for (const m of [
      { node: 'x', seq: 7, data: { payload: SLOTS } },
      { node: '', seq: 0, data: { payload: [] } },
    ]) {
      const encoded = encodeGadgetData(m);
      assert.deepEqual(plainSingle(decodeGadgetData(encoded)), plainSingle(m));
      assert.deepEqual(
        plainSingle(readGadgetData(encoded)),
        plainSingle(decodeGadgetDataByReflection(encoded)),
      );
    }
    assert.deepEqual(plainSingle(readGadgetData(new Uint8Array(0))), { node: '', seq: 0, data: [] });
  });

  it('skips unknown fields of every wire type, keeps the last node/seq, merges a repeated singular data', () => {
    const encoded = raw((w) => {
      w.uint32((1 << 3) | 2).string('first');
      w.uint32((9 << 3) | 0).int32(-1); // unknown varint, 10 bytes
      w.uint32((10 << 3) | 1).fixed64(1); // unknown fixed64
      w.uint32((11 << 3) | 5).fixed32(1); // unknown fixed32
      w.uint32((12 << 3) | 2).bytes(bytes(9, 9)); // unknown bytes
      w.uint32((13 << 3) | 3)
        .uint32((14 << 3) | 0)
        .uint32(1)
        .uint32((13 << 3) | 4); // unknown group
      element(w, [bytes(1)], (inner) => inner.uint32((2 << 3) | 0).uint32(5)); // unknown field in element
      w.uint32((2 << 3) | 0).uint32(10);
      element(w, [bytes(2), bytes(3)]);
      w.uint32((1 << 3) | 2).string('last');
      w.uint32((2 << 3) | 0).uint64(2 ** 32 + 11); // uint32 keeps the low 32 bits
    });
    const reference = decodeGadgetDataArrayByReflection(encoded);
    assert.deepEqual(plainArray(readGadgetDataArray(encoded)), plainArray(reference));
    assert.deepEqual(plainArray(readGadgetDataArray(encoded)), {
      node: 'last',
      seq: 11,
      dataArray: [[[1]], [[2], [3]]],
    });
    assert.deepEqual(
      plainSingle(readGadgetData(encoded)),
      plainSingle(decodeGadgetDataByReflection(encoded)),
    );
    assert.deepEqual(plainSingle(readGadgetData(encoded)), { node: 'last', seq: 11, data: [[1], [2], [3]] });
  });

  it('rejects truncated and malformed messages instead of reading past the end', () => {
    const good = encodeGadgetDataArray(ARRAYS[2]!);
    for (const cut of [1, 2, 5, good.length - 1]) {
      assert.throws(
        () => readGadgetDataArray(good.subarray(0, cut)),
        /malformed IG data message/,
        `cut at ${cut}`,
      );
    }
    assert.throws(() => readGadgetDataArray(bytes((1 << 3) | 7)), /invalid wire type 7/);
    assert.throws(
      () => readGadgetDataArray(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)),
      /varint/,
    );
  });

  it('elements are packed offsets; payload views are created on demand and match', () => {
    const decoded = readGadgetDataArray(encodeGadgetDataArray(ARRAYS[2]!));
    const first = decoded.dataArray[0]!;
    assert.ok(first instanceof PackedDataElement);
    assert.equal(first.count, SLOTS.length);
    assert.equal(Object.getPrototypeOf(first.payload[0]), Uint8Array.prototype);
    // packElement copies a plain element into the same representation.
    const copied = packElement({ payload: SLOTS });
    assert.deepEqual(
      copied.payload.map((p) => [...p]),
      SLOTS.map((p) => [...p]),
    );
    assert.equal(packElement(first), first);
  });
});
