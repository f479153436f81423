import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { detectSampleLayout, rewriteV19Samples, WireFormatError } from '../../src/relay/sample-layout.js';
import { igRequest } from '../support/ig-otlp-wire.js';

const row = (value: number, attributes: Record<string, string> = { 'proc.comm': 'app' }) => ({
  stacks: ['k; ', 'u; '],
  value,
  attributes,
});

describe('Sample layout', () => {
  it('tells v1.9 from v1.10 by the wire types of fields 3 and 4', () => {
    assert.deepEqual(detectSampleLayout(igRequest([row(3)], { layout: 'v1.9' })), {
      kind: 'layout',
      layout: 'v1.9',
      evidence: true,
    });
    assert.deepEqual(detectSampleLayout(igRequest([row(3)], { layout: 'v1.10' })), {
      kind: 'layout',
      layout: 'v1.10',
      evidence: true,
    });
  });

  it('reads a v1.9 sample with values only (no attributes) as v1.9: as v1.10 it would have no value', () => {
    const bytes = igRequest([row(9, {})], { layout: 'v1.9' });
    const detected = detectSampleLayout(bytes);
    assert.equal(detected.kind === 'layout' && detected.layout, 'v1.9');
    const sample = decodeExportRequest(rewriteV19Samples(bytes)).resourceProfiles[0]!.scopeProfiles[0]!
      .profiles[0]!.samples[0]!;
    assert.deepEqual(sample.values, [9n]);
    assert.deepEqual(sample.attributeIndices, []);
  });

  it('renumbers v1.9 samples so the normal decoder reads values and attributes right', () => {
    const v19 = decodeExportRequest(rewriteV19Samples(igRequest([row(5), row(6)], { layout: 'v1.9' })));
    const v110 = decodeExportRequest(igRequest([row(5), row(6)], { layout: 'v1.10' }));
    assert.deepEqual(v19, v110);
  });

  it('refuses a request mixing layouts, naming both samples', () => {
    const a = igRequest([row(1)], { layout: 'v1.9' });
    const b = igRequest([row(2)], { layout: 'v1.10' });
    // Two ResourceProfiles (field 1) of different layouts in one request: the first field of each request.
    const mixed = Uint8Array.from([...a.subarray(0, lengthOfFirst(a)), ...b]);
    const detected = detectSampleLayout(mixed);
    assert.equal(detected.kind, 'mixed');
    assert.match(
      detected.kind === 'mixed' ? detected.message : '',
      /resource_profiles\[0\].*v1\.9.*resource_profiles\[1\].*v1\.10/,
    );
  });

  it('names the byte offset of truncated input', () => {
    const bytes = igRequest([row(1)], { layout: 'v1.9' });
    assert.throws(() => detectSampleLayout(bytes.subarray(0, bytes.length - 3)), WireFormatError);
  });
});

/** Bytes of the first top-level field (tag + length varint + body). */
function lengthOfFirst(bytes: Uint8Array): number {
  let len = 0;
  let shift = 0;
  let pos = 1;
  for (;;) {
    const b = bytes[pos++]!;
    len |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return pos + len;
}
