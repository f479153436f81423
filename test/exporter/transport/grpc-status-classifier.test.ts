import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyGrpcError } from '../../../src/exporter/transport/grpc-status-classifier.js';
import { encodeRpcStatus } from '../../../src/exporter/transport/rpc-status.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';

function errorOf(r: ExportResponse): Error {
  assert.notEqual(r.status, 'success');
  return (r as { error: Error }).error;
}

const target = 'otlp-grpc collector:4317';

/** The OTLP spec's table (proto repo docs/specification.md), written out independently. */
const SPEC_TABLE: [code: number, name: string, retryable: boolean][] = [
  [1, 'CANCELLED', true],
  [2, 'UNKNOWN', false],
  [3, 'INVALID_ARGUMENT', false],
  [4, 'DEADLINE_EXCEEDED', true],
  [5, 'NOT_FOUND', false],
  [6, 'ALREADY_EXISTS', false],
  [7, 'PERMISSION_DENIED', false],
  [8, 'RESOURCE_EXHAUSTED', false], // without RetryInfo
  [9, 'FAILED_PRECONDITION', false],
  [10, 'ABORTED', true],
  [11, 'OUT_OF_RANGE', true],
  [12, 'UNIMPLEMENTED', false],
  [13, 'INTERNAL', false],
  [14, 'UNAVAILABLE', true],
  [15, 'DATA_LOSS', true],
  [16, 'UNAUTHENTICATED', false],
];

describe('classifyGrpcError: the OTLP retry table', () => {
  for (const [code, name, retryable] of SPEC_TABLE) {
    it(`${name} (${code}) is ${retryable ? 'retryable' : 'permanent'}`, () => {
      const r = classifyGrpcError({ code, details: 'some details' }, { target });
      assert.equal(r.status, retryable ? 'retryable' : 'failure');
      assert.match(r.error.message, new RegExp(`^${target}: ${name} \\(${code}\\): some details`));
      assert.equal(r.status === 'failure' ? r.tooLarge : undefined, undefined);
      assert.equal(r.status === 'retryable' ? r.retryAfterMs : undefined, undefined);
    });
  }

  it('an unknown code is permanent', () => {
    const r = classifyGrpcError({ code: 42, details: '' }, { target });
    assert.equal(r.status, 'failure');
    assert.match(r.error.message, /\(42\)/);
  });
});

describe('classifyGrpcError: RetryInfo', () => {
  it('RESOURCE_EXHAUSTED with RetryInfo is retryable after its delay', () => {
    const statusDetails = encodeRpcStatus({ code: 8, message: 'throttled', retryDelayMs: 1500 });
    const r = classifyGrpcError({ code: 8, details: 'throttled', statusDetails }, { target });
    assert.equal(r.status, 'retryable');
    assert.equal(r.status === 'retryable' && r.retryAfterMs, 1500);
  });

  it('RESOURCE_EXHAUSTED with a Status but no RetryInfo stays permanent', () => {
    const statusDetails = encodeRpcStatus({ code: 8, message: 'quota' });
    const r = classifyGrpcError({ code: 8, details: 'quota', statusDetails }, { target });
    assert.equal(r.status, 'failure');
    assert.equal(r.status === 'failure' && r.tooLarge, undefined);
  });

  it('RESOURCE_EXHAUSTED with undecodable details stays permanent', () => {
    const r = classifyGrpcError(
      { code: 8, details: 'x', statusDetails: Buffer.from('garbage!') },
      { target },
    );
    assert.equal(r.status, 'failure');
  });

  it('UNAVAILABLE honours RetryInfo too', () => {
    const statusDetails = encodeRpcStatus({ code: 14, message: 'restarting', retryDelayMs: 250 });
    const r = classifyGrpcError({ code: 14, details: 'restarting', statusDetails }, { target });
    assert.deepEqual([r.status, r.status === 'retryable' && r.retryAfterMs], ['retryable', 250]);
  });
});

describe('classifyGrpcError: message too large', () => {
  const cases: [string, number, string][] = [
    ['grpc-go server (the Collector)', 8, 'grpc: received message larger than max (5000000 vs. 4194304)'],
    ['grpc-js server', 8, 'Received message larger than max (5000000 vs 4194304)'],
    [
      'grpc-js server, after decompression',
      8,
      'Received message that decompresses to a size larger than 4194304',
    ],
    ['grpc-js client send limit', 8, 'Attempted to send message with a size larger than 67108864'],
    [
      'grpc-js client send limit (server interceptor wording)',
      8,
      'Sent message larger than max (70000000 vs. 67108864)',
    ],
    ['a proxy answering HTTP 413', 2, 'Received HTTP status code 413'],
  ];
  for (const [label, code, details] of cases) {
    it(`${label} ⇒ failure with tooLarge`, () => {
      const r = classifyGrpcError({ code, details }, { target, responseLimitBytes: 4_195_328 });
      assert.equal(r.status, 'failure');
      assert.equal(r.status === 'failure' && r.tooLarge, true);
    });
  }

  it('even with RetryInfo, a size error is not retried as is', () => {
    const statusDetails = encodeRpcStatus({ code: 8, message: 'x', retryDelayMs: 1000 });
    const r = classifyGrpcError(
      { code: 8, details: 'grpc: received message larger than max (5 vs. 4)', statusDetails },
      { target },
    );
    assert.equal(r.status === 'failure' && r.tooLarge, true);
  });

  it('our own response cap being exceeded: the server answered, so the data was accepted (with a warning)', () => {
    const r = classifyGrpcError(
      { code: 8, details: 'Received message larger than max (9999999 vs 4195328)' },
      { target, responseLimitBytes: 4_195_328 },
    );
    assert.equal(r.status, 'success');
    assert.match(
      r.status === 'success' ? (r.message ?? '') : '',
      /response message is larger than the 4195328-byte cap/,
    );
  });
});

describe('classifyGrpcError: hints', () => {
  it('names TLS for certificate failures', () => {
    const r = classifyGrpcError(
      {
        code: 14,
        details: 'No connection established. Last error: Error: self-signed certificate in certificate chain',
      },
      { target },
    );
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /TLS/);
  });

  it('suggests checking the collector when nothing listens, and drops grpc-js empty resolution notes', () => {
    const r = classifyGrpcError(
      {
        code: 14,
        details:
          'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ',
      },
      { target },
    );
    assert.match(errorOf(r).message, /collector running/);
    assert.doesNotMatch(errorOf(r).message, /Resolution note/);
  });

  it('UNIMPLEMENTED points at the profiles service', () => {
    assert.match(errorOf(classifyGrpcError({ code: 12, details: '' }, { target })).message, /profiles/);
  });
});
