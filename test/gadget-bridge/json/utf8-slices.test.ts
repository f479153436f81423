import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import { describe, it } from 'node:test';
import { createJsonFramer } from '../../../src/gadget-bridge/json/json-framer.js';
import {
  DECODE_SLICE_BYTES,
  decodeInSlices,
  decodeUtf8,
} from '../../../src/gadget-bridge/json/utf8-slices.js';

/** Text of `bytes` bytes or a little more, with multi-byte characters straddling every slice border. */
function multiByteText(bytes: number): string {
  const unit = 'abc-€-😀-ü,'; // 1-, 3-, 4- and 2-byte characters: some land across any border
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
}

describe('UTF-8 decoding in slices', () => {
  it('decodes a range larger than a slice exactly like Buffer#toString, split characters included', () => {
    const text = multiByteText(3 * DECODE_SLICE_BYTES + 17);
    const bytes = Buffer.from(`xx${text}yy`);
    for (const [start, end] of [
      [0, bytes.length],
      [2, bytes.length - 2],
      [5, DECODE_SLICE_BYTES + 3],
    ] as const) {
      assert.equal(
        decodeUtf8(bytes, start, end),
        bytes.toString('utf8', start, end),
        `range ${start}-${end}`,
      );
    }
  });

  it('hands every slice to the caller, in order, and leaves an incomplete character with the decoder', () => {
    const bytes = Buffer.from(`${multiByteText(2 * DECODE_SLICE_BYTES)}😀`);
    const decoder = new StringDecoder('utf8');
    const pieces: string[] = [];
    decodeInSlices(decoder, bytes, 0, bytes.length - 2, (p) => pieces.push(p));
    assert.ok(pieces.length >= 2, `${pieces.length} pieces`);
    decodeInSlices(decoder, bytes, bytes.length - 2, bytes.length, (p) => pieces.push(p));
    assert.equal(pieces.join(''), bytes.toString('utf8'));
  });

  it('replaces invalid bytes with U+FFFD as Buffer#toString does', () => {
    const bytes = Buffer.concat([
      Buffer.from('a'.repeat(DECODE_SLICE_BYTES - 1)),
      Buffer.from([0xe2, 0x28, 0xa1]),
      Buffer.from('z'.repeat(DECODE_SLICE_BYTES)),
    ]);
    assert.equal(decodeUtf8(bytes, 0, bytes.length), bytes.toString('utf8'));
  });

  it('lets the framer split a 1 MiB chunk of one array line into the same elements as small chunks', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ i, s: multiByteText(3000 + i) }));
    const input = Buffer.from(
      `${JSON.stringify(rows)}\n{"type":"gadget-data","data":${JSON.stringify(rows.slice(0, 80))}}\n`,
    );
    assert.ok(input.length > 1024 * 1024, 'one chunk larger than a file read');
    const frames = (size: number): unknown[] => {
      const framer = createJsonFramer();
      const out = [];
      for (let i = 0; i < input.length; i += size) out.push(...framer.push(input.subarray(i, i + size)));
      out.push(...framer.end());
      return out.map((f) =>
        f.kind === 'element'
          ? (JSON.parse(f.text) as unknown)
          : f.kind === 'envelope-end'
            ? f.members
            : f.kind,
      );
    };
    const whole = frames(input.length);
    assert.deepEqual(whole.slice(0, 400), rows);
    assert.equal(whole[400], 'array-end');
    assert.deepEqual(whole.slice(401, 481), rows.slice(0, 80));
    assert.deepEqual(whole.slice(481), ['{"type":"gadget-data","data":[]}']);
    assert.deepEqual(whole, frames(1000));
  });
});
