import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportResponse, encodeExportResponse } from '../../src/profiles/encoding/decode-request.js';
import {
  fromOtlpJsonResponse as decodeExportResponseJson,
  toOtlpJsonResponse as encodeExportResponseJson,
} from '../../src/profiles/encoding/otlp-json.js';
import { successFromExportResponse } from '../../src/exporter/transport/partial-success.js';

describe('ExportProfilesServiceResponse protobuf', () => {
  it('decodes partial_success written by hand (field 1 { rejected_profiles=1: 3, error_message=2: "x" })', () => {
    const bytes = Uint8Array.of(0x0a, 0x05, 0x08, 0x03, 0x12, 0x01, 0x78);
    assert.deepEqual(decodeExportResponse(bytes), {
      partialSuccess: { rejectedProfiles: 3n, errorMessage: 'x' },
    });
  });

  it('round-trips, including 64-bit counts', () => {
    const response = {
      partialSuccess: { rejectedProfiles: 9_007_199_254_740_993n, errorMessage: 'too old' },
    };
    assert.deepEqual(decodeExportResponse(encodeExportResponse(response)), response);
  });

  it('reads empty bytes as full success', () => {
    assert.deepEqual(decodeExportResponse(new Uint8Array(0)), {});
  });

  it('throws on bytes that are not a response', () => {
    assert.throws(() => decodeExportResponse(Uint8Array.of(0x0a, 0x10, 0x08)));
  });
});

describe('ExportProfilesServiceResponse OTLP/JSON', () => {
  it('writes int64 as a decimal string under lowerCamelCase keys', () => {
    const text = encodeExportResponseJson({ partialSuccess: { rejectedProfiles: 3n, errorMessage: 'x' } });
    assert.deepEqual(JSON.parse(text), { partialSuccess: { rejectedProfiles: '3', errorMessage: 'x' } });
    assert.equal(encodeExportResponseJson({}), '{}');
  });

  it('reads strings or numbers, and snake_case keys like the Collector', () => {
    assert.deepEqual(
      decodeExportResponseJson('{"partialSuccess":{"rejectedProfiles":"3","errorMessage":"x"}}'),
      {
        partialSuccess: { rejectedProfiles: 3n, errorMessage: 'x' },
      },
    );
    assert.deepEqual(decodeExportResponseJson('{"partial_success":{"rejected_profiles":4}}'), {
      partialSuccess: { rejectedProfiles: 4n, errorMessage: '' },
    });
    assert.deepEqual(decodeExportResponseJson(''), {});
    assert.deepEqual(decodeExportResponseJson('{"unknownField":1}'), {});
  });

  it('rejects malformed JSON and wrong types', () => {
    assert.throws(() => decodeExportResponseJson('<html>'));
    assert.throws(() => decodeExportResponseJson('[1]'));
    assert.throws(() => decodeExportResponseJson('{"partialSuccess":{"rejectedProfiles":"many"}}'));
    assert.throws(() => decodeExportResponseJson('{"partialSuccess":{"rejectedProfiles":true}}'));
  });
});

describe('successFromExportResponse', () => {
  it('reports rejected profiles and the message', () => {
    assert.deepEqual(
      successFromExportResponse({ partialSuccess: { rejectedProfiles: 2n, errorMessage: 'bad stack' } }),
      {
        status: 'success',
        rejectedProfiles: 2,
        message: 'bad stack',
      },
    );
  });

  it('keeps a warning (0 rejected + message)', () => {
    assert.deepEqual(
      successFromExportResponse({ partialSuccess: { rejectedProfiles: 0n, errorMessage: 'deprecated' } }),
      {
        status: 'success',
        rejectedProfiles: 0,
        message: 'deprecated',
      },
    );
  });

  it('treats an empty or absent partial_success as full success', () => {
    assert.deepEqual(successFromExportResponse({}), { status: 'success' });
    assert.deepEqual(
      successFromExportResponse({ partialSuccess: { rejectedProfiles: 0n, errorMessage: '' } }),
      {
        status: 'success',
      },
    );
  });
});
