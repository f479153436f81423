import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getProfilesProtoRoot } from '../../../src/profiles/encoding/proto-schema.js';
import {
  RETRY_INFO_TYPE_URL,
  decodeRpcStatus,
  encodeRpcStatus,
} from '../../../src/exporter/transport/rpc-status.js';

// Encodes Status/RetryInfo from plain objects, independently of encodeRpcStatus.
const root = getProfilesProtoRoot();
const StatusType = root.lookupType('google.rpc.Status');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');
const BadRequestType = root.lookupType('google.rpc.BadRequest');

function statusBytes(
  code: number,
  message: string,
  details: { typeUrl: string; value: Uint8Array }[],
): Uint8Array {
  return StatusType.encode(StatusType.fromObject({ code, message, details })).finish();
}

function retryInfo(seconds: number, nanos: number): Uint8Array {
  return RetryInfoType.encode(RetryInfoType.fromObject({ retryDelay: { seconds, nanos } })).finish();
}

describe('decodeRpcStatus', () => {
  it('reads code, message and the RetryInfo delay in milliseconds', () => {
    const status = decodeRpcStatus(
      statusBytes(14, 'try later', [{ typeUrl: RETRY_INFO_TYPE_URL, value: retryInfo(2, 500_000_000) }]),
    );
    assert.equal(status.code, 14);
    assert.equal(status.message, 'try later');
    assert.equal(status.retryDelayMs, 2500);
    assert.equal(status.details.length, 1);
    assert.equal(status.details[0]?.typeUrl, RETRY_INFO_TYPE_URL);
  });

  it('rounds sub-millisecond delays up so the client waits at least that long', () => {
    const status = decodeRpcStatus(
      statusBytes(8, '', [{ typeUrl: RETRY_INFO_TYPE_URL, value: retryInfo(0, 1) }]),
    );
    assert.equal(status.retryDelayMs, 1);
  });

  it('keeps other details undecoded and finds RetryInfo among them', () => {
    const badRequest = BadRequestType.encode(
      BadRequestType.fromObject({ fieldViolations: [{ field: 'dictionary', description: 'missing' }] }),
    ).finish();
    const status = decodeRpcStatus(
      statusBytes(3, 'bad', [
        { typeUrl: 'type.googleapis.com/google.rpc.BadRequest', value: badRequest },
        { typeUrl: RETRY_INFO_TYPE_URL, value: retryInfo(1, 0) },
      ]),
    );
    assert.deepEqual(
      status.details.map((d) => d.typeUrl),
      ['type.googleapis.com/google.rpc.BadRequest', RETRY_INFO_TYPE_URL],
    );
    assert.deepEqual(Buffer.from(status.details[0]!.value), Buffer.from(badRequest));
    assert.equal(status.retryDelayMs, 1000);
  });

  it('has no retryDelayMs without RetryInfo, and an empty Status is code 0', () => {
    const status = decodeRpcStatus(new Uint8Array(0));
    assert.deepEqual(status, { code: 0, message: '', details: [] });
  });

  it('ignores a RetryInfo detail whose bytes do not decode', () => {
    const status = decodeRpcStatus(
      statusBytes(14, 'x', [{ typeUrl: RETRY_INFO_TYPE_URL, value: Uint8Array.of(0x0a, 0x05, 0x08) }]),
    );
    assert.equal(status.retryDelayMs, undefined);
    assert.equal(status.code, 14);
  });

  it('throws on bytes that are not a Status', () => {
    assert.throws(() => decodeRpcStatus(Buffer.from('<html>502 Bad Gateway</html>')));
  });
});

describe('encodeRpcStatus', () => {
  it('writes a Status that an independent decoder reads, with RetryInfo as seconds + nanos', () => {
    const bytes = encodeRpcStatus({ code: 8, message: 'slow down', retryDelayMs: 1500 });
    const raw = StatusType.toObject(StatusType.decode(bytes), { longs: String }) as {
      code: number;
      message: string;
      details: { typeUrl: string; value: Uint8Array }[];
    };
    assert.equal(raw.code, 8);
    assert.equal(raw.message, 'slow down');
    assert.equal(raw.details.length, 1);
    assert.equal(raw.details[0]?.typeUrl, RETRY_INFO_TYPE_URL);
    const info = RetryInfoType.toObject(RetryInfoType.decode(raw.details[0].value), { longs: String });
    assert.deepEqual(info, { retryDelay: { seconds: '1', nanos: 500_000_000 } });
  });

  it('round-trips through decodeRpcStatus, and omits details without a delay', () => {
    assert.equal(
      decodeRpcStatus(encodeRpcStatus({ code: 14, message: 'm', retryDelayMs: 30_000 })).retryDelayMs,
      30_000,
    );
    const plain = decodeRpcStatus(encodeRpcStatus({ code: 3, message: 'invalid' }));
    assert.deepEqual(plain, { code: 3, message: 'invalid', details: [] });
  });
});
