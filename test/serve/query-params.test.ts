import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseCountParam,
  parseDiffSelection,
  parseSelection,
  parseTimeParam,
  QueryParamError,
} from '../../src/serve/query-params.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

function rejects(fn: () => unknown, param: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof QueryParamError, String(err));
    assert.equal(err.param, param);
    assert.match(err.message, message);
    return true;
  });
}

describe('query parameters', () => {
  it('times: Unix milliseconds and RFC 3339 (offsets, nanosecond fractions) as Unix nanoseconds', () => {
    assert.equal(parseTimeParam('from', '1796637600000'), 1_796_637_600_000_000_000n);
    assert.equal(
      parseTimeParam('from', '2026-12-07T10:00:00Z'),
      BigInt(Date.UTC(2026, 11, 7, 10)) * 1_000_000n,
    );
    assert.equal(
      parseTimeParam('to', '2026-12-07T12:00:00.123456789+02:00'),
      BigInt(Date.UTC(2026, 11, 7, 10)) * 1_000_000n + 123_456_789n,
    );
    assert.equal(parseTimeParam('to', '2026-12-07T10:00:00.5Z') % 1_000_000_000n, 500_000_000n);
  });

  it('a bad time names the parameter and both accepted forms', () => {
    for (const bad of [
      'yesterday',
      '2026-13-01T00:00:00Z',
      '2026-12-07',
      '-5',
      '1.5',
      '2026-12-07T10:00:00',
    ]) {
      rejects(() => parseSelection(q(`from=1&to=${encodeURIComponent(bad)}`)), 'to', /^to=.* is not a time/);
    }
    assert.equal(
      parseSelection(q('from=&to=')).from,
      undefined,
      'an empty value is "not set" (HTML forms send it)',
    );
    rejects(
      () => parseSelection(q('from=noon')),
      'from',
      /from="noon" is not a time; use RFC 3339 .* or Unix milliseconds/,
    );
    rejects(() => parseSelection(q('from=2000&to=1000')), 'from', /from must be before to/);
  });

  it('filters: repeated keys are OR-ed, reserved keys are not filters', () => {
    const sel = parseSelection(
      q(
        'k8s.namespace.name=shop&k8s.namespace.name=db&k8s.node.name=n1&maxNodes=5&limit=3&step=10&function=f&type=samples/count',
      ),
    );
    assert.deepEqual(
      [...sel.filters],
      [
        ['k8s.namespace.name', ['shop', 'db']],
        ['k8s.node.name', ['n1']],
      ],
    );
    assert.equal(sel.type, 'samples/count');
  });

  it('trace and span ids: lowercased hex of the right length, span only with trace', () => {
    const sel = parseSelection(q('traceId=0102030405060708090A0B0C0D0E0F10&spanId=1112131415161718'));
    assert.equal(sel.traceId, '0102030405060708090a0b0c0d0e0f10');
    assert.equal(sel.spanId, '1112131415161718');
    rejects(
      () => parseSelection(q('traceId=abc')),
      'traceId',
      /traceId="abc" is not a trace id; expected 32 hex digits/,
    );
    rejects(() => parseSelection(q('traceId=0102030405060708090a0b0c0d0e0f1g')), 'traceId', /32 hex/);
    rejects(() => parseSelection(q('spanId=1112131415161718')), 'spanId', /spanId needs traceId/);
  });

  it('diff: B is A with each diff.* replacing; diff.KEY= drops the filter; diff.* never leaks into A', () => {
    const params = q(
      'from=1000&to=2000&ns=shop&pod=a&diff.from=3000&diff.to=4000&diff.pod=b&diff.pod=c&diff.ns=',
    );
    const a = parseSelection(params);
    assert.deepEqual(
      [...a.filters],
      [
        ['ns', ['shop']],
        ['pod', ['a']],
      ],
    );
    const b = parseDiffSelection(params, a);
    assert.equal(b.from, 3_000_000_000n);
    assert.equal(b.to, 4_000_000_000n);
    assert.deepEqual([...b.filters], [['pod', ['b', 'c']]]);
    rejects(
      () => parseDiffSelection(q('from=5000&diff.to=4000'), parseSelection(q('from=5000'))),
      'diff.from',
      /diff\.from must be before diff\.to/,
    );
    rejects(
      () => parseDiffSelection(q('diff.from=soon'), parseSelection(q(''))),
      'diff.from',
      /diff\.from="soon"/,
    );
  });

  it('counts: whole numbers within the bound, named when not', () => {
    assert.equal(parseCountParam(q('limit=7'), 'limit', 10), 7);
    assert.equal(parseCountParam(q(''), 'limit', 10), undefined);
    for (const bad of ['0', '-1', '11', 'x', '2.5']) {
      rejects(
        () => parseCountParam(q(`limit=${bad}`), 'limit', 10),
        'limit',
        /expected a whole number from 1 to 10/,
      );
    }
  });
});
