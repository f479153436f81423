import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  decodeExportRequest,
  decodeExportResponse,
  encodeExportResponse,
} from '../../../src/profiles/encoding/decode-request.js';
import {
  exportRequestType,
  exportResponseType,
  PROFILES_PROTO_DIR,
  retryInfoType,
  rpcStatusType,
} from '../../../src/profiles/encoding/proto-schema.js';
import { readFields } from '../../support/encoding-wire-reader.js';

describe('proto schema', () => {
  it('resolves the proto directory relative to the module and finds every exported type', () => {
    assert.ok(
      existsSync(
        fileURLToPath(
          new URL('opentelemetry/proto/profiles/v1development/profiles.proto', PROFILES_PROTO_DIR),
        ),
      ),
    );
    assert.equal(
      exportRequestType().fullName,
      '.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest',
    );
    assert.equal(
      exportResponseType().fullName,
      '.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse',
    );
    assert.equal(rpcStatusType().fullName, '.google.rpc.Status');
    assert.equal(retryInfoType().fullName, '.google.rpc.RetryInfo');
    assert.equal(exportRequestType(), exportRequestType(), 'cached');
  });

  it('decodes a google.rpc.Status carrying a RetryInfo detail', () => {
    const retry = retryInfoType();
    const detail = retry.encode(retry.fromObject({ retryDelay: { seconds: 3, nanos: 500 } })).finish();
    const status = rpcStatusType();
    const bytes = status
      .encode(
        status.fromObject({
          code: 8,
          message: 'slow down',
          details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: detail }],
        }),
      )
      .finish();
    const back = status.toObject(status.decode(bytes), { longs: Number }) as {
      code: number;
      details: { typeUrl: string; value: Uint8Array }[];
    };
    assert.equal(back.code, 8);
    const info = retry.toObject(retry.decode(back.details[0]!.value), { longs: Number }) as {
      retryDelay: { seconds: number; nanos: number };
    };
    assert.deepEqual(info.retryDelay, { seconds: 3, nanos: 500 });
  });
});

describe('ExportProfilesServiceResponse protobuf', () => {
  it('round-trips full success, partial rejection and warnings', () => {
    assert.deepStrictEqual([...encodeExportResponse({})], []);
    assert.deepStrictEqual(decodeExportResponse(new Uint8Array(0)), {});
    const partial = { partialSuccess: { rejectedProfiles: 12n, errorMessage: 'too old' } };
    const bytes = encodeExportResponse(partial);
    // partial_success = field 1; rejected_profiles = 1 (varint), error_message = 2.
    const inner = readFields(readFields(bytes)[0]!.bytes!);
    assert.deepStrictEqual(
      inner.map((f) => [f.field, f.wireType]),
      [
        [1, 0],
        [2, 2],
      ],
    );
    assert.equal(inner[0]!.varint, 12n);
    assert.deepStrictEqual(decodeExportResponse(bytes), partial);
    const empty = { partialSuccess: { rejectedProfiles: 0n, errorMessage: '' } };
    assert.deepStrictEqual([...encodeExportResponse(empty)], [0x0a, 0x00]);
    assert.deepStrictEqual(decodeExportResponse(encodeExportResponse(empty)), empty);
  });

  it('rejects malformed bytes with an actionable message', () => {
    assert.throws(
      () => decodeExportResponse(Uint8Array.from([0x0a, 0x05, 0x08])),
      /cannot decode ExportProfilesServiceResponse \(3 bytes\)/,
    );
    assert.throws(
      () => decodeExportRequest(Uint8Array.from([0x12, 0x7f])),
      /cannot decode ExportProfilesServiceRequest/,
    );
  });

  it('decodes unpacked repeated scalars and foreign reference attributes (key_strindex, string_value_strindex)', () => {
    // Hand-assembled: dictionary { stack_table { location_indices: 1 (unpacked) location_indices: 2 } },
    // resource_profiles { resource { attributes { key_strindex: 3 value { string_value_strindex: 4 } } } }
    const bytes = Uint8Array.from([
      0x0a, 0x0a, 0x0a, 0x08, 0x0a, 0x06, 0x12, 0x02, 0x40, 0x04, 0x18, 0x03, 0x12, 0x06, 0x3a, 0x04, 0x08,
      0x01, 0x08, 0x02,
    ]);
    const r = decodeExportRequest(bytes);
    assert.deepStrictEqual(r.dictionary.stackTable, [{ locationIndices: [1, 2] }]);
    assert.deepStrictEqual(r.resourceProfiles[0]!.resource!.attributes, [
      { key: '', value: { stringValueStrindex: 4 }, keyStrindex: 3 },
    ]);
  });
});
