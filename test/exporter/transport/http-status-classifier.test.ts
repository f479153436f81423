import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BODY_SNIPPET_MAX_CHARS,
  classifyHttpErrorResponse,
  classifyHttpNetworkError,
  describeErrorBody,
  parseRetryAfterMs,
  snippetOf,
} from '../../../src/exporter/transport/http-status-classifier.js';
import { encodeRpcStatus } from '../../../src/exporter/transport/rpc-status.js';

const target = 'otlp-http http://collector:4318/v1development/profiles';
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const empty = new Uint8Array(0);

describe('classifyHttpErrorResponse: status codes', () => {
  it('retries exactly 429, 502, 503, 504 among all 4xx/5xx; 413 is tooLarge; the rest permanent', () => {
    for (let statusCode = 400; statusCode <= 599; statusCode++) {
      const r = classifyHttpErrorResponse({ statusCode, body: empty }, { target, nowMs: NOW });
      const expected = [429, 502, 503, 504].includes(statusCode) ? 'retryable' : 'failure';
      assert.equal(r.status, expected, `HTTP ${statusCode}`);
      assert.equal(
        r.status === 'failure' ? r.tooLarge === true : false,
        statusCode === 413,
        `HTTP ${statusCode} tooLarge`,
      );
      assert.match(r.error.message, new RegExp(`^${target.replace(/[/.]/g, '\\$&')}: HTTP ${statusCode}`));
    }
  });

  it('treats unexpected 1xx/3xx codes as permanent', () => {
    for (const statusCode of [100, 301, 302, 304, 307]) {
      assert.equal(
        classifyHttpErrorResponse({ statusCode, body: empty }, { target }).status,
        'failure',
        `HTTP ${statusCode}`,
      );
    }
  });

  it('400 quotes the google.rpc.Status message and is never retried', () => {
    const body = encodeRpcStatus({ code: 3, message: 'dictionary.string_table[0] must be empty' });
    const r = classifyHttpErrorResponse(
      { statusCode: 400, body, contentType: 'application/x-protobuf' },
      { target },
    );
    assert.equal(r.status, 'failure');
    assert.match(r.error.message, /HTTP 400 Bad Request: dictionary\.string_table\[0\] must be empty/);
  });

  it('401/403/404 give an actionable hint', () => {
    assert.match(
      classifyHttpErrorResponse({ statusCode: 401, body: empty }, { target }).error.message,
      /headers/,
    );
    assert.match(
      classifyHttpErrorResponse({ statusCode: 404, body: empty }, { target }).error.message,
      /v1development\/profiles/,
    );
  });
});

describe('classifyHttpErrorResponse: throttling', () => {
  it('429 with Retry-After delay-seconds', () => {
    const r = classifyHttpErrorResponse(
      { statusCode: 429, retryAfter: '7', body: empty },
      { target, nowMs: NOW },
    );
    assert.deepEqual([r.status, r.status === 'retryable' && r.retryAfterMs], ['retryable', 7000]);
  });

  it('503 with Retry-After as an HTTP-date', () => {
    const at = new Date(NOW + 90_000).toUTCString();
    const r = classifyHttpErrorResponse(
      { statusCode: 503, retryAfter: at, body: empty },
      { target, nowMs: NOW },
    );
    assert.deepEqual([r.status, r.status === 'retryable' && r.retryAfterMs], ['retryable', 90_000]);
  });

  it('without Retry-After, a RetryInfo in the Status body gives the delay', () => {
    const body = encodeRpcStatus({ code: 14, message: 'overloaded', retryDelayMs: 4000 });
    const r = classifyHttpErrorResponse(
      { statusCode: 503, body, contentType: 'application/x-protobuf' },
      { target, nowMs: NOW },
    );
    assert.equal(r.status === 'retryable' && r.retryAfterMs, 4000);
    assert.match(r.error.message, /overloaded/);
  });

  it('Retry-After wins over RetryInfo', () => {
    const body = encodeRpcStatus({ code: 14, message: 'x', retryDelayMs: 4000 });
    const r = classifyHttpErrorResponse(
      { statusCode: 429, retryAfter: '1', body, contentType: 'application/x-protobuf' },
      { target, nowMs: NOW },
    );
    assert.equal(r.status === 'retryable' && r.retryAfterMs, 1000);
  });

  it('a retryable code without any hint has no retryAfterMs (the retry loop backs off)', () => {
    const r = classifyHttpErrorResponse({ statusCode: 502, body: empty }, { target, nowMs: NOW });
    assert.equal(r.status, 'retryable');
    assert.equal(r.status === 'retryable' && r.retryAfterMs, undefined);
  });
});

describe('parseRetryAfterMs', () => {
  it('parses delay-seconds and HTTP-dates (RFC 1123, RFC 850, asctime)', () => {
    assert.equal(parseRetryAfterMs('0', NOW), 0);
    assert.equal(parseRetryAfterMs(' 120 ', NOW), 120_000);
    assert.equal(parseRetryAfterMs('Sun, 22 Nov 2026 12:00:30 GMT', NOW), 30_000);
    assert.equal(parseRetryAfterMs('Sunday, 22-Nov-26 12:01:00 GMT', NOW), 60_000);
    assert.equal(parseRetryAfterMs('Sun Nov 22 12:00:05 2026', NOW), 5_000);
  });

  it('a date in the past means now', () => {
    assert.equal(parseRetryAfterMs('Sun, 22 Nov 2026 11:00:00 GMT', NOW), 0);
  });

  it('rejects what is neither', () => {
    for (const v of [undefined, '', '-5', '1.5', 'soon', '2026-11-22', 'Mon, garbage']) {
      assert.equal(parseRetryAfterMs(v, NOW), undefined, String(v));
    }
  });
});

describe('error bodies', () => {
  it('quotes a snippet of a non-OTLP body (HTML from a proxy), at most 200 characters', () => {
    const html = `<html><body><h1>502 Bad Gateway</h1>${'A'.repeat(400)}TAIL</body></html>`;
    const r = classifyHttpErrorResponse(
      { statusCode: 502, body: Buffer.from(html), contentType: 'text/html' },
      { target },
    );
    assert.match(r.error.message, /HTTP 502 Bad Gateway: <html><body><h1>502 Bad Gateway<\/h1>AAAA/);
    assert.doesNotMatch(r.error.message, /TAIL/);
    const snippet = describeErrorBody(Buffer.from(html), 'text/html').message ?? '';
    assert.equal([...snippet].length, BODY_SNIPPET_MAX_CHARS);
  });

  it('quotes a short plain-text body whole, whitespace collapsed', () => {
    assert.equal(
      describeErrorBody(Buffer.from('upstream\n  connect error\n'), 'text/plain').message,
      'upstream connect error',
    );
  });

  it('reads the message of a JSON google.rpc.Status', () => {
    const body = Buffer.from(JSON.stringify({ code: 3, message: 'unknown field' }));
    assert.equal(describeErrorBody(body, 'application/json').message, 'unknown field');
  });

  it('falls back to a snippet when a protobuf-labelled body is not a Status', () => {
    const message =
      describeErrorBody(Buffer.from('not protobuf at all'), 'application/x-protobuf').message ?? '';
    assert.match(message, /not protobuf/);
  });

  it('an empty body adds nothing', () => {
    assert.deepEqual(describeErrorBody(empty, 'text/html'), {});
  });

  it('replaces control bytes so the message stays one printable line', () => {
    assert.equal(snippetOf(Uint8Array.of(0x41, 0x00, 0x01, 0x42, 0x0a, 0x43)), 'A..B C');
  });
});

describe('classifyHttpNetworkError', () => {
  const err = (message: string, code?: string): Error & { code?: string } =>
    Object.assign(new Error(message), { code });

  it('connection failures, resets, hang-ups and timeouts are retryable', () => {
    for (const [message, code] of [
      ['connect ECONNREFUSED 127.0.0.1:4318', 'ECONNREFUSED'],
      ['read ECONNRESET', 'ECONNRESET'],
      ['socket hang up', 'ECONNRESET'],
      ['write EPIPE', 'EPIPE'],
      ['no complete response within 10 ms', 'ETIMEDOUT'],
      ['getaddrinfo EAI_AGAIN collector', 'EAI_AGAIN'],
      ['something odd', undefined],
    ] as const) {
      assert.equal(classifyHttpNetworkError(err(message, code), { target }).status, 'retryable', message);
    }
  });

  it('says TLS for certificate errors', () => {
    for (const code of [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ]) {
      const r = classifyHttpNetworkError(err('verification failed', code), { target });
      assert.equal(r.status, 'retryable');
      assert.match(r.error.message, /TLS/, code);
    }
  });

  it('configuration errors are permanent', () => {
    assert.equal(
      classifyHttpNetworkError(err('Invalid URL', 'ERR_INVALID_URL'), { target }).status,
      'failure',
    );
  });
});
