import { emptyDictionary } from '../../../src/profiles/model/otlp-model.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportRequest } from '../../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import { exportRequestType } from '../../../src/profiles/encoding/proto-schema.js';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import {
  cloneRequest,
  completeRequest,
  KERNEL_ADDRESS,
  NON_ASCII_NAME,
  T0,
  toProtobufjsPlain,
} from '../../support/encoding-fixtures.js';
import { fieldsNamed, only, readFields } from '../../support/encoding-wire-reader.js';

function protobufjsEncode(request: ExportProfilesServiceRequest): Uint8Array {
  const type = exportRequestType();
  return type.encode(type.fromObject(toProtobufjsPlain(request) as Record<string, unknown>)).finish();
}

describe('encodeExportRequest', () => {
  it('round-trips the complete request through protobufjs decoding unchanged', () => {
    const request = completeRequest();
    const decoded = decodeExportRequest(encodeExportRequest(request));
    assert.deepStrictEqual(decoded, request);
  });

  it('keeps 64-bit values above 2^53 exact (checked on protobufjs output with longs as strings)', () => {
    const bytes = encodeExportRequest(completeRequest());
    const type = exportRequestType();
    const raw = type.toObject(type.decode(bytes), { longs: String }) as {
      resourceProfiles: {
        scopeProfiles: {
          profiles: {
            timeUnixNano: string;
            samples: { timestampsUnixNano: string[]; values?: string[] }[];
          }[];
        }[];
      }[];
      dictionary: { locationTable: { address?: string }[] };
    };
    const p0 = raw.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
    assert.equal(p0.timeUnixNano, T0.toString());
    assert.deepEqual(p0.samples[0]!.timestampsUnixNano, [(T0 + 1n).toString(), (T0 + 2n).toString()]);
    assert.equal(raw.dictionary.locationTable[3]!.address, KERNEL_ADDRESS.toString());
    const p1 = raw.resourceProfiles[1]!.scopeProfiles[0]!.profiles[0]!;
    assert.deepEqual(p1.samples[0]!.values, ['3', (1n << 40n).toString()]);
  });

  it('produces exactly the bytes protobufjs produces for the same proto3 message', () => {
    const request = completeRequest();
    const ours = encodeExportRequest(request);
    const theirs = protobufjsEncode(request);
    assert.equal(ours.length, theirs.length);
    assert.deepStrictEqual(Buffer.from(ours), Buffer.from(theirs));
    // And our decoder reads protobufjs' bytes back to the same model.
    assert.deepStrictEqual(decodeExportRequest(theirs), request);
  });

  it('agrees with protobufjs on large messages, long/non-ASCII strings and negative int32', () => {
    const request = completeRequest();
    const dict = request.dictionary;
    // Strings longer than 127 bytes (multi-byte length prefixes), non-ASCII.
    const long = 'x'.repeat(300) + NON_ASCII_NAME.repeat(50);
    dict.stringTable.push(long, 'ä'.repeat(70));
    // Enough samples that profile, scope and resource bodies need 3-byte lengths (body moves on join).
    const profile = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
    for (let i = 0; i < 5000; i++) {
      profile.samples.push({
        stackIndex: 1 + (i % 2),
        attributeIndices: [4],
        linkIndex: 0,
        values: [],
        timestampsUnixNano: [T0 + BigInt(i)],
      });
    }
    // Negative int32 (10-byte varint), max uint64, negative int64 in a Line.
    dict.locationTable.push({
      mappingIndex: -1,
      address: (1n << 64n) - 1n,
      lines: [{ functionIndex: -2, line: -7n, column: 1n }],
      attributeIndices: [-3],
    });
    const ours = encodeExportRequest(request);
    const theirs = protobufjsEncode(request);
    assert.ok(ours.length > 16384 * 4);
    assert.deepStrictEqual(Buffer.from(ours), Buffer.from(theirs));
    const back = decodeExportRequest(ours);
    assert.equal(back.dictionary.stringTable.at(-2), long);
    assert.deepStrictEqual(back.dictionary.locationTable.at(-1), dict.locationTable.at(-1));
    assert.equal(back.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples.length, 5002);
  });

  it('writes valid UTF-8 for a lone surrogate (U+FFFD) where protobufjs would emit invalid bytes', () => {
    const request: ExportProfilesServiceRequest = {
      resourceProfiles: [],
      dictionary: { ...emptyDictionary(), stringTable: ['', 'a\ud800b'] },
    };
    const dictBytes = only(encodeExportRequest(request), 2);
    const entry = fieldsNamed(dictBytes, 5)[1]!.bytes!;
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(entry), 'a\ufffdb');
  });

  it('writes every table element, index-0 zero values as empty messages and "" as an empty string', () => {
    const request = completeRequest();
    const dictBytes = only(encodeExportRequest(request), 2);
    const d = request.dictionary;
    const expectCounts: [number, number][] = [
      [1, d.mappingTable.length],
      [2, d.locationTable.length],
      [3, d.functionTable.length],
      [4, d.linkTable.length],
      [5, d.stringTable.length],
      [6, d.attributeTable.length],
      [7, d.stackTable.length],
    ];
    for (const [field, count] of expectCounts) {
      const entries = fieldsNamed(dictBytes, field);
      assert.equal(entries.length, count, `dictionary field ${field}`);
      assert.equal(entries[0]!.wireType, 2);
      assert.equal(entries[0]!.bytes!.length, 0, `dictionary field ${field} index 0 is empty`);
    }
  });

  it('always writes the dictionary, even when every table is empty', () => {
    const bytes = encodeExportRequest({ resourceProfiles: [], dictionary: emptyDictionary() });
    assert.deepStrictEqual([...bytes], [0x12, 0x00]);
  });

  it('omits proto3 default scalars but keeps oneof members holding defaults', () => {
    const request: ExportProfilesServiceRequest = {
      resourceProfiles: [
        {
          resource: {
            attributes: [
              { key: 'zero', value: { intValue: 0n } },
              { key: 'f', value: { boolValue: false } },
            ],
          },
          scopeProfiles: [
            {
              profiles: [
                {
                  samples: [
                    { stackIndex: 0, attributeIndices: [], linkIndex: 0, values: [], timestampsUnixNano: [] },
                  ],
                  timeUnixNano: 0n,
                  durationNano: 0n,
                  period: 0n,
                  profileId: new Uint8Array(0),
                  attributeIndices: [],
                },
              ],
            },
          ],
        },
      ],
      dictionary: emptyDictionary(),
    };
    const bytes = encodeExportRequest(request);
    const rp = only(bytes, 1);
    const sp = only(rp, 2);
    const profile = only(sp, 2);
    // Profile: only the (empty) sample, nothing else.
    assert.deepStrictEqual(
      readFields(profile).map((f) => [f.field, f.bytes?.length]),
      [[2, 0]],
    );
    const attrs = fieldsNamed(only(rp, 1), 1).map((f) => readFields(only(f.bytes!, 2)));
    assert.deepStrictEqual(
      attrs.map((fs) => fs.map((f) => [f.field, f.varint])),
      [[[3, 0n]], [[2, 0n]]],
    );
    assert.deepStrictEqual(
      decodeExportRequest(bytes).resourceProfiles[0]!.resource,
      request.resourceProfiles[0]!.resource,
    );
  });

  it('returns independent buffers and identical bytes across calls (writer reuse)', () => {
    const big = completeRequest();
    const first = encodeExportRequest(big);
    const copy = Buffer.from(first);
    const small = encodeExportRequest({ resourceProfiles: [], dictionary: emptyDictionary() });
    const again = encodeExportRequest(cloneRequest(big));
    assert.deepStrictEqual(Buffer.from(first), copy, 'earlier result not overwritten');
    assert.deepStrictEqual(Buffer.from(again), copy);
    assert.deepStrictEqual([...small], [0x12, 0x00]);
  });
});
