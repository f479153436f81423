import { emptyDictionary } from '../../../src/profiles/model/otlp-model.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportRequest } from '../../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import {
  fromOtlpJson,
  fromOtlpJsonResponse,
  toOtlpJson,
  toOtlpJsonResponse,
} from '../../../src/profiles/encoding/otlp-json.js';
import { exportRequestType } from '../../../src/profiles/encoding/proto-schema.js';
import {
  completeRequest,
  KERNEL_ADDRESS,
  PROFILE_ID,
  SPAN_ID,
  T0,
  TRACE_ID,
} from '../../support/encoding-fixtures.js';

// Parsed OTLP/JSON is inspected structurally; typing every level would only restate the JSON.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unnecessary-type-assertion */
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

describe('OTLP/JSON', () => {
  it('round-trips the complete request (toOtlpJson → fromOtlpJson) unchanged, in both id encodings', () => {
    const request = completeRequest();
    for (const bytesEncoding of ['hex', 'base64'] as const) {
      const text = toOtlpJson(request, { bytesEncoding });
      assert.ok(!text.includes('\n'), 'single line');
      assert.deepStrictEqual(fromOtlpJson(text), request, bytesEncoding);
    }
  });

  it('agrees with the protobuf path: fromOtlpJson(toOtlpJson(x)) equals decode(encode(x))', () => {
    const request = completeRequest();
    assert.deepStrictEqual(
      fromOtlpJson(toOtlpJson(request)),
      decodeExportRequest(encodeExportRequest(request)),
    );
  });

  it('writes lowerCamelCase keys, 64-bit integers as decimal strings and int32 as numbers', () => {
    const json = JSON.parse(toOtlpJson(completeRequest())) as J;
    const profile = json.resourceProfiles[0].scopeProfiles[0].profiles[0] as J;
    assert.equal(profile.timeUnixNano, T0.toString());
    assert.equal(profile.durationNano, '10000000000');
    assert.equal(profile.period, '10000000');
    assert.deepEqual(profile.samples[0].timestampsUnixNano, [(T0 + 1n).toString(), (T0 + 2n).toString()]);
    assert.equal(profile.samples[0].stackIndex, 1);
    assert.deepEqual(profile.samples[0].attributeIndices, [4, 5]);
    assert.equal(profile.samples[0].linkIndex, 1);
    assert.deepEqual(profile.attributeIndices, [6, 7]);
    const other = json.resourceProfiles[1].scopeProfiles[0].profiles[0] as J;
    assert.deepEqual(other.samples[0].values, ['3', (1n << 40n).toString()]);
    assert.equal(json.dictionary.locationTable[3].address, KERNEL_ADDRESS.toString());
    assert.equal(typeof json.dictionary.locationTable[3].mappingIndex, 'number');
    assert.deepEqual(json.dictionary.stackTable[2], { locationIndices: [3, 1, 2] });
    const attrs = json.resourceProfiles[0].resource.attributes as J[];
    assert.deepEqual(attrs.find((a) => a.key === 'process.pid')!.value, { intValue: '4242' });
    assert.deepEqual(attrs.find((a) => a.key === 'empty.string')!.value, { stringValue: '' });
    assert.deepEqual(attrs.find((a) => a.key === 'blob')!.value, {
      bytesValue: b64(Uint8Array.from([0, 1, 2, 0xfe, 0xff])),
    });
    // No snake_case key anywhere.
    const keys = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
      }
    };
    walk(json);
    assert.deepEqual(
      [...keys].filter((k) => k.includes('_')),
      [],
    );
  });

  it('keeps table entries (index 0 as {} and ""), omits default scalars and always writes the dictionary', () => {
    const request = completeRequest();
    const json = JSON.parse(toOtlpJson(request)) as J;
    const d = json.dictionary as J;
    for (const t of [
      'mappingTable',
      'locationTable',
      'functionTable',
      'linkTable',
      'attributeTable',
      'stackTable',
    ]) {
      assert.deepEqual(d[t][0], {}, t);
    }
    assert.equal(d.stringTable[0], '');
    assert.equal(d.stringTable.length, request.dictionary.stringTable.length);
    // Sample with link 0 omits linkIndex; Location line with column 0 omits column.
    const s1 = json.resourceProfiles[0].scopeProfiles[0].profiles[0].samples[1] as J;
    assert.equal('linkIndex' in s1, false);
    assert.equal('values' in s1, false);
    assert.deepEqual(d.locationTable[1].lines[1], { functionIndex: 1, line: '12' });
    assert.deepEqual(JSON.parse(toOtlpJson({ resourceProfiles: [], dictionary: emptyDictionary() })), {
      dictionary: {},
    });
  });

  it('writes traceId/spanId/profileId as hex by default and base64 on request; other bytes always base64', () => {
    const request = completeRequest();
    const hexJson = JSON.parse(toOtlpJson(request)) as J;
    assert.deepEqual(hexJson.dictionary.linkTable[1], { traceId: hex(TRACE_ID), spanId: hex(SPAN_ID) });
    assert.equal(hexJson.resourceProfiles[0].scopeProfiles[0].profiles[0].profileId, hex(PROFILE_ID));
    assert.equal(
      hexJson.resourceProfiles[1].scopeProfiles[0].profiles[0].originalPayload,
      b64(Uint8Array.from([0x1f, 0x8b, 0x08, 0x00])),
    );
    const b64Json = JSON.parse(toOtlpJson(request, { bytesEncoding: 'base64' })) as J;
    assert.deepEqual(b64Json.dictionary.linkTable[1], { traceId: b64(TRACE_ID), spanId: b64(SPAN_ID) });
    assert.equal(b64Json.resourceProfiles[0].scopeProfiles[0].profiles[0].profileId, b64(PROFILE_ID));
  });

  it('base64 JSON ids are what protobufjs (standard proto3 JSON, like Go protojson) produces', () => {
    const type = exportRequestType();
    const standard = type.toObject(type.decode(encodeExportRequest(completeRequest())), {
      bytes: String,
      longs: String,
    }) as J;
    const ours = JSON.parse(toOtlpJson(completeRequest(), { bytesEncoding: 'base64' })) as J;
    assert.deepEqual(ours.dictionary.linkTable[1], standard.dictionary.linkTable[1]);
    assert.equal(
      ours.resourceProfiles[0].scopeProfiles[0].profiles[0].profileId,
      standard.resourceProfiles[0].scopeProfiles[0].profiles[0].profileId,
    );
    // And the standard mapping (base64 ids, decimal-string 64-bit values) parses back to the same model.
    assert.deepStrictEqual(fromOtlpJson(JSON.stringify(standard)), completeRequest());
  });

  it('accepts snake_case keys, numbers for 64-bit values, upper-case hex ids', () => {
    const text = JSON.stringify({
      resource_profiles: [
        {
          resource: {
            attributes: [{ key: 'process.pid', value: { int_value: 42 } }],
            dropped_attributes_count: 1,
          },
          scope_profiles: [
            {
              scope: { name: 's', version: '1' },
              schema_url: 'u',
              profiles: [
                {
                  sample_type: { type_strindex: 1, unit_strindex: 2 },
                  samples: [
                    {
                      stack_index: 1,
                      attribute_indices: [1],
                      link_index: 1,
                      timestamps_unix_nano: [1000, '1001'],
                    },
                  ],
                  time_unix_nano: 1000,
                  duration_nano: '10',
                  profile_id: hex(PROFILE_ID).toUpperCase(),
                  attribute_indices: [],
                },
              ],
            },
          ],
        },
      ],
      dictionary: {
        mapping_table: [{}],
        location_table: [
          {},
          {
            mapping_index: 0,
            address: 4096,
            lines: [{ function_index: 1, line: 3 }],
            attribute_indices: [1],
          },
        ],
        function_table: [{}, { name_strindex: 3, start_line: '7' }],
        link_table: [{}, { trace_id: hex(TRACE_ID).toUpperCase(), span_id: b64(SPAN_ID) }],
        string_table: ['', 'samples', 'count', 'main', 'k'],
        attribute_table: [{}, { key_strindex: 4, value: { string_value: 'v' }, unit_strindex: 0 }],
        stack_table: [{}, { location_indices: [1] }],
      },
    });
    const r = fromOtlpJson(text);
    const p = r.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
    assert.deepStrictEqual(r.resourceProfiles[0]!.resource, {
      attributes: [{ key: 'process.pid', value: { intValue: 42n } }],
      droppedAttributesCount: 1,
    });
    assert.equal(r.resourceProfiles[0]!.scopeProfiles[0]!.schemaUrl, 'u');
    assert.deepStrictEqual(p.sampleType, { typeStrindex: 1, unitStrindex: 2 });
    assert.deepStrictEqual(p.samples, [
      { stackIndex: 1, attributeIndices: [1], linkIndex: 1, values: [], timestampsUnixNano: [1000n, 1001n] },
    ]);
    assert.equal(p.timeUnixNano, 1000n);
    assert.equal(p.durationNano, 10n);
    assert.deepStrictEqual(p.profileId, PROFILE_ID);
    assert.deepStrictEqual(r.dictionary.linkTable[1], { traceId: TRACE_ID, spanId: SPAN_ID });
    assert.deepStrictEqual(r.dictionary.locationTable[1], {
      mappingIndex: 0,
      address: 4096n,
      lines: [{ functionIndex: 1, line: 3n, column: 0n }],
      attributeIndices: [1],
    });
    assert.deepStrictEqual(r.dictionary.functionTable[1], {
      nameStrindex: 3,
      systemNameStrindex: 0,
      filenameStrindex: 0,
      startLine: 7n,
    });
    assert.deepStrictEqual(r.dictionary.attributeTable[1], {
      keyStrindex: 4,
      value: { stringValue: 'v' },
      unitStrindex: 0,
    });
    assert.deepStrictEqual(r.dictionary.mappingTable[0], {
      memoryStart: 0n,
      memoryLimit: 0n,
      fileOffset: 0n,
      filenameStrindex: 0,
      attributeIndices: [],
    });
  });

  it('handles non-finite doubles and rejects malformed input with the field path', () => {
    const request = completeRequest();
    const resource = request.resourceProfiles[0]!.resource!;
    resource.attributes = [
      ...resource.attributes,
      { key: 'nan', value: { doubleValue: NaN } },
      { key: 'inf', value: { doubleValue: -Infinity } },
    ];
    const text = toOtlpJson(request);
    assert.match(text, /"doubleValue":"NaN"/);
    assert.match(text, /"doubleValue":"-Infinity"/);
    const back = fromOtlpJson(text).resourceProfiles[0]!.resource!.attributes;
    assert.ok(Number.isNaN((back.at(-2)!.value as { doubleValue: number }).doubleValue));
    assert.equal((back.at(-1)!.value as { doubleValue: number }).doubleValue, -Infinity);

    assert.throws(
      () =>
        fromOtlpJson('{"resourceProfiles": [{"scopeProfiles": [{"profiles": [{"timeUnixNano": "12x"}]}]}]}'),
      /resource_profiles\[0\]\.scope_profiles\[0\]\.profiles\[0\]\.time_unix_nano/,
    );
    assert.throws(
      () => fromOtlpJson('{"dictionary": {"linkTable": [{"traceId": "not base64!"}]}}'),
      /dictionary\.link_table\[0\]\.trace_id/,
    );
    assert.throws(
      () => fromOtlpJson('{"dictionary": {"stackTable": [{"locationIndices": [1.5]}]}}'),
      /location_indices\[0\]/,
    );
    assert.throws(() => fromOtlpJson('not json'), /not valid JSON/);
    assert.throws(
      () =>
        fromOtlpJson('{"resourceProfiles": [{"scopeProfiles": [{"profiles": [{"timeUnixNano": "-1"}]}]}]}'),
      /out of range/,
    );
  });

  it('encodes and decodes ExportProfilesServiceResponse', () => {
    assert.equal(toOtlpJsonResponse({}), '{}');
    const partial = { partialSuccess: { rejectedProfiles: 3n, errorMessage: 'bad stack' } };
    const text = toOtlpJsonResponse(partial);
    assert.deepEqual(JSON.parse(text), {
      partialSuccess: { rejectedProfiles: '3', errorMessage: 'bad stack' },
    });
    assert.deepStrictEqual(fromOtlpJsonResponse(text), partial);
    assert.deepStrictEqual(fromOtlpJsonResponse('{"partial_success":{"rejected_profiles":2}}'), {
      partialSuccess: { rejectedProfiles: 2n, errorMessage: '' },
    });
    assert.deepStrictEqual(fromOtlpJsonResponse(''), {});
    assert.deepStrictEqual(fromOtlpJsonResponse('{}'), {});
    assert.deepStrictEqual(
      fromOtlpJsonResponse(
        toOtlpJsonResponse({ partialSuccess: { rejectedProfiles: 0n, errorMessage: '' } }),
      ),
      {
        partialSuccess: { rejectedProfiles: 0n, errorMessage: '' },
      },
    );
  });
});
