import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collect, feed, harness } from '../../support/json-input-fixtures.js';
import { rowFields } from '../../../src/rows/gadget-row.js';

/** An element nested 200k deep, with a big integer inside (the exact parse recurses on it). */
const DEEP = `${'['.repeat(200_000)}18446744073709551615${']'.repeat(200_000)}`;
const rows = (n: number, from = 1): string[] =>
  Array.from({ length: n }, (_, i) => `{"samples":${from + i},"kern_stack":"f"}`);
const warnings = (h: ReturnType<typeof harness>): string[] =>
  h.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);

describe('JSON input: an element that cannot be read in a line of rows', () => {
  it('a 200k-deep element costs only itself: the other 39 rows are kept, 1 value counted and named', async () => {
    const h = harness();
    feed(h.stdin, `[${[DEEP, ...rows(39)].join(',')}]\n[${rows(2, 100).join(',')}]\n`, 65_536);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.rows.length),
      [39, 2],
    );
    assert.equal(h.counters.get('json_values_malformed'), 1);
    assert.match(
      warnings(h)[0]!,
      /^stdin:1 \(byte 0\): element 1 of the array: .*\(1 of 40 element\(s\) unreadable; the other 39 kept\)/,
    );
  });

  it('each unreadable element is counted; when none is readable the line gives no rows', async () => {
    const h = harness();
    feed(h.stdin, `[${[rows(1)[0], DEEP, DEEP].join(',')}]\n[${[DEEP, DEEP].join(',')}]\n`);
    const { batches } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => b.rows.map(rowFields)),
      [[{ samples: 1, kern_stack: 'f' }]],
    );
    assert.equal(h.counters.get('json_values_malformed'), 4);
    assert.match(
      warnings(h)[0]!,
      /element 2 of the array: .*\(2 of 3 element\(s\) unreadable; the other 1 kept\)/,
    );
    assert.match(
      warnings(h)[1]!,
      /^stdin:2 .*element 1 of the array: .*\(2 of 2 element\(s\) unreadable; none kept\)/,
    );
  });

  it('a line broken after some elements says how many were read and dropped with it', async () => {
    const h = harness();
    feed(h.stdin, `[${rows(3).join(',')},{"samples":4\n[${rows(1, 9).join(',')}]\n`);
    const { batches } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => b.rows.length),
      [1],
    );
    assert.match(
      warnings(h)[0]!,
      /^stdin:1 .*the whole line is dropped, with the 3 element\(s\) read before that/,
    );
  });

  it('--strict stops at the unreadable element, naming it', async () => {
    const h = harness({ strict: true });
    feed(h.stdin, `[${[DEEP, ...rows(39)].join(',')}]\n`);
    const { error } = await collect(h.source);
    assert.match(error?.message ?? '', /stdin:1 \(byte 0\): element 1 of the array: .*strict mode/);
  });
});
