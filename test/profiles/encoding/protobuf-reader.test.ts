import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufDecodeError, ProtobufReader } from '../../../src/profiles/encoding/protobuf-reader.js';
import { ProtobufWriter } from '../../../src/profiles/encoding/protobuf-writer.js';

/** The error a read throws (asserting it is a ProtobufDecodeError). */
function failure(read: () => unknown): ProtobufDecodeError {
  try {
    read();
  } catch (err) {
    assert.ok(err instanceof ProtobufDecodeError, `not a ProtobufDecodeError: ${String(err)}`);
    return err;
  }
  assert.fail('no error');
}

/** A reader over one varint written by our writer (a different implementation). */
function readerOfVarint(value: bigint): ProtobufReader {
  const w = new ProtobufWriter(16);
  w.bigVarint(value);
  return new ProtobufReader(w.finish());
}

describe('ProtobufReader', () => {
  it('reads 64-bit varints exactly, signed and unsigned, on both sides of 2^32, 2^53 and 2^63', () => {
    const edges: bigint[] = [];
    for (const bit of [0n, 7n, 14n, 31n, 32n, 35n, 52n, 53n, 56n, 62n, 63n]) {
      for (const delta of [-1n, 0n, 1n]) edges.push((1n << bit) + delta);
    }
    for (const u of [...edges, (1n << 64n) - 1n]) {
      if (u < 0n) continue;
      const r = readerOfVarint(u);
      assert.equal(r.varint64(false), u, `uint64 ${u}`);
      assert.equal(r.pos, r.limit);
      assert.equal(readerOfVarint(u).varint64(true), BigInt.asIntN(64, u), `int64 of the bits of ${u}`);
    }
    for (const s of [-1n, -2n, -(1n << 31n), -(1n << 53n), -(1n << 53n) - 1n, -(1n << 63n)]) {
      assert.equal(readerOfVarint(s).varint64(true), s, `int64 ${s}`);
    }
  });

  it('int32 and uint32 keep the low 32 bits (a negative int32 is 10 bytes on the wire)', () => {
    assert.equal(readerOfVarint(-5n).int32(), -5);
    assert.equal(readerOfVarint(0xffff_ffffn).uint32(), 0xffff_ffff);
    assert.equal(readerOfVarint(0xffff_ffffn).int32(), -1);
    assert.equal(readerOfVarint((1n << 40n) | 9n).uint32(), 9);
  });

  it('a varint of 10 bytes is read, of 11 bytes refused; a truncated one names its start', () => {
    const ten = new ProtobufReader(Uint8Array.from([...new Array<number>(9).fill(0x80), 0x01]));
    assert.equal(ten.varint64(false), 1n << 63n);
    const eleven = Uint8Array.from([...new Array<number>(10).fill(0x80), 0x01]);
    assert.match(
      failure(() => new ProtobufReader(eleven).varint64(false)).message,
      /^varint longer than 10 bytes \(at byte 0\)$/,
    );
    assert.match(failure(() => new ProtobufReader(eleven).uint32()).message, /varint longer than 10 bytes/);
    assert.match(failure(() => new ProtobufReader(eleven).bool()).message, /varint longer than 10 bytes/);
    const cut = new ProtobufReader(Uint8Array.from([0x01, 0x80, 0x80]));
    cut.pos = 1;
    assert.equal(failure(() => cut.varint64(true)).offset, 1);
  });

  it('reads never cross the limit of the message being read', () => {
    const r = new ProtobufReader(Uint8Array.from([0x03, 0x08, 0x96, 0x01, 0x00]));
    const outer = r.enter();
    assert.equal(r.limit, 4);
    assert.equal(r.tag(), 0x08);
    assert.equal(r.uint32(), 150);
    r.leave(outer);
    assert.equal(r.uint32(), 0);
    const inner = new ProtobufReader(Uint8Array.from([0x02, 0x08, 0x96, 0x01]));
    inner.enter();
    inner.tag();
    assert.match(failure(() => inner.uint32()).message, /^truncated varint \(at byte 2\)$/);
  });

  it('strings: ASCII, interned and not, non-ASCII, a BOM kept; invalid UTF-8 refused', () => {
    const w = new ProtobufWriter();
    const texts = [
      '',
      'k8s.pod.name',
      'x'.repeat(80),
      'y'.repeat(81),
      'fünction_✓_𝛑',
      '\uFEFFbom',
      'é'.repeat(60),
    ];
    for (const t of texts) w.string(t);
    const r = new ProtobufReader(w.finish());
    for (const t of texts) assert.equal(r.string(), t);
    for (const bad of [
      [0xc3, 0x28],
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated sequence
    ]) {
      const e = failure(() => new ProtobufReader(Uint8Array.from([bad.length, ...bad])).string());
      assert.match(e.message, /^string is not valid UTF-8 \(at byte 1\)$/);
    }
  });

  it('interning never returns a string decoded from other bytes (thousands of distinct strings through the cache)', () => {
    const w = new ProtobufWriter();
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) texts.push(`pod-${(i * 7919) % 20_011}-${i % 3 === 0 ? 'a' : 'bb'}`);
    for (const t of texts) w.string(t);
    const bytes = w.finish();
    for (let pass = 0; pass < 2; pass++) {
      const r = new ProtobufReader(bytes);
      for (const t of texts) assert.equal(r.string(), t);
    }
  });

  it('bytes are copies, in plain Uint8Arrays, also from a Buffer at an offset in a larger pool', () => {
    const pool = Buffer.alloc(64, 0xee);
    pool.set([0x03, 1, 2, 3], 10);
    const r = new ProtobufReader(pool.subarray(10, 14));
    const b = r.bytes();
    pool.fill(0);
    assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype);
    assert.deepEqual([...b], [1, 2, 3]);
  });

  it('skips unknown fields of every wire type, groups within groups, and checks the end-group field', () => {
    // 1: varint, 2: fixed64, 3: len, 4: group { 5: fixed32, 6: group { 7: varint } }
    const bytes = Uint8Array.from([
      0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x02, 0xaa, 0xbb, 0x23, 0x2d, 1, 2, 3, 4, 0x33,
      0x38, 0x01, 0x34, 0x24,
    ]);
    const r = new ProtobufReader(bytes);
    while (r.pos < r.limit) {
      const t = r.tag();
      r.skip(t & 7, t >>> 3, 0);
    }
    assert.equal(r.pos, bytes.length);
    const crossed = Uint8Array.from([0x23, 0x2c]);
    const r2 = new ProtobufReader(crossed);
    const t = r2.tag();
    assert.match(
      failure(() => r2.skip(t & 7, t >>> 3, 0)).message,
      /group of field 4 closed by the end-group tag of field 5/,
    );
  });

  it('groups nested past the depth limit are refused, not recursed into without bound', () => {
    const depth = 150;
    const bytes = Uint8Array.from([
      ...new Array<number>(depth).fill(0x0b),
      ...new Array<number>(depth).fill(0x0c),
    ]);
    const r = new ProtobufReader(bytes);
    const t = r.tag();
    assert.match(failure(() => r.skip(t & 7, t >>> 3, 0)).message, /nesting deeper than 100 levels/);
  });

  it('lengths of 2 GiB or more and tags of 2^32 or more are refused', () => {
    assert.match(
      failure(() => new ProtobufReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08])).lengthEnd()).message,
      /length prefix of 2 GiB or more/,
    );
    assert.match(
      failure(() => new ProtobufReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x10])).tag()).message,
      /tag longer than 32 bits/,
    );
  });

  it('the error path reads outermost first, list indices attached to their field', () => {
    const e = new ProtobufDecodeError('boom', 12).within('values').within('samples[3]').within('profiles[0]');
    assert.equal(e.path, 'profiles[0].samples[3].values');
    assert.equal(e.message, 'profiles[0].samples[3].values: boom (at byte 12)');
  });
});
